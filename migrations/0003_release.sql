-- keyward 0003: attested key release — challenges (nonces), release policies with versions, the policy
-- bound to each key, and the attestation-token signing keys (sealed under the KEK, shared by replicas).

CREATE TABLE nonces (
  nonce_hash   bytea PRIMARY KEY,               -- SHA-256 of the nonce; the nonce itself is not stored
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  consumed_at  timestamptz,
  client       text
);
CREATE INDEX nonces_expiry ON nonces (expires_at);

CREATE TABLE policies (
  id               uuid PRIMARY KEY,
  name             text NOT NULL UNIQUE,
  current_version  integer NOT NULL CHECK (current_version >= 1),
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  deleted_at       timestamptz
);

-- Every version is kept: a release records which version decided it.
CREATE TABLE policy_versions (
  policy_id   uuid NOT NULL REFERENCES policies (id),
  version     integer NOT NULL CHECK (version >= 1),
  document    jsonb NOT NULL,
  source      text,                             -- the YAML/JSON text as submitted, when given as text
  sha256      text NOT NULL,
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL,
  PRIMARY KEY (policy_id, version)
);

ALTER TABLE keys ADD COLUMN policy_id uuid REFERENCES policies (id);
CREATE INDEX keys_policy ON keys (policy_id);

-- Attestation-token signing keys (EdDSA); the private half sealed under the KEK like key material.
CREATE TABLE signing_keys (
  kid             text PRIMARY KEY,
  alg             text NOT NULL,
  public_jwk      jsonb NOT NULL,
  kek_id          text NOT NULL REFERENCES keks (id),
  sealed_private  bytea NOT NULL,
  created_at      timestamptz NOT NULL,
  sign_until      timestamptz NOT NULL,         -- no new tokens after this
  expires_at      timestamptz NOT NULL          -- leaves the JWKS after this (sign_until + token lifetime)
);
