resource "keyward_api_token" "ci_sealer" {
  name       = "ci-sealer"
  role       = "owner"
  scopes     = ["keys:read", "keys:datakey"]
  expires_in = "720h"
}

output "ci_token" {
  value     = keyward_api_token.ci_sealer.token
  sensitive = true
}
