data "keyward_jwks" "attestation" {}

# Hand the set to a relying party that verifies keyward's attestation tokens itself.
resource "local_file" "jwks" {
  filename = "keyward-jwks.json"
  content  = data.keyward_jwks.attestation.json
}
