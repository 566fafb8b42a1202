# The secret cannot be read back: after an import, `token` is empty.
terraform import keyward_api_token.ci_sealer 0b5e7c1a-2d3f-4a6b-8c9d-1e2f3a4b5c6d
