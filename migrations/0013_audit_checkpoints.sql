-- keyward 0013: per-chain audit links and signed audit checkpoints (docs/governance.md "Audit checkpoints").
-- Beside the global chain, every event now also links into the chain of its tenant ('tenant:<name>') or,
-- for events of no tenant, the platform's chain ('platform'):
--   chain_hash = SHA-256(chain_prev_hash || chain_seq as 8-byte big-endian || hash)
-- so one tenant's rows, exported alone, verify alone. audit_chain_heads holds each chain's head; appends
-- still serialize on audit_head only (its row lock is taken first; a chain head is touched after it).
-- Existing rows are linked here, in seq order, so every chain starts at its first event.
-- Checkpoints sign {global head, every chain head} with their own KEK-sealed Ed25519 key.
-- Runs unchanged on Postgres 15+ and PGlite.

-- Blocks appends (they lock this row first) while existing rows are linked.
SELECT seq FROM audit_head WHERE singleton FOR UPDATE;

ALTER TABLE audit_events ADD COLUMN chain text;
ALTER TABLE audit_events ADD COLUMN chain_seq bigint;
ALTER TABLE audit_events ADD COLUMN chain_prev_hash bytea;
ALTER TABLE audit_events ADD COLUMN chain_hash bytea;

CREATE TABLE audit_chain_heads (
  chain          text PRIMARY KEY,   -- 'platform' or 'tenant:<name>'
  seq            bigint NOT NULL,    -- chain_seq of the chain's last event
  hash           bytea NOT NULL,     -- chain_hash of the chain's last event
  prev_hash      bytea NOT NULL,     -- chain_prev_hash of the chain's last event
  last_row_hash  bytea NOT NULL      -- the global hash of the chain's last event
);

ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update;
DO $$
DECLARE
  r record;
  zero bytea := decode(repeat('00', 32), 'hex');
  h record;
  n bigint;
  prev bytea;
BEGIN
  FOR r IN
    SELECT seq, hash,
           CASE WHEN jsonb_typeof(details -> 'tenant') = 'string' THEN 'tenant:' || (details ->> 'tenant') ELSE 'platform' END AS chain
    FROM audit_events ORDER BY seq
  LOOP
    SELECT seq, hash INTO h FROM audit_chain_heads WHERE chain = r.chain;
    IF FOUND THEN n := h.seq + 1; prev := h.hash; ELSE n := 1; prev := zero; END IF;
    UPDATE audit_events
      SET chain = r.chain, chain_seq = n, chain_prev_hash = prev, chain_hash = sha256(prev || int8send(n) || r.hash)
      WHERE seq = r.seq;
    INSERT INTO audit_chain_heads (chain, seq, hash, prev_hash, last_row_hash)
      VALUES (r.chain, n, sha256(prev || int8send(n) || r.hash), prev, r.hash)
      ON CONFLICT (chain) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, prev_hash = EXCLUDED.prev_hash, last_row_hash = EXCLUDED.last_row_hash;
  END LOOP;
END
$$;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update;

-- Why NOT NULL: a replica still running the previous version cannot append an event outside its chain
-- (its insert fails); upgrade every replica together.
ALTER TABLE audit_events ALTER COLUMN chain SET NOT NULL;
ALTER TABLE audit_events ALTER COLUMN chain_seq SET NOT NULL;
ALTER TABLE audit_events ALTER COLUMN chain_prev_hash SET NOT NULL;
ALTER TABLE audit_events ALTER COLUMN chain_hash SET NOT NULL;
CREATE UNIQUE INDEX audit_events_chain ON audit_events (chain, chain_seq);

-- The checkpoint signing key: its own Ed25519 key, the private half sealed under the KEK (AAD
-- `keyward:v1:audit-checkpoint-key:<kid>`); one active at a time, retired keys stay to verify old checkpoints.
CREATE TABLE audit_checkpoint_keys (
  kid             text PRIMARY KEY,
  alg             text NOT NULL CHECK (alg = 'EdDSA'),
  public_jwk      jsonb NOT NULL,
  kek_id          text NOT NULL REFERENCES keks (id),
  sealed_private  bytea NOT NULL,
  state           text NOT NULL CHECK (state IN ('active', 'retired')),
  created_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX audit_checkpoint_keys_one_active ON audit_checkpoint_keys (state) WHERE state = 'active';

-- Signed checkpoints: one per covered global seq (replicas race; the primary key picks one).
CREATE TABLE audit_checkpoints (
  seq        bigint PRIMARY KEY,   -- the global seq whose head it signs
  head       bytea NOT NULL,
  at         timestamptz NOT NULL,
  kid        text NOT NULL REFERENCES audit_checkpoint_keys (kid),
  statement  text NOT NULL,        -- the exact bytes signed: canonical JSON
  signature  bytea NOT NULL,       -- Ed25519 over statement (UTF-8)
  chains     jsonb NOT NULL        -- {"<chain>": {"seq": n, "head": "<hex>"}} for every chain at seq
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION keyward_audit_append_only();
