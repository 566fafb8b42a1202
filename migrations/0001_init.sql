-- keyward 0001: key vault, KEKs, API tokens, import keys, hash-chained audit log.
-- Runs unchanged on Postgres 15+ and PGlite. Forward-only: never edit after release; add 0002_...

CREATE TABLE keks (
  id          text PRIMARY KEY,                 -- fingerprint of the KEK, not secret
  uri         text NOT NULL,                    -- provider URI, never with secrets
  state       text NOT NULL CHECK (state IN ('active', 'retiring', 'retired')),
  created_at  timestamptz NOT NULL,
  retired_at  timestamptz
);
CREATE UNIQUE INDEX keks_single_active ON keks ((state)) WHERE state = 'active';

CREATE TABLE keys (
  id               uuid PRIMARY KEY,
  name             text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
  kind             text NOT NULL CHECK (kind IN ('model', 'dataset', 'generic')),
  description      text NOT NULL DEFAULT '',
  labels           jsonb NOT NULL DEFAULT '{}'::jsonb,
  state            text NOT NULL CHECK (state IN ('active', 'disabled', 'destroyed')),
  origin           text NOT NULL CHECK (origin IN ('generated', 'imported')),
  current_version  integer NOT NULL CHECK (current_version >= 1),
  revision         integer NOT NULL DEFAULT 1,  -- bumped on every change; the ETag
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  destroyed_at     timestamptz
);
CREATE INDEX keys_kind ON keys (kind);
CREATE INDEX keys_state ON keys (state);
CREATE INDEX keys_labels ON keys USING gin (labels);

-- One row per key version; material sealed under a KEK with AAD keyward:v1:<keyId>:<version>.
CREATE TABLE key_versions (
  key_id        uuid NOT NULL REFERENCES keys (id),
  version       integer NOT NULL CHECK (version >= 1),
  state         text NOT NULL CHECK (state IN ('active', 'destroyed')),
  kek_id        text REFERENCES keks (id),
  sealed        bytea,
  created_at    timestamptz NOT NULL,
  destroyed_at  timestamptz,
  PRIMARY KEY (key_id, version),
  CONSTRAINT key_versions_material_matches_state
    CHECK ((state = 'destroyed' AND sealed IS NULL AND kek_id IS NULL)
        OR (state = 'active' AND sealed IS NOT NULL AND kek_id IS NOT NULL))
);
CREATE INDEX key_versions_by_kek ON key_versions (kek_id) WHERE kek_id IS NOT NULL;

CREATE TABLE api_tokens (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  token_hash  bytea NOT NULL UNIQUE,            -- SHA-256 of the secret part; the secret is never stored
  role        text NOT NULL CHECK (role IN ('admin', 'operator', 'owner', 'auditor')),
  scopes      jsonb NOT NULL DEFAULT '[]'::jsonb,
  bootstrap   boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL,
  expires_at  timestamptz,
  revoked_at  timestamptz
);

-- BYOK: the private half of each import key, sealed under a KEK like key material.
CREATE TABLE import_keys (
  kid             text PRIMARY KEY,
  alg             text NOT NULL,
  public_jwk      jsonb NOT NULL,
  kek_id          text NOT NULL REFERENCES keks (id),
  sealed_private  bytea NOT NULL,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL
);

-- Append-only audit log. hash = SHA-256(prev_hash || canonical event); audit_head serializes appends.
CREATE TABLE audit_events (
  seq         bigint PRIMARY KEY,
  id          uuid NOT NULL UNIQUE,
  at          timestamptz NOT NULL,
  actor       text NOT NULL,
  action      text NOT NULL,
  target      text,
  outcome     text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
  request_id  text,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb,
  prev_hash   bytea NOT NULL,
  hash        bytea NOT NULL
);
CREATE INDEX audit_events_target ON audit_events (target);
CREATE INDEX audit_events_action ON audit_events (action);

CREATE TABLE audit_head (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq        bigint NOT NULL,
  hash       bytea NOT NULL
);
INSERT INTO audit_head (singleton, seq, hash) VALUES (true, 0, decode(repeat('00', 32), 'hex'));

CREATE FUNCTION keyward_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION keyward_audit_append_only();
