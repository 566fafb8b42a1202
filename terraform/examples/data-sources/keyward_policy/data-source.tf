data "keyward_policy" "prod" {
  name = "llama-prod"
}

output "approved_measurements" {
  value = data.keyward_policy.prod.refs["measurements"]
}
