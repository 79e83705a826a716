-- billing: the double-entry ledger, prices with validity periods, daily rollups and reconciliation runs
-- (docs/adr/0009-billing-ledger.md). Money is exact: bigint nano-USD everywhere.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Prices per provider + model, each valid over [valid_from, valid_to) (valid_to NULL = open). Two prices of the
-- same provider + model never overlap (exclusion constraint). Amounts are nano-USD per million tokens, per request
-- and per image. A price is history: only its valid_to may change (closing it), enforced by a trigger.
CREATE TABLE billing.prices (
  id                          bigserial PRIMARY KEY,
  provider_id                 text NOT NULL,
  model                       text NOT NULL,
  input_nano_per_mtok         bigint NOT NULL DEFAULT 0 CHECK (input_nano_per_mtok >= 0),
  output_nano_per_mtok        bigint NOT NULL DEFAULT 0 CHECK (output_nano_per_mtok >= 0),
  cached_input_nano_per_mtok  bigint CHECK (cached_input_nano_per_mtok IS NULL OR cached_input_nano_per_mtok >= 0),
  per_request_nano            bigint NOT NULL DEFAULT 0 CHECK (per_request_nano >= 0),
  per_image_nano              bigint NOT NULL DEFAULT 0 CHECK (per_image_nano >= 0),
  valid_from                  timestamptz(3) NOT NULL,
  valid_to                    timestamptz(3),
  source                      text NOT NULL CHECK (source IN ('config', 'admin')),
  created_at                  timestamptz(3) NOT NULL DEFAULT now(),
  CHECK (valid_to IS NULL OR valid_to > valid_from),
  CONSTRAINT prices_no_overlap EXCLUDE USING gist (provider_id WITH =, model WITH =, tstzrange(valid_from, valid_to) WITH &&)
);
CREATE INDEX prices_model_idx ON billing.prices(model, valid_from);

CREATE FUNCTION billing.prices_only_close() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'billing.prices is history: close a price (valid_to), never delete it' USING ERRCODE = 'check_violation';
  END IF;
  IF (NEW.provider_id, NEW.model, NEW.input_nano_per_mtok, NEW.output_nano_per_mtok, NEW.cached_input_nano_per_mtok,
      NEW.per_request_nano, NEW.per_image_nano, NEW.valid_from, NEW.source)
     IS DISTINCT FROM
     (OLD.provider_id, OLD.model, OLD.input_nano_per_mtok, OLD.output_nano_per_mtok, OLD.cached_input_nano_per_mtok,
      OLD.per_request_nano, OLD.per_image_nano, OLD.valid_from, OLD.source) THEN
    RAISE EXCEPTION 'billing.prices: only valid_to may change' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER prices_only_close BEFORE UPDATE OR DELETE ON billing.prices FOR EACH ROW EXECUTE FUNCTION billing.prices_only_close();

-- usage records gain: batch or live, the routing story, the saving of a cache hit, and where the cost came from
ALTER TABLE billing.usage_records
  ADD COLUMN mode             text NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'batch')),
  ADD COLUMN routing          jsonb,
  ADD COLUMN saving_nano_usd  bigint NOT NULL DEFAULT 0 CHECK (saving_nano_usd >= 0),
  ADD COLUMN price_id         bigint REFERENCES billing.prices(id);

-- accounts: key:<id> (carries its team), team:<id> (usage without a key), provider:<id>, system:<name>
CREATE TABLE billing.accounts (
  id          text PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('team', 'key', 'provider', 'system')),
  ref         text NOT NULL,
  team_id     text,
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  UNIQUE (kind, ref)
);
CREATE INDEX accounts_team_id_idx ON billing.accounts(team_id);

