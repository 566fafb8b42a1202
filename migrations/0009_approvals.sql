-- keyward 0006: quorum approvals. A binding pins a policy VERSION (versions are immutable); a sensitive
-- change of a tenant whose quorum is above 1 waits as an approval (the exact change JSON and its digest)
-- until enough distinct owners sign the digest with a passkey; each vote keeps what an auditor needs to
-- re-verify it offline. Runs unchanged on Postgres 15+ and PGlite.

ALTER TABLE keys ADD COLUMN policy_version integer CHECK (policy_version >= 1);
UPDATE keys SET policy_version = p.current_version FROM policies p WHERE p.id = keys.policy_id;
ALTER TABLE keys ADD CONSTRAINT keys_binding_pins_version CHECK ((policy_id IS NULL) = (policy_version IS NULL));

CREATE TABLE approvals (
  id                 uuid PRIMARY KEY,
  tenant             text REFERENCES tenants (name),       -- null: a platform change
  operation          text NOT NULL,
  target             text NOT NULL,
  change             jsonb NOT NULL,                        -- the exact change; digest = SHA-256(JCS(change))
  digest             text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
  required           integer NOT NULL CHECK (required >= 2),
  state              text NOT NULL CHECK (state IN ('pending', 'applied', 'rejected', 'cancelled', 'failed')),
  requested_by       text NOT NULL,
  requested_by_user  uuid REFERENCES users (id),
  created_at         timestamptz NOT NULL,
  expires_at         timestamptz NOT NULL,
  decided_at         timestamptz,
  decided_by         text,
  reason             text
);
CREATE INDEX approvals_pending ON approvals (tenant, state);

CREATE TABLE approval_votes (
  approval_id         uuid NOT NULL REFERENCES approvals (id),
  user_id             uuid NOT NULL REFERENCES users (id),
  randomness          bytea NOT NULL,                       -- the 16 bytes in the challenge
  credential_id       text NOT NULL,
  public_key          bytea NOT NULL,                       -- COSE_Key of the passkey
  authenticator_data  text NOT NULL,                        -- base64url, as signed
  client_data_json    text NOT NULL,                        -- base64url, as signed
  signature           text NOT NULL,                        -- base64url
  at                  timestamptz NOT NULL,
  PRIMARY KEY (approval_id, user_id)
);

ALTER TABLE webauthn_challenges ADD COLUMN randomness bytea;
