-- keyward 0002: collateral (vendor certificates, CRLs, OCSP responses, Intel TCB Info / QE Identity,
-- NVIDIA RIMs, JWK sets) stored once by content hash, a generation counter that tells every replica when
-- its in-memory collateral snapshot is out of date, and the key/value cache of the fetch clients.
-- Runs unchanged on Postgres 15+ and PGlite.

CREATE TABLE collateral_items (
  sha256       bytea PRIMARY KEY CHECK (length(sha256) = 32),   -- SHA-256 of `data`; the item's id
  kind         text NOT NULL CHECK (kind IN ('certificate', 'crl', 'ocsp', 'tcb-info', 'qe-identity', 'rim', 'jwks')),
  label        text NOT NULL CHECK (length(label) <= 512),      -- subject, issuer, FMSPC, RIM id ...
  series       text NOT NULL CHECK (length(series) <= 1024),    -- what this item is a version of (newer replaces older)
  details      jsonb NOT NULL DEFAULT '{}'::jsonb,
  data         bytea NOT NULL,                                  -- DER, or the exact UTF-8 text as served
  valid_from   timestamptz,                                     -- notBefore / thisUpdate / issueDate
  valid_until  timestamptz,                                     -- notAfter / nextUpdate
  source       text NOT NULL CHECK (source IN ('upload', 'kds', 'pcs', 'dir')),
  name         text CHECK (length(name) <= 256),                -- file name given at upload
  uploaded_by  text NOT NULL,
  created_at   timestamptz NOT NULL
);
CREATE INDEX collateral_items_listing ON collateral_items (created_at, sha256);
CREATE INDEX collateral_items_kind ON collateral_items (kind);

CREATE TABLE collateral_state (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  generation  bigint NOT NULL
);
INSERT INTO collateral_state (singleton, generation) VALUES (true, 0);

-- Any change to collateral_items bumps the generation in the same transaction.
CREATE FUNCTION keyward_collateral_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE collateral_state SET generation = generation + 1 WHERE singleton;
  RETURN NULL;
END
$$;
CREATE TRIGGER collateral_items_changed AFTER INSERT OR UPDATE OR DELETE ON collateral_items
  FOR EACH STATEMENT EXECUTE FUNCTION keyward_collateral_changed();

-- What the AMD KDS and Intel PCS/PCCS clients fetched, by their own keys ("amd-kds:/vcek/v1/...", "intel-pcs:v4:...").
CREATE TABLE collateral_cache (
  key         text PRIMARY KEY CHECK (length(key) <= 1024),
  data        bytea NOT NULL,
  fetched_at  timestamptz NOT NULL
);
