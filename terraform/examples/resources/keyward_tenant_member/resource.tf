resource "keyward_tenant_member" "alice" {
  tenant = keyward_tenant.model_owner.name
  name   = "Alice"
  role   = "owner"
}

output "alice_enrolment_code" {
  value     = keyward_tenant_member.alice.enrolment_code
  sensitive = true
}
