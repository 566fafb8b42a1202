terraform import keyward_policy.snp_production 8d0f2b7e-1c3a-4b5d-9e6f-0a1b2c3d4e5f
