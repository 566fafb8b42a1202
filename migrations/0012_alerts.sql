-- keyward 0012: anomaly alerts (docs/operations.md "Anomaly alerts"). The TEE identities each key has been
-- released to (a release to one never seen is an alert), windowed counters of releases per key and denials
-- per TEE identity (bursts over the key's baseline, repeated denials), and a key's optional hold: with
-- alert_hold on, an alert holds the key (releases refused) until an owner lifts it.
-- Runs unchanged on Postgres 15+ and PGlite.

CREATE TABLE release_identities (
  key_id      uuid NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
  identity    text NOT NULL,                 -- snp:<chipId> | tdx:<fmspc>:<pceId> | sgx:... | nitro:<moduleId> | gpu:<deviceId>
  first_seen  timestamptz NOT NULL,
  PRIMARY KEY (key_id, identity)
);

CREATE TABLE alert_counters (
  tenant_id     text NOT NULL,
  scope         text NOT NULL CHECK (scope IN ('releases', 'denials')),
  subject       text NOT NULL,               -- releases: the key id; denials: the TEE identity
  window_start  timestamptz NOT NULL,
  count         integer NOT NULL CHECK (count >= 0),
  PRIMARY KEY (tenant_id, scope, subject, window_start)
);
CREATE INDEX alert_counters_window ON alert_counters (window_start);

ALTER TABLE keys ADD COLUMN alert_hold boolean NOT NULL DEFAULT false;
ALTER TABLE keys ADD COLUMN held_at timestamptz;
ALTER TABLE keys ADD COLUMN held_by text;   -- the alert kind that held the key
ALTER TABLE keys ADD CONSTRAINT keys_held_has_reason CHECK ((held_at IS NULL) = (held_by IS NULL));
