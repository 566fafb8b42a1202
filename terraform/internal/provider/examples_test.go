package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// TestAccExample_complete applies examples/complete exactly as written (its required_providers names
// keyward/keyward), with the tenant part only when the server has the tenants API.
func TestAccExample_complete(t *testing.T) {
	testAccPreCheck(t)
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "keyward")
	status, _ := api(t, "GET", "/v1/tenants", nil)
	withTenant := status != 404
	resource.Test(t, resource.TestCase{
		CheckDestroy: checkKeysScheduledForDestruction,
		Steps: []resource.TestStep{{
			// At step level: the example's own provider block configures the provider.
			ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
			ConfigDirectory:          config.StaticDirectory("../../examples/complete"),
			ConfigVariables: config.Variables{
				"prefix":      config.StringVariable(uniqueName("example")),
				"with_tenant": config.BoolVariable(withTenant),
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("policy_version", knownvalue.Int64Exact(1)),
				statecheck.ExpectSensitiveValue("keyward_api_token.ci_sealer", tfjsonpath.New("token")),
			},
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttrPair("keyward_key_policy.weights", "policy_id", "keyward_policy.production", "id"),
				resource.TestCheckResourceAttr("keyward_key.weights", "pending_days", "14"),
				resource.TestCheckResourceAttr("keyward_policy.production", "rules.#", "5"),
			),
		}},
	})
}
