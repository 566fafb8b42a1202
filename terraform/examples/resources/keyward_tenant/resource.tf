resource "keyward_tenant" "model_owner" {
  name   = "model-owner"
  quorum = 2
}