-- one transaction per usage record (idempotent by request id)
CREATE TABLE billing.ledger_transactions (
  id               bigserial PRIMARY KEY,
  usage_record_id  bigint NOT NULL UNIQUE REFERENCES billing.usage_records(id),
  -- the usage record's request id (unique there; not indexed again here: every index costs the ingest)
  request_id       text NOT NULL,
  occurred_at      timestamptz(3) NOT NULL,
  created_at       timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX ledger_transactions_occurred_at_idx ON billing.ledger_transactions(occurred_at);

CREATE TABLE billing.ledger_entries (
  id               bigserial PRIMARY KEY,
  transaction_id   bigint NOT NULL REFERENCES billing.ledger_transactions(id),
  account_id       text NOT NULL REFERENCES billing.accounts(id),
  amount_nano_usd  bigint NOT NULL,
  created_at       timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_transaction_id_idx ON billing.ledger_entries(transaction_id);
-- no index on account_id: an account's running total is billing.balances; reports by account scan by time

-- balances: the running sum of each account's entries, maintained in the same database transaction as the entries
CREATE TABLE billing.balances (
  account_id        text PRIMARY KEY REFERENCES billing.accounts(id),
  balance_nano_usd  bigint NOT NULL DEFAULT 0,
  entries           bigint NOT NULL DEFAULT 0,
  updated_at        timestamptz(3) NOT NULL DEFAULT now()
);

-- append-only: entries and transactions are never updated or deleted
CREATE FUNCTION billing.ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON billing.ledger_entries
  FOR EACH ROW EXECUTE FUNCTION billing.ledger_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON billing.ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION billing.ledger_append_only();
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON billing.ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION billing.ledger_append_only();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON billing.ledger_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION billing.ledger_append_only();

-- every statement inserting entries: each transaction it touches sums to zero, and all of a transaction's entries
-- come in that one statement (no entry can be added to a transaction later)
CREATE FUNCTION billing.ledger_entries_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad bigint;
BEGIN
  SELECT transaction_id INTO bad FROM new_entries GROUP BY transaction_id HAVING sum(amount_nano_usd) <> 0 LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'ledger transaction % does not sum to zero', bad USING ERRCODE = 'check_violation';
  END IF;
  SELECT n.transaction_id INTO bad
    FROM (SELECT transaction_id, count(*) AS c FROM new_entries GROUP BY transaction_id) n
   WHERE (SELECT count(*) FROM billing.ledger_entries e WHERE e.transaction_id = n.transaction_id) <> n.c
   LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'ledger transaction % already had entries: a transaction is written in one statement', bad USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON billing.ledger_entries
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION billing.ledger_entries_balanced();

-- every statement inserting transactions: each has at least two entries by the end of that statement (the ingest
-- writes a transaction and its entries in one statement; AFTER triggers run once the whole statement is done)
CREATE FUNCTION billing.ledger_transactions_have_entries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad bigint;
BEGIN
  SELECT t.id INTO bad FROM new_transactions t
   WHERE (SELECT count(*) FROM billing.ledger_entries e WHERE e.transaction_id = t.id) < 2
   LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'ledger transaction % has fewer than two entries: write a transaction and its entries in one statement', bad USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER ledger_transactions_have_entries AFTER INSERT ON billing.ledger_transactions
  REFERENCING NEW TABLE AS new_transactions FOR EACH STATEMENT EXECUTE FUNCTION billing.ledger_transactions_have_entries();

-- daily rollup by team / key / model / provider ('' = none), and which days are rolled up and still fresh:
-- the ingest deletes a day's state row when it stores a record of that day, so a stale day is read raw
CREATE TABLE billing.spend_daily (
  day              date NOT NULL,
  team_id          text NOT NULL DEFAULT '',
  key_id           text NOT NULL DEFAULT '',
  model            text NOT NULL DEFAULT '',
  provider_id      text NOT NULL DEFAULT '',
  requests         bigint NOT NULL,
  input_tokens     bigint NOT NULL,
  output_tokens    bigint NOT NULL,
  cached_requests  bigint NOT NULL,
  cost_nano_usd    bigint NOT NULL,
  saving_nano_usd  bigint NOT NULL,
  PRIMARY KEY (day, team_id, key_id, model, provider_id)
);

CREATE TABLE billing.spend_daily_state (
  day           date PRIMARY KEY,
  rows          integer NOT NULL,
  rolled_up_at  timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE billing.reconciliation_runs (
  id           bigserial PRIMARY KEY,
  started_at   timestamptz(3) NOT NULL,
  finished_at  timestamptz(3) NOT NULL DEFAULT now(),
  ok           boolean NOT NULL,
  breaks       integer NOT NULL,
  checks       jsonb NOT NULL
);
