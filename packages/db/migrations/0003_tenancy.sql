-- Tenancy (issue 5): models per team (a key may use the intersection of its own and its team's), concurrency and
-- per-model rate limits on teams and keys, org updates, and provider credentials encrypted at rest.

ALTER TABLE identity.orgs ADD COLUMN updated_at timestamptz(3) NOT NULL DEFAULT now();

ALTER TABLE identity.teams
  ADD COLUMN models text[] NOT NULL DEFAULT '{}',
  ADD COLUMN max_concurrent integer CHECK (max_concurrent IS NULL OR max_concurrent > 0),
  ADD COLUMN model_limits jsonb NOT NULL DEFAULT '{}';

ALTER TABLE identity.api_keys
  ADD COLUMN max_concurrent integer CHECK (max_concurrent IS NULL OR max_concurrent > 0),
  ADD COLUMN model_limits jsonb NOT NULL DEFAULT '{}';

-- One row per version of a provider's credential: AES-256-GCM (key from GATEWAY_ENCRYPTION_KEY), the 12-byte IV
-- and the 16-byte tag kept beside the ciphertext. The newest version not removed is the active one; older versions
-- stay decryptable until they are removed (rotation without downtime).
CREATE TABLE identity.provider_credentials (
  id           text PRIMARY KEY,
  provider_id  text NOT NULL,
  version      integer NOT NULL CHECK (version > 0),
  ciphertext   bytea NOT NULL,
  iv           bytea NOT NULL CHECK (length(iv) = 12),
  auth_tag     bytea NOT NULL CHECK (length(auth_tag) = 16),
  last4        text NOT NULL,
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  removed_at   timestamptz(3),
  UNIQUE (provider_id, version)
);
