-- keyward 0005: collateral never rolls back. For each versioned collateral series (a TCB Info per TEE and
-- FMSPC, a QE Identity, a CRL per issuer key) the highest version an accepted attestation relied on; the
-- verifiers refuse anything older (ERR_COLLATERAL_ROLLBACK), so deleting the newest item never brings an
-- older, still unexpired one back into force. Raised only, never lowered.

CREATE TABLE collateral_floors (
  series      text PRIMARY KEY CHECK (length(series) <= 256),  -- "tcb-info:TDX:<fmspc>", "qe-identity:TD_QE", "crl:<issuer SPKI SHA-256>"
  number      bigint NOT NULL CHECK (number >= 0),             -- TCB evaluation data number, or cRLNumber
  updated_at  timestamptz NOT NULL
);
