-- keyward 0016: row MACs on the people side (docs/threat-model.md "Row MACs"). Tenants (their quorum),
-- platform and tenant memberships (roles), passkeys, enrolment codes, approvals and approval votes carry an
-- HMAC-SHA-256 under the row-MAC key of 0015; a row whose MAC does not verify counts as absent and raises an
-- alert, so whoever can write the database but not use the KEK cannot add an owner, lower a quorum, plant
-- a passkey or an invite, or forge a vote. The columns are nullable because SQL cannot use the KEK: the
-- keyward start that applies this migration MACs the rows that exist, once (afterwards NULL is a mismatch).
-- API tokens get their MAC column here too (covering id, token_hash, role, scopes, tenant, expires_at,
-- user_id, created_by, bootstrap; MAC'd by the 0015 backfill, which runs after every migration of a start).
-- A revoked API token keeps no MAC, so clearing `revoked_at` in the database cannot revive it.
-- Runs unchanged on Postgres 15+ and PGlite.

ALTER TABLE tenants ADD COLUMN mac bytea;
ALTER TABLE platform_members ADD COLUMN mac bytea;
ALTER TABLE tenant_members ADD COLUMN mac bytea;
ALTER TABLE passkeys ADD COLUMN mac bytea;
ALTER TABLE enrolment_codes ADD COLUMN mac bytea;
ALTER TABLE approvals ADD COLUMN mac bytea;
ALTER TABLE approval_votes ADD COLUMN mac bytea;
ALTER TABLE api_tokens ADD COLUMN mac bytea;
