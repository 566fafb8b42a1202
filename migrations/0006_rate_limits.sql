-- keyward 0004: release budgets shared by every replica (docs/design.md "Rate limits") — fixed-window
-- counters, one row per (tenant, scope, subject, window), and a per-key override of the key's budget.

CREATE TABLE rate_counters (
  tenant_id     text NOT NULL DEFAULT 'default',  -- 'default' until tenants exist
  scope         text NOT NULL,                    -- client | failures | key | tenant | tee
  subject       text NOT NULL,                    -- the address, key id, tenant id or TEE identity counted
  window_start  timestamptz NOT NULL,
  count         integer NOT NULL CHECK (count >= 0),
  PRIMARY KEY (tenant_id, scope, subject, window_start)
);
CREATE INDEX rate_counters_window ON rate_counters (window_start);

-- NULL: the configured default (KEYWARD_KEY_RATE_LIMIT); 0: no per-key budget; N: releases per minute.
ALTER TABLE keys ADD COLUMN rate_limit_per_minute integer CHECK (rate_limit_per_minute >= 0);
