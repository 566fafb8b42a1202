-- keyward 0004: tenants, people and their roles. Every key and policy belongs to one tenant; what existed
-- before moves to tenant `default`. Users hold a platform role (admin, operator) and/or tenant roles
-- (owner, auditor); API tokens belong to the user who minted them and name one tenant (platform tokens
-- none). The bootstrap admin becomes a user: platform admin and owner of `default`.
-- Runs unchanged on Postgres 15+ and PGlite.

CREATE TABLE tenants (
  name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  quorum      integer NOT NULL DEFAULT 1 CHECK (quorum BETWEEN 1 AND 16),
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL
);
INSERT INTO tenants (name, quorum, created_at, created_by) VALUES ('default', 1, now(), 'system');

CREATE TABLE users (
  id          uuid PRIMARY KEY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL
);
-- The bootstrap admin's identity: the user every token minted before this migration belongs to.
INSERT INTO users (id, name, created_at, created_by) VALUES ('00000000-0000-4000-8000-000000000001', 'bootstrap admin', now(), 'system');

CREATE TABLE platform_members (
  user_id     uuid PRIMARY KEY REFERENCES users (id),
  role        text NOT NULL CHECK (role IN ('admin', 'operator')),
  created_at  timestamptz NOT NULL
);
INSERT INTO platform_members (user_id, role, created_at) VALUES ('00000000-0000-4000-8000-000000000001', 'admin', now());

CREATE TABLE tenant_members (
  tenant      text NOT NULL REFERENCES tenants (name),
  user_id     uuid NOT NULL REFERENCES users (id),
  role        text NOT NULL CHECK (role IN ('owner', 'auditor')),
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL,
  PRIMARY KEY (tenant, user_id)
);
CREATE INDEX tenant_members_user ON tenant_members (user_id);
INSERT INTO tenant_members (tenant, user_id, role, created_at, created_by)
  VALUES ('default', '00000000-0000-4000-8000-000000000001', 'owner', now(), 'system');

-- One-time enrolment codes (invites): only their SHA-256 is stored; single use, expiring, revocable.
CREATE TABLE enrolment_codes (
  code_hash   bytea PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users (id),
  tenant      text REFERENCES tenants (name),     -- null: a platform invite
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX enrolment_codes_user ON enrolment_codes (user_id);

-- WebAuthn credentials (passkeys) of users; several per user.
CREATE TABLE passkeys (
  credential_id  text PRIMARY KEY,                 -- base64url, as WebAuthn names it
  user_id        uuid NOT NULL REFERENCES users (id),
  public_key     bytea NOT NULL,                   -- COSE_Key
  sign_count     bigint NOT NULL DEFAULT 0,
  transports     jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at     timestamptz NOT NULL,
  last_used_at   timestamptz
);
CREATE INDEX passkeys_user ON passkeys (user_id);

ALTER TABLE keys ADD COLUMN tenant text NOT NULL DEFAULT 'default' REFERENCES tenants (name);
ALTER TABLE keys ALTER COLUMN tenant DROP DEFAULT;
ALTER TABLE keys DROP CONSTRAINT keys_name_key;
CREATE UNIQUE INDEX keys_tenant_name ON keys (tenant, name);

ALTER TABLE policies ADD COLUMN tenant text NOT NULL DEFAULT 'default' REFERENCES tenants (name);
ALTER TABLE policies ALTER COLUMN tenant DROP DEFAULT;
ALTER TABLE policies DROP CONSTRAINT policies_name_key;
CREATE UNIQUE INDEX policies_tenant_name ON policies (tenant, name);

ALTER TABLE api_tokens ADD COLUMN user_id uuid REFERENCES users (id);
ALTER TABLE api_tokens ADD COLUMN tenant text REFERENCES tenants (name);
UPDATE api_tokens SET user_id = '00000000-0000-4000-8000-000000000001';
UPDATE api_tokens SET tenant = 'default' WHERE role IN ('owner', 'auditor');
ALTER TABLE api_tokens ALTER COLUMN user_id SET NOT NULL;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_tenant_matches_role
  CHECK ((role IN ('owner', 'auditor')) = (tenant IS NOT NULL));
CREATE INDEX api_tokens_user ON api_tokens (user_id);
