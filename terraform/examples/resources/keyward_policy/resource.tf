resource "keyward_policy" "snp_production" {
  name        = "llama-prod"
  description = "SEV-SNP guests running an approved image"
  rules = [
    { name = "snp", expr = "cpu.tee == \"snp\"" },
    { name = "no-debug", expr = "!cpu.debug && !cpu.policy.debug" },
    { name = "image", expr = "cpu.measurement in refs.measurements" },
  ]
  refs = {
    measurements = [
      "27411a5e2e3e62f591c0bb3aea6f35f136d4bb3448749af1a23bf1c8e99c7ee9cfd6fa1b2a61d72b2d141c4474ffbdc1",
    ]
  }
}
