resource "keyward_key" "weights" {
  name         = "llama-3.1-70b-weights"
  kind         = "model"
  description  = "Llama 3.1 70B weights"
  pending_days = 14
}

# In a tenant (keyward with the tenants API):
resource "keyward_key" "training_set" {
  tenant = "data-owner"
  name   = "clinical-notes-2026"
  kind   = "dataset"
}
