-- keyward 0005: WebAuthn ceremonies and passkey sessions. Challenges are single-use and short-lived,
-- stored so any replica can finish a ceremony another began; sessions are rows a signed cookie names
-- (idle-out, revocation); keyward's own secrets (the session signing key) are sealed under the KEK.
-- Runs unchanged on Postgres 15+ and PGlite.

CREATE TABLE webauthn_challenges (
  challenge            text PRIMARY KEY,            -- base64url, as the client data carries it
  purpose              text NOT NULL CHECK (purpose IN ('register', 'login', 'approval')),
  user_id              uuid REFERENCES users (id),  -- register, approval: whose ceremony; login: null
  enrolment_code_hash  bytea,                       -- register with an enrolment code
  session_id           uuid,                        -- register from a session (adding a passkey)
  approval_id          uuid,                        -- approval: what is being signed
  created_at           timestamptz NOT NULL,
  expires_at           timestamptz NOT NULL,
  consumed_at          timestamptz
);
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (expires_at);

CREATE TABLE sessions (
  id             uuid PRIMARY KEY,
  user_id        uuid NOT NULL REFERENCES users (id),
  credential_id  text NOT NULL,                     -- the passkey that logged in
  csrf_hash      bytea NOT NULL,                    -- SHA-256 of the CSRF token; the token is not stored
  login_at       timestamptz NOT NULL,              -- the user-verified assertion (re-authentication age)
  last_seen_at   timestamptz NOT NULL,              -- idle-out
  revoked_at     timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE service_keys (
  purpose     text PRIMARY KEY CHECK (purpose IN ('session')),
  kek_id      text NOT NULL REFERENCES keks (id),
  sealed      bytea NOT NULL,
  created_at  timestamptz NOT NULL
);
