-- keyward 0014: per-key BYOK import parameters (AWS KMS style). POST /v1/keys/{id}/import-params issues a
-- single-use import token bound to one key, valid at most 24 h; the import JWE carries it in its protected
-- header, so a captured JWE imports into that key once and nowhere else. Only the token's SHA-256 is stored.
-- Runs unchanged on Postgres 15+ and PGlite.

CREATE TABLE import_tokens (
  token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  key_id      uuid NOT NULL REFERENCES keys (id),
  tenant      text NOT NULL,
  kid         text NOT NULL,                        -- the import key the JWE must be encrypted to
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  CHECK (expires_at > created_at AND expires_at <= created_at + interval '24 hours')
);
CREATE INDEX import_tokens_key ON import_tokens (key_id);
