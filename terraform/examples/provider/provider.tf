terraform {
  required_providers {
    keyward = {
      source = "keyward/keyward"
    }
  }
}

# address and token default to the KEYWARD_ADDR and KEYWARD_TOKEN environment variables.
provider "keyward" {
  address          = "https://keyward.internal:8750"
  approval_timeout = "15m"
}
