resource "keyward_key_policy" "weights" {
  key_id    = keyward_key.weights.id
  policy_id = keyward_policy.snp_production.id
}
