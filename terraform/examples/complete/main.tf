# A model owner's space in keyward: a tenant with its first owner (the platform's part), and a model key,
# a release policy with reference values, the key's binding to that policy, and a CI token that may seal
# files under the key (the owner's part). Run with the bootstrap admin token, the key and policy live in
# `default`, whose owner that token is: keyward refuses a platform admin inside another tenant. The new
# tenant's owner manages its keys with a token of their own (a second `provider "keyward"` block with an
# alias, and `tenant = ...` on the resources).
#
#   export KEYWARD_ADDR=http://127.0.0.1:8750 KEYWARD_TOKEN=<the bootstrap admin token>
#   terraform init && terraform apply
#
# The tenant part needs a keyward with the tenants API (POST /v1/tenants); on an older server run
# `terraform apply -var with_tenant=false` to leave it out.

terraform {
  required_providers {
    keyward = {
      source = "keyward/keyward"
    }
  }
}

provider "keyward" {
  # address and token from KEYWARD_ADDR and KEYWARD_TOKEN.
  approval_timeout = "15m"
}

variable "prefix" {
  description = "Prefix of every name created here."
  type        = string
  default     = "llama"
}

variable "with_tenant" {
  description = "Create a tenant and its first owner (needs keyward's tenants API)."
  type        = bool
  default     = true
}

variable "approved_measurements" {
  description = "SEV-SNP launch measurements (96 hex digits) of the guest images allowed to receive the key."
  type        = list(string)
  default = [
    "27411a5e2e3e62f591c0bb3aea6f35f136d4bb3448749af1a23bf1c8e99c7ee9cfd6fa1b2a61d72b2d141c4474ffbdc1",
  ]
}

resource "keyward_tenant" "model_owner" {
  count  = var.with_tenant ? 1 : 0
  name   = "${var.prefix}-owner"
  quorum = 1
}

resource "keyward_tenant_member" "alice" {
  count  = var.with_tenant ? 1 : 0
  tenant = keyward_tenant.model_owner[0].name
  name   = "Alice (model owner)"
  role   = "owner"
}

resource "keyward_key" "weights" {
  name         = "${var.prefix}-weights"
  kind         = "model"
  description  = "Llama 3.1 70B weights"
  pending_days = 14
}

resource "keyward_policy" "production" {
  name        = "${var.prefix}-production"
  description = "SEV-SNP guests running an approved image, VMPL 0, no debug, AMD root"
  rules = [
    { name = "snp", expr = "cpu.tee == \"snp\"" },
    { name = "vendor-root", expr = "cpu.anchor.source == \"vendor\"" },
    { name = "no-debug", expr = "!cpu.debug && !cpu.policy.debug" },
    { name = "vmpl-0", expr = "cpu.vmpl == 0" },
    { name = "measurement", expr = "cpu.measurement in refs.measurements" },
  ]
  refs = {
    measurements = var.approved_measurements
  }
}

resource "keyward_key_policy" "weights" {
  key_id    = keyward_key.weights.id
  policy_id = keyward_policy.production.id
}

resource "keyward_api_token" "ci_sealer" {
  name       = "${var.prefix}-ci-sealer"
  role       = "owner"
  scopes     = ["keys:read", "keys:datakey"]
  expires_in = "720h"
}

data "keyward_jwks" "attestation" {}

output "key_id" {
  value = keyward_key.weights.id
}

output "policy_version" {
  value = keyward_policy.production.version
}

output "ci_token" {
  description = "For `keyward seal --token` in CI (terraform output -raw ci_token)."
  value       = keyward_api_token.ci_sealer.token
  sensitive   = true
}

output "enrolment_code" {
  description = "Alice registers her passkey with it (single use, 24 h)."
  value       = var.with_tenant ? keyward_tenant_member.alice[0].enrolment_code : null
  sensitive   = true
}

output "attestation_jwks" {
  value = data.keyward_jwks.attestation.json
}
