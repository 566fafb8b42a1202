# <tenant>/<user id>; the enrolment code cannot be read back.
terraform import keyward_tenant_member.alice model-owner/6c1e9a52-0d7b-4f3e-a2c8-5b9d0e1f2a3b
