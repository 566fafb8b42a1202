-- keyward 0007: scheduled key destruction (AWS KMS style). A key waits in `pending-destroy` (releases
-- refused) until `destroy_after`; cancelling returns it to the state it had; a sweeper erases the material
-- of keys whose window has ended. Runs unchanged on Postgres 15+ and PGlite.

ALTER TABLE keys DROP CONSTRAINT keys_state_check;
ALTER TABLE keys ADD CONSTRAINT keys_state_check CHECK (state IN ('active', 'disabled', 'pending-destroy', 'destroyed'));
ALTER TABLE keys ADD COLUMN destroy_after timestamptz;
ALTER TABLE keys ADD COLUMN state_before_destroy text CHECK (state_before_destroy IN ('active', 'disabled'));
ALTER TABLE keys ADD CONSTRAINT keys_pending_destroy_has_window
  CHECK ((state = 'pending-destroy') = (destroy_after IS NOT NULL AND state_before_destroy IS NOT NULL));
CREATE INDEX keys_destroy_due ON keys (destroy_after) WHERE state = 'pending-destroy';
