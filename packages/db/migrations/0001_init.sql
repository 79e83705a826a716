-- identity: orgs, teams, virtual keys (owned by the ingress)
CREATE SCHEMA IF NOT EXISTS identity;
CREATE SCHEMA IF NOT EXISTS billing;

CREATE TABLE identity.orgs (
  id          text PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  created_at  timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE identity.teams (
  id               text PRIMARY KEY,
  org_id           text REFERENCES identity.orgs(id),
  name             text NOT NULL UNIQUE,
  budget_nano_usd  bigint CHECK (budget_nano_usd IS NULL OR budget_nano_usd >= 0),
  budget_period    text CHECK (budget_period IN ('daily', 'monthly', 'total')),
  rpm              integer CHECK (rpm IS NULL OR rpm > 0),
  tpm              integer CHECK (tpm IS NULL OR tpm > 0),
  created_at       timestamptz(3) NOT NULL DEFAULT now(),
  updated_at       timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE identity.api_keys (
  id               text PRIMARY KEY,
  team_id          text NOT NULL REFERENCES identity.teams(id),
  name             text NOT NULL,
  key_hash         text NOT NULL UNIQUE,
  key_prefix       text NOT NULL,
  role             text NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin', 'finance')),
  models           text[] NOT NULL DEFAULT '{}',
  rpm              integer CHECK (rpm IS NULL OR rpm > 0),
  tpm              integer CHECK (tpm IS NULL OR tpm > 0),
  budget_nano_usd  bigint CHECK (budget_nano_usd IS NULL OR budget_nano_usd >= 0),
  budget_period    text CHECK (budget_period IN ('daily', 'monthly', 'total')),
  tags             jsonb NOT NULL DEFAULT '{}',
  expires_at       timestamptz(3),
  revoked_at       timestamptz(3),
  created_at       timestamptz(3) NOT NULL DEFAULT now(),
  updated_at       timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_team_id_idx ON identity.api_keys(team_id);

-- billing: usage records (one per request, request id unique) and hourly rollups (owned by billing)
CREATE TABLE billing.usage_records (
  id                   bigserial PRIMARY KEY,
  request_id           text NOT NULL UNIQUE,
  occurred_at          timestamptz(3) NOT NULL,
  org_id               text,
  team_id              text,
  key_id               text,
  end_user             text,
  requested_model      text NOT NULL,
  provider_id          text,
  model                text,
  input_tokens         integer NOT NULL,
  output_tokens        integer NOT NULL,
  cached_input_tokens  integer NOT NULL DEFAULT 0,
  cost_nano_usd        bigint NOT NULL,
  latency_ms           integer NOT NULL,
  cache_status         text NOT NULL CHECK (cache_status IN ('hit', 'miss', 'bypass')),
  status               text NOT NULL CHECK (status IN ('ok', 'error', 'cancelled')),
  error_code           text,
  usage_estimated      boolean NOT NULL DEFAULT false,
  stream               boolean NOT NULL DEFAULT false,
  tags                 jsonb NOT NULL DEFAULT '{}',
  attempts             integer NOT NULL DEFAULT 0,
  created_at           timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX usage_records_occurred_at_idx ON billing.usage_records(occurred_at);
CREATE INDEX usage_records_team_id_occurred_at_idx ON billing.usage_records(team_id, occurred_at);
CREATE INDEX usage_records_key_id_occurred_at_idx ON billing.usage_records(key_id, occurred_at);

CREATE TABLE billing.spend_hourly (
  hour_start       timestamptz(3) NOT NULL,
  team_id          text NOT NULL DEFAULT '',
  key_id           text NOT NULL DEFAULT '',
  model            text NOT NULL DEFAULT '',
  provider_id      text NOT NULL DEFAULT '',
  requests         integer NOT NULL,
  input_tokens     bigint NOT NULL,
  output_tokens    bigint NOT NULL,
  cached_requests  integer NOT NULL,
  cost_nano_usd    bigint NOT NULL,
  updated_at       timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (hour_start, team_id, key_id, model, provider_id)
);
