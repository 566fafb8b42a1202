package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

const measurementA = "27411a5e2e3e62f591c0bb3aea6f35f136d4bb3448749af1a23bf1c8e99c7ee9cfd6fa1b2a61d72b2d141c4474ffbdc1"
const measurementB = "5de9928cb0fce8ff25c1d325e072f4aba1a253c80973cc10cbc38890a9410d5301736d2dc1ea503c547587939cde6e5c"

func policyConfig(name, description, debugRule string, measurements ...string) string {
	quoted := ""
	for i, m := range measurements {
		if i > 0 {
			quoted += ", "
		}
		quoted += fmt.Sprintf("%q", m)
	}
	return fmt.Sprintf(`
resource "keyward_policy" "llama" {
  name        = %q
  description = %q
  rules = [
    { name = "snp", expr = "cpu.tee == \"snp\"" },
    { name = "no-debug", expr = %q },
    { name = "image", expr = "cpu.measurement in refs.measurements" },
  ]
  refs = {
    measurements = [%s]
  }
}
`, name, description, debugRule, quoted)
}

func TestAccPolicy_lifecycle(t *testing.T) {
	name := uniqueName("llama-prod")
	var policyID string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkPoliciesDeleted,
		Steps: []resource.TestStep{
			{
				Config: policyConfig(name, "SNP guests running the approved image", "!cpu.debug", measurementA),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("keyward_policy.llama", tfjsonpath.New("version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue("keyward_policy.llama", tfjsonpath.New("rules").AtSliceIndex(2).AtMapKey("expr"), knownvalue.StringExact("cpu.measurement in refs.measurements")),
					statecheck.ExpectKnownValue("keyward_policy.llama", tfjsonpath.New("refs").AtMapKey("measurements"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(measurementA)})),
					statecheck.ExpectKnownValue("keyward_policy.llama", tfjsonpath.New("sha256"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{64}$`))),
				},
				Check: func(s *terraform.State) error {
					policyID = s.RootModule().Resources["keyward_policy.llama"].Primary.ID
					doc := mustAPI(t, "GET", "/v1/policies/"+policyID, nil)["document"].(map[string]any)
					if doc["name"] != name || len(doc["rules"].([]any)) != 3 {
						return fmt.Errorf("the server holds %v", doc)
					}
					return nil
				},
			},
			{
				// A changed rule and a new measurement: a new version of the same policy, in place.
				Config: policyConfig(name, "SNP guests running the approved images", "!cpu.debug && !cpu.policy.debug", measurementA, measurementB),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_policy.llama", plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue("keyward_policy.llama", tfjsonpath.New("version")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("keyward_policy.llama", tfjsonpath.New("version"), knownvalue.Int64Exact(2)),
				},
				Check: func(s *terraform.State) error {
					if id := s.RootModule().Resources["keyward_policy.llama"].Primary.ID; id != policyID {
						return fmt.Errorf("the policy was replaced: %s became %s", policyID, id)
					}
					v1 := mustAPI(t, "GET", "/v1/policies/"+policyID+"?version=1", nil)
					if v1["description"] != "SNP guests running the approved image" {
						return fmt.Errorf("version 1 is not kept: %v", v1)
					}
					return nil
				},
			},
			{
				ResourceName:      "keyward_policy.llama",
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// A typo in a claim name fails at plan time with keyward's own type check.
				Config:      policyConfig(name, "SNP guests running the approved images", "!cpu.debgu", measurementA, measurementB),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)keyward refused to accept the policy: ERR_POLICY_TYPE.*rule "no-debug" at 1:\d+`),
			},
			{
				// Someone saves another version with the API: the plan puts the configured one back.
				PreConfig: func() {
					mustAPI(t, "PUT", "/v1/policies/"+policyID, map[string]any{
						"name": name, "description": "loosened by hand",
						"rules": []map[string]string{{"name": "anything", "expr": "true"}},
					})
				},
				Config: policyConfig(name, "SNP guests running the approved images", "!cpu.debug && !cpu.policy.debug", measurementA, measurementB),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_policy.llama", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("keyward_policy.llama", tfjsonpath.New("version"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue("keyward_policy.llama", tfjsonpath.New("rules"), knownvalue.ListSizeExact(3)),
				},
			},
			{
				// While a key is bound to it, the policy cannot be deleted: the error names ERR_POLICY_IN_USE.
				PreConfig: func() {
					key := mustAPI(t, "POST", "/v1/keys", map[string]string{"name": uniqueName("bound"), "kind": "model"})
					mustAPI(t, "PUT", fmt.Sprintf("/v1/keys/%s/policy", key["id"]), map[string]string{"policyId": policyID})
					boundKeyID = key["id"].(string)
				},
				Config:      `# the policy is removed from the configuration`,
				ExpectError: regexp.MustCompile(`(?s)keyward refused to delete the policy: ERR_POLICY_IN_USE.*still\s+bound\s+to\s+keys`),
			},
			{
				PreConfig: func() { mustAPI(t, "PUT", "/v1/keys/"+boundKeyID+"/policy", map[string]any{"policyId": nil}) },
				Config:    `# the policy is removed from the configuration`,
			},
		},
	})
}

var boundKeyID string

func TestAccPolicy_deletedOutOfBandIsCreatedAgain(t *testing.T) {
	name := uniqueName("gone")
	config := policyConfig(name, "", "!cpu.debug", measurementA)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkPoliciesDeleted,
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					_, list := api(t, "GET", "/v1/policies?limit=500", nil)
					for _, item := range list["items"].([]any) {
						if p := item.(map[string]any); p["name"] == name {
							mustAPI(t, "DELETE", "/v1/policies/"+p["id"].(string), nil)
						}
					}
				},
				// The refresh drops it from the state and the plan creates it again (applying that would
				// need a new name: a deleted policy's name stays taken).
				Config:             config,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_policy.llama", plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

func checkPoliciesDeleted(s *terraform.State) error {
	for _, rs := range s.RootModule().Resources {
		if rs.Type != "keyward_policy" {
			continue
		}
		if status, body := apiNoFail("GET", "/v1/policies/"+rs.Primary.ID); status != 404 {
			return fmt.Errorf("policy %s still answers HTTP %d: %v", rs.Primary.ID, status, body)
		}
	}
	return nil
}
