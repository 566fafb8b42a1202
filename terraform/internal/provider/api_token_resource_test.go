package provider

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/keyward/terraform-provider-keyward/internal/client"
)

func tokenConfig(name, scopes string) string {
	return fmt.Sprintf(`
resource "keyward_api_token" "ci" {
  name       = %q
  role       = "owner"
  scopes     = [%s]
  expires_in = "720h"
}
`, name, scopes)
}

func TestAccAPIToken_lifecycle(t *testing.T) {
	name := uniqueName("ci-deploy")
	var tokenID, secret string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			for _, rs := range s.RootModule().Resources {
				if rs.Type == "keyward_api_token" && tokenStatus(rs.Primary.Attributes["token"]) != http.StatusUnauthorized {
					return fmt.Errorf("token %s still authenticates after destroy", rs.Primary.ID)
				}
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: tokenConfig(name, `"keys:read"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectSensitiveValue("keyward_api_token.ci", tfjsonpath.New("token")),
					statecheck.ExpectKnownValue("keyward_api_token.ci", tfjsonpath.New("token"), knownvalue.StringRegexp(regexp.MustCompile(`^kw_[A-Za-z0-9_-]{43}$`))),
					statecheck.ExpectKnownValue("keyward_api_token.ci", tfjsonpath.New("role"), knownvalue.StringExact("owner")),
					statecheck.ExpectKnownValue("keyward_api_token.ci", tfjsonpath.New("expires_at"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-`))),
				},
				Check: func(s *terraform.State) error {
					rs := s.RootModule().Resources["keyward_api_token.ci"].Primary
					tokenID, secret = rs.ID, rs.Attributes["token"]
					// The secret works, and only within its scopes.
					if got := tokenStatus(secret); got != http.StatusOK {
						return fmt.Errorf("GET /v1/keys with the new token: HTTP %d", got)
					}
					c, _ := client.New(liveServer.address, secret)
					if _, err := c.ListPolicies(context.Background()); !client.IsCode(err, "ERR_AUTH_FORBIDDEN") {
						return fmt.Errorf("a keys:read token listed policies: %v", err)
					}
					at, err := time.Parse(time.RFC3339Nano, rs.Attributes["expires_at"])
					if err != nil || at.Sub(time.Now()) < 719*time.Hour || at.Sub(time.Now()) > 721*time.Hour {
						return fmt.Errorf("expires_at %s is not 720h from now", rs.Attributes["expires_at"])
					}
					return nil
				},
			},
			{
				ResourceName:            "keyward_api_token.ci",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"token", "expires_in"},
			},
			{
				// New scopes need a new token: the old one is revoked.
				Config: tokenConfig(name, `"keys:read", "keys:datakey"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_api_token.ci", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(s *terraform.State) error {
					if tokenStatus(secret) != http.StatusUnauthorized {
						return fmt.Errorf("the replaced token still authenticates")
					}
					rs := s.RootModule().Resources["keyward_api_token.ci"].Primary
					tokenID, secret = rs.ID, rs.Attributes["token"]
					return nil
				},
			},
			{
				// A token revoked out of band leaves the state; the plan mints a new one.
				PreConfig: func() { mustAPI(t, "DELETE", "/v1/tokens/"+tokenID, nil) },
				Config:    tokenConfig(name, `"keys:read", "keys:datakey"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_api_token.ci", plancheck.ResourceActionCreate),
				}},
				Check: func(s *terraform.State) error {
					if rs := s.RootModule().Resources["keyward_api_token.ci"].Primary; rs.ID == tokenID || !strings.HasPrefix(rs.Attributes["token"], "kw_") {
						return fmt.Errorf("no new token was minted")
					}
					return nil
				},
			},
		},
	})
}

// tokenStatus is the HTTP status of GET /v1/keys with this bearer token.
func tokenStatus(secret string) int {
	req, _ := http.NewRequest(http.MethodGet, liveServer.address+"/v1/keys?limit=1", nil)
	req.Header.Set("authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}
