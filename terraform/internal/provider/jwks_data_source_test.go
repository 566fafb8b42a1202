package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccJWKSDataSource(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `
data "keyward_jwks" "tokens" {}

output "first_kid" {
  value = data.keyward_jwks.tokens.keys[0].kid
}
`,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestMatchResourceAttr("data.keyward_jwks.tokens", "keys.#", regexp.MustCompile(`^[1-9]\d*$`)),
				resource.TestCheckResourceAttr("data.keyward_jwks.tokens", "keys.0.kty", "OKP"),
				resource.TestCheckResourceAttr("data.keyward_jwks.tokens", "keys.0.crv", "Ed25519"),
				resource.TestCheckResourceAttr("data.keyward_jwks.tokens", "keys.0.alg", "EdDSA"),
				resource.TestCheckResourceAttr("data.keyward_jwks.tokens", "keys.0.use", "sig"),
				resource.TestMatchResourceAttr("data.keyward_jwks.tokens", "json", regexp.MustCompile(`^\{"keys":\[`)),
				resource.TestMatchOutput("first_kid", regexp.MustCompile(`.+`)),
			),
		}},
	})
}
