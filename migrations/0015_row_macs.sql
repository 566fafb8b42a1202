-- keyward 0015: row MACs (docs/threat-model.md "Row MACs"). The database is not trusted with authority: a
-- key's policy binding and every policy version carry an HMAC-SHA-256 under a KEK-sealed service key
-- (purpose 'row-mac'); a row whose MAC does not verify counts as absent and raises an alert.
-- The columns are nullable because SQL cannot use the KEK: rows that exist when this migration runs are
-- MAC'd by keyward itself at its next start, in the same transaction that creates the row-MAC key (once;
-- afterwards a NULL MAC is a mismatch like any other). Runs unchanged on Postgres 15+ and PGlite.

ALTER TABLE service_keys DROP CONSTRAINT service_keys_purpose_check;
ALTER TABLE service_keys ADD CONSTRAINT service_keys_purpose_check CHECK (purpose IN ('session', 'nonce', 'row-mac'));
-- keys.mac covers (id, policy_id, policy_version) only: the binding. An unbound key needs no MAC.
ALTER TABLE keys ADD COLUMN mac bytea;
-- policy_versions.mac covers (policy_id, version, sha256, document).
ALTER TABLE policy_versions ADD COLUMN mac bytea;
