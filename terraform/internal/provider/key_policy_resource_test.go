package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

func bindingConfig(suffix, bound string) string {
	return fmt.Sprintf(`
resource "keyward_key" "llama" {
  name = "llama-%[1]s"
  kind = "model"
}

resource "keyward_policy" "prod" {
  name  = "prod-%[1]s"
  rules = [{ name = "image", expr = "cpu.measurement in refs.measurements" }]
  refs  = { measurements = [%[3]q] }
}

resource "keyward_policy" "canary" {
  name  = "canary-%[1]s"
  rules = [{ name = "snp", expr = "cpu.tee == \"snp\"" }]
}

resource "keyward_key_policy" "llama" {
  key_id    = keyward_key.llama.id
  policy_id = keyward_policy.%[2]s.id
}
`, suffix, bound, measurementA)
}

func TestAccKeyPolicy_lifecycle(t *testing.T) {
	suffix := randomHex(4)
	var keyID string
	boundTo := func(s *terraform.State, policy string) error {
		keyID = s.RootModule().Resources["keyward_key.llama"].Primary.ID
		want := s.RootModule().Resources["keyward_policy."+policy].Primary.ID
		if got := mustAPI(t, "GET", "/v1/keys/"+keyID, nil)["policyId"]; got != want {
			return fmt.Errorf("key %s is bound to %v, want %s (%s)", keyID, got, want, policy)
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			if err := checkKeysScheduledForDestruction(s); err != nil {
				return err
			}
			return checkPoliciesDeleted(s)
		},
		Steps: []resource.TestStep{
			{
				Config: bindingConfig(suffix, "prod"),
				Check: resource.ComposeTestCheckFunc(
					func(s *terraform.State) error { return boundTo(s, "prod") },
					resource.TestCheckResourceAttrPair("keyward_key_policy.llama", "id", "keyward_key.llama", "id"),
				),
			},
			{
				// Re-binding to another policy is an in-place change of the binding.
				Config: bindingConfig(suffix, "canary"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_key_policy.llama", plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error { return boundTo(s, "canary") },
			},
			{
				ResourceName:      "keyward_key_policy.llama",
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// Someone re-binds the key with the API: the plan binds it back.
				PreConfig: func() {
					_, list := api(t, "GET", "/v1/policies?limit=500", nil)
					for _, item := range list["items"].([]any) {
						if p := item.(map[string]any); p["name"] == "prod-"+suffix {
							mustAPI(t, "PUT", "/v1/keys/"+keyID+"/policy", map[string]any{"policyId": p["id"]})
						}
					}
				},
				Config: bindingConfig(suffix, "canary"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_key_policy.llama", plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error { return boundTo(s, "canary") },
			},
			{
				// Someone unbinds it: the binding leaves the state and is created again.
				PreConfig: func() { mustAPI(t, "PUT", "/v1/keys/"+keyID+"/policy", map[string]any{"policyId": nil}) },
				Config:    bindingConfig(suffix, "canary"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("keyward_key_policy.llama", plancheck.ResourceActionCreate),
				}},
				Check: func(s *terraform.State) error { return boundTo(s, "canary") },
			},
			{
				// Removing the binding unbinds the key (and lets its policy be deleted).
				Config: `
resource "keyward_key" "llama" {
  name = "llama-` + suffix + `"
  kind = "model"
}
`,
				Check: func(s *terraform.State) error {
					if got := mustAPI(t, "GET", "/v1/keys/"+keyID, nil)["policyId"]; got != nil {
						return fmt.Errorf("key %s is still bound to %v", keyID, got)
					}
					return nil
				},
			},
		},
	})
}

// fakeQuorumKeys serves one key whose (re)binding needs approvals: PUT /v1/keys/k1/policy answers 202
// with a pending approval, applied after `approveAfter` polls (never when negative).
func fakeQuorumKeys(t *testing.T, approveAfter int) string {
	var mu sync.Mutex
	var bound any
	var pendingPolicy any
	polls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		approval := func(state string) map[string]any {
			return map[string]any{"id": "ap-7", "operation": "key.bind-policy", "digest": strings.Repeat("cd", 32), "required": 2, "approvedBy": []string{}, "state": state, "expiresAt": "2030-01-01T00:00:00.000Z"}
		}
		switch {
		case r.Method == "GET" && r.URL.Path == "/v1/keys/k1":
			writeJSON(w, 200, map[string]any{"id": "k1", "name": "k", "kind": "model", "state": "active", "policyId": bound})
		case r.Method == "PUT" && r.URL.Path == "/v1/keys/k1/policy":
			var body map[string]any
			_ = json.NewDecoder(r.Body).Decode(&body)
			pendingPolicy, polls = body["policyId"], 0
			writeJSON(w, 202, map[string]any{"approval": approval("pending")})
		case r.Method == "GET" && r.URL.Path == "/v1/approvals/ap-7":
			polls++
			if approveAfter >= 0 && polls > approveAfter {
				bound = pendingPolicy
				writeJSON(w, 200, map[string]any{"approval": approval("applied")})
				return
			}
			writeJSON(w, 200, map[string]any{"approval": approval("pending")})
		default:
			problem(w, 404, "ERR_ROUTE_NOT_FOUND", "No route.")
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const quorumBinding = `
provider "keyward" {
  address          = %q
  token            = "fake-token"
  approval_timeout = %q
}

resource "keyward_key_policy" "llama" {
  key_id    = "k1"
  policy_id = "p1"
}
`

func TestUnitKeyPolicy_waitsForApprovals(t *testing.T) {
	requireTerraform(t)
	url := fakeQuorumKeys(t, 2)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(quorumBinding, url, "1m"),
			Check:  resource.TestCheckResourceAttr("keyward_key_policy.llama", "policy_id", "p1"),
		}},
	})
}

func TestUnitKeyPolicy_failsNamingTheApprovalWhenNotApprovedInTime(t *testing.T) {
	requireTerraform(t)
	url := fakeQuorumKeys(t, -1)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      fmt.Sprintf(quorumBinding, url, "1s"),
			ExpectError: regexp.MustCompile(`(?s)keyward did not bind the key to the policy: approval ap-7 is still pending.*needs approval ap-7.*keyward approval show ap-7`),
		}},
	})
}
