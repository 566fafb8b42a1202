-- keyward 0004: collateral a platform admin trusted explicitly (POST /v1/collateral/{id}/trust). Uploaded
-- JWK sets and certificates are material, never trust: only these columns, set by an admin, let an
-- uploaded signer vouch for attestation tokens (NRAS results). Deleting the item ends the trust.

ALTER TABLE collateral_items ADD COLUMN trusted_by text;
ALTER TABLE collateral_items ADD COLUMN trusted_at timestamptz;
ALTER TABLE collateral_items ADD CONSTRAINT collateral_items_trust_kind
  CHECK (trusted_by IS NULL OR kind IN ('jwks', 'certificate'));
ALTER TABLE collateral_items ADD CONSTRAINT collateral_items_trust_complete
  CHECK ((trusted_by IS NULL) = (trusted_at IS NULL));
