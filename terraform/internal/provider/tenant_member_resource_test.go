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

const memberConfig = `
resource "keyward_tenant" "acme" {
  name = %q
}

resource "keyward_tenant_member" "alice" {
  tenant = keyward_tenant.acme.name
  name   = "Alice Example"
  role   = %q
}
`

func TestAccTenantMember_lifecycle(t *testing.T) {
	skipWithoutTenantsAPI(t)
	tenant := uniqueName("members")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(memberConfig, tenant, "owner"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectSensitiveValue("keyward_tenant_member.alice", tfjsonpath.New("enrolment_code")),
				statecheck.ExpectKnownValue("keyward_tenant_member.alice", tfjsonpath.New("enrolment_code"), knownvalue.StringRegexp(regexp.MustCompile(`.+`))),
				statecheck.ExpectKnownValue("keyward_tenant_member.alice", tfjsonpath.New("role"), knownvalue.StringExact("owner")),
			},
		}},
	})
}

func TestUnitTenantMember_againstDesignShapes(t *testing.T) {
	requireTerraform(t)
	fake, srv := newFakeTenantsAPI(t)
	fake.canDelete = true
	var userID string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if n := len(fake.members["acme"]); n != 0 {
				return fmt.Errorf("%d members left after destroy", n)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: fakeProvider(srv.URL) + `
resource "keyward_tenant_member" "x" {
  tenant = "acme"
  name   = "x"
  role   = "admin"
}
`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`role value must be one of`),
			},
			{
				Config: fakeProvider(srv.URL) + fmt.Sprintf(memberConfig, "acme", "owner"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectSensitiveValue("keyward_tenant_member.alice", tfjsonpath.New("enrolment_code")),
					statecheck.ExpectKnownValue("keyward_tenant_member.alice", tfjsonpath.New("enrolment_code"), knownvalue.StringExact("enrol-1-secret")),
					statecheck.ExpectKnownValue("keyward_tenant_member.alice", tfjsonpath.New("expires_at"), knownvalue.StringExact("2030-01-02T03:04:05.000Z")),
					statecheck.ExpectKnownValue("keyward_tenant_member.alice", tfjsonpath.New("id"), knownvalue.StringExact("acme/00000000-0000-4000-8000-000000000001")),
				},
				Check: func(s *terraform.State) error {
					userID = s.RootModule().Resources["keyward_tenant_member.alice"].Primary.Attributes["user_id"]
					if got := fake.members["acme"][userID]; got != [2]string{"Alice Example", "owner"} {
						return fmt.Errorf("the server holds %v", got)
					}
					return nil
				},
			},
			{
				ResourceName:            "keyward_tenant_member.alice",
				ImportState:             true,
				ImportStateId:           "acme/00000000-0000-4000-8000-000000000001",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"enrolment_code", "expires_at"},
			},
			{
				// A role change replaces the member (a new invitation).
				Config: fakeProvider(srv.URL) + fmt.Sprintf(memberConfig, "acme", "auditor"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_tenant_member.alice", plancheck.ResourceActionDestroyBeforeCreate),
				}},
			},
			{
				// Removed on the server: the plan invites again.
				PreConfig: func() {
					fake.mu.Lock()
					fake.members["acme"] = map[string][2]string{}
					fake.mu.Unlock()
				},
				Config: fakeProvider(srv.URL) + fmt.Sprintf(memberConfig, "acme", "auditor"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_tenant_member.alice", plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}
