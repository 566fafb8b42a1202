-- keyward 0011: stateless challenges (docs/release.md "Stateless challenges"). POST /v1/challenge writes
-- nothing: the nonce carries its expiry under an HMAC whose key is a KEK-sealed service key shared by the
-- replicas. `nonces` becomes the set of CONSUMED nonces, keyed by SHA-256 of the decoded nonce bytes;
-- a row is inserted when a nonce is used and purged only after its expiry plus the allowed clock skew.
-- Runs unchanged on Postgres 15+ and PGlite.

ALTER TABLE service_keys DROP CONSTRAINT service_keys_purpose_check;
ALTER TABLE service_keys ADD CONSTRAINT service_keys_purpose_check CHECK (purpose IN ('session', 'nonce'));
-- Rows written before this migration are challenges that were issued but maybe never used; stateless
-- nonces are never looked up by an unconsumed row, so they only wait for the purge.
UPDATE nonces SET consumed_at = created_at WHERE consumed_at IS NULL;
ALTER TABLE nonces ALTER COLUMN consumed_at SET NOT NULL;
