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

func keyConfig(name, description string) string {
	return fmt.Sprintf(`
resource "keyward_key" "llama" {
  name        = %q
  kind        = "model"
  description = %q
}
`, name, description)
}

func TestAccKey_lifecycle(t *testing.T) {
	name := uniqueName("llama-weights")
	var keyID string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkKeysScheduledForDestruction,
		Steps: []resource.TestStep{
			{
				Config: keyConfig(name, "70B weights"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("keyward_key.llama", tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f-]{36}$`))),
					statecheck.ExpectKnownValue("keyward_key.llama", tfjsonpath.New("name"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue("keyward_key.llama", tfjsonpath.New("kind"), knownvalue.StringExact("model")),
					statecheck.ExpectKnownValue("keyward_key.llama", tfjsonpath.New("state"), knownvalue.StringExact("active")),
					statecheck.ExpectKnownValue("keyward_key.llama", tfjsonpath.New("version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue("keyward_key.llama", tfjsonpath.New("pending_days"), knownvalue.Int64Exact(7)),
				},
				Check: func(s *terraform.State) error {
					keyID = s.RootModule().Resources["keyward_key.llama"].Primary.ID
					got := mustAPI(t, "GET", "/v1/keys/"+keyID, nil)
					if got["name"] != name || got["description"] != "70B weights" {
						return fmt.Errorf("the server holds %v", got)
					}
					return nil
				},
			},
			{
				// A new description is an in-place update of the same key.
				Config: keyConfig(name, "70B weights, 2026-01 build"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_key.llama", plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					if id := s.RootModule().Resources["keyward_key.llama"].Primary.ID; id != keyID {
						return fmt.Errorf("the key was replaced: %s became %s", keyID, id)
					}
					if got := mustAPI(t, "GET", "/v1/keys/"+keyID, nil)["description"]; got != "70B weights, 2026-01 build" {
						return fmt.Errorf("description on the server: %v", got)
					}
					return nil
				},
			},
			{
				ResourceName:      "keyward_key.llama",
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// Someone changes the description with the API: the plan puts it back.
				PreConfig: func() {
					mustAPI(t, "PATCH", "/v1/keys/"+keyID, map[string]string{"description": "changed by hand"})
				},
				Config: keyConfig(name, "70B weights, 2026-01 build"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_key.llama", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("keyward_key.llama", tfjsonpath.New("description"), knownvalue.StringExact("70B weights, 2026-01 build")),
				}},
			},
			{
				// A changed kind replaces the key (under a new name: a destroyed key's name stays taken).
				Config: `
resource "keyward_key" "llama" {
  name        = "` + name + `-v2"
  kind        = "dataset"
  description = "70B weights, 2026-01 build"
}
`,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_key.llama", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(s *terraform.State) error {
					if state := mustAPI(t, "GET", "/v1/keys/"+keyID, nil)["state"]; state != "pending-destroy" && state != "destroyed" {
						return fmt.Errorf("the replaced key is %v, want it scheduled for destruction", state)
					}
					keyID = s.RootModule().Resources["keyward_key.llama"].Primary.ID
					return nil
				},
			},
			{
				// A key destroyed out of band leaves the state: the plan creates it again.
				PreConfig: func() { mustAPI(t, "DELETE", "/v1/keys/"+keyID, nil) },
				Config:    keyConfig(name+"-v3", "70B weights, 2026-01 build"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_key.llama", plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

func TestAccKey_duplicateNameShowsServerCode(t *testing.T) {
	name := uniqueName("dup")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkKeysScheduledForDestruction,
		Steps: []resource.TestStep{{
			// Bad input fails at plan time, before anything reaches the server.
			Config: `
resource "keyward_key" "bad" {
  name         = "ok-name"
  kind         = "weights"
  pending_days = 3
}
`,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)kind value must be one of.*pending_days value must be between 7 and 30`),
		}, {
			Config: fmt.Sprintf(`
resource "keyward_key" "a" {
  name = %q
  kind = "generic"
}
resource "keyward_key" "b" {
  name       = %q
  kind       = "generic"
  depends_on = [keyward_key.a]
}
`, name, name),
			ExpectError: regexp.MustCompile(`(?s)keyward refused to create the key: ERR_KEY_NAME_TAKEN.*A key with this name already exists`),
		}},
	})
}

// checkKeysScheduledForDestruction: every key the test created is pending-destroy (or destroyed).
func checkKeysScheduledForDestruction(s *terraform.State) error {
	for _, rs := range s.RootModule().Resources {
		if rs.Type != "keyward_key" {
			continue
		}
		status, key := apiNoFail("GET", "/v1/keys/"+rs.Primary.ID)
		if status == 404 {
			continue
		}
		if key["state"] != "pending-destroy" && key["state"] != "destroyed" {
			return fmt.Errorf("key %s is still %v after destroy", rs.Primary.ID, key["state"])
		}
	}
	return nil
}
