package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccKeyDataSource(t *testing.T) {
	name := uniqueName("dataset-key")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkKeysScheduledForDestruction,
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
resource "keyward_key" "data" {
  name        = %q
  kind        = "dataset"
  description = "training set"
}

data "keyward_key" "by_id" {
  id = keyward_key.data.id
}

data "keyward_key" "by_name" {
  name       = keyward_key.data.name
  depends_on = [keyward_key.data]
}
`, name),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrPair("data.keyward_key.by_id", "name", "keyward_key.data", "name"),
					resource.TestCheckResourceAttr("data.keyward_key.by_id", "kind", "dataset"),
					resource.TestCheckResourceAttr("data.keyward_key.by_id", "description", "training set"),
					resource.TestCheckResourceAttr("data.keyward_key.by_id", "state", "active"),
					resource.TestCheckResourceAttr("data.keyward_key.by_id", "origin", "generated"),
					resource.TestCheckResourceAttr("data.keyward_key.by_id", "policy_id", ""),
					resource.TestCheckResourceAttrPair("data.keyward_key.by_name", "id", "keyward_key.data", "id"),
				),
			},
			{
				Config:      `data "keyward_key" "missing" { name = "no-such-key-anywhere" }`,
				ExpectError: regexp.MustCompile(`ERR_KEY_NOT_FOUND`),
			},
			{
				Config:      `data "keyward_key" "missing" { id = "00000000-0000-4000-8000-000000000000" }`,
				ExpectError: regexp.MustCompile(`keyward refused to read the key: ERR_KEY_NOT_FOUND`),
			},
		},
	})
}
