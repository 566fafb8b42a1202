package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccPolicyDataSource(t *testing.T) {
	name := uniqueName("tdx-prod")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkPoliciesDeleted,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "keyward_policy" "tdx" {
  name        = %q
  description = "TDX guests, up to date"
  rules = [
    { name = "tdx", expr = "cpu.tee == \"tdx\"" },
    { name = "image", expr = "cpu.mrTd in refs.images" },
  ]
  refs = { images = [%q] }
}

data "keyward_policy" "by_name" {
  name       = keyward_policy.tdx.name
  depends_on = [keyward_policy.tdx]
}

data "keyward_policy" "by_id" {
  id = keyward_policy.tdx.id
}
`, name, measurementB),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttrPair("data.keyward_policy.by_name", "id", "keyward_policy.tdx", "id"),
				resource.TestCheckResourceAttr("data.keyward_policy.by_name", "description", "TDX guests, up to date"),
				resource.TestCheckResourceAttr("data.keyward_policy.by_name", "version", "1"),
				resource.TestCheckResourceAttr("data.keyward_policy.by_name", "rules.#", "2"),
				resource.TestCheckResourceAttr("data.keyward_policy.by_name", "rules.1.expr", "cpu.mrTd in refs.images"),
				resource.TestCheckResourceAttr("data.keyward_policy.by_id", "refs.images.0", measurementB),
				resource.TestCheckResourceAttrPair("data.keyward_policy.by_id", "sha256", "keyward_policy.tdx", "sha256"),
			),
		}},
	})
}
