data "keyward_key" "weights" {
  name = "llama-3.1-70b-weights"
}

output "weights_policy" {
  value = data.keyward_key.weights.policy_id
}
