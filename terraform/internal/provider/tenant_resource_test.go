package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// skipWithoutTenantsAPI skips a test only while the live server has no tenants API (GET /v1/tenants
// answers 404); once the API exists, the test runs.
func skipWithoutTenantsAPI(t *testing.T) {
	t.Helper()
	testAccPreCheck(t)
	status, body := api(t, "GET", "/v1/tenants", nil)
	if status == 404 {
		t.Skipf("server has no tenants API yet: GET /v1/tenants answered 404 %v", body["code"])
	}
}

func TestAccTenant_lifecycle(t *testing.T) {
	skipWithoutTenantsAPI(t)
	name := uniqueName("acme")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
resource "keyward_tenant" "acme" {
  name = %q
}

# The platform admin creates the tenant and invites its first owner; what lives inside the tenant is the
# owners' to manage (keyward refuses a platform admin there).
resource "keyward_tenant_member" "owner" {
  tenant = keyward_tenant.acme.name
  name   = "owner-%s"
  role   = "owner"
}
`, name, randomHex(4)),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("keyward_tenant.acme", "name", name),
					resource.TestCheckResourceAttr("keyward_tenant.acme", "quorum", "1"),
					resource.TestCheckResourceAttrPair("keyward_tenant_member.owner", "tenant", "keyward_tenant.acme", "name"),
					resource.TestCheckResourceAttrSet("keyward_tenant_member.owner", "enrolment_code"),
				),
			},
			{
				ResourceName:      "keyward_tenant.acme",
				ImportState:       true,
				ImportStateVerify: true,
			},
		},
	})
}

func TestUnitTenant_againstDesignShapes(t *testing.T) {
	requireTerraform(t)
	fake, srv := newFakeTenantsAPI(t)
	config := func(quorum int) string {
		return fakeProvider(srv.URL) + fmt.Sprintf(`
resource "keyward_tenant" "acme" {
  name   = "acme"
  quorum = %d
}
`, quorum)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if _, ok := fake.tenants["acme"]; !ok {
				return fmt.Errorf("the tenant is gone from a server that cannot delete tenants")
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: config(1),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("keyward_tenant.acme", "id", "acme"),
					resource.TestCheckResourceAttr("keyward_tenant.acme", "quorum", "1"),
				),
			},
			{
				Config: config(2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_tenant.acme", plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					if fake.tenants["acme"] != 2 {
						return fmt.Errorf("quorum on the server: %d", fake.tenants["acme"])
					}
					return nil
				},
			},
			{ResourceName: "keyward_tenant.acme", ImportState: true, ImportStateId: "acme", ImportStateVerify: true},
			{
				// Drift: the quorum changed on the server.
				PreConfig: func() { fake.mu.Lock(); fake.tenants["acme"] = 3; fake.mu.Unlock() },
				Config:    config(2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_tenant.acme", plancheck.ResourceActionUpdate),
				}},
			},
		},
	})
}

func TestUnitTenant_duplicateShowsServerCode(t *testing.T) {
	requireTerraform(t)
	fake, srv := newFakeTenantsAPI(t)
	fake.tenants["taken"] = 1
	fake.canDelete = true
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      fakeProvider(srv.URL) + `resource "keyward_tenant" "t" { name = "taken" }`,
			ExpectError: regexp.MustCompile(`keyward refused to create the tenant: ERR_TENANT_NAME_TAKEN`),
		}},
	})
}
