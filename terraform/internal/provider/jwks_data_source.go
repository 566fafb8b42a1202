package provider

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/keyward/terraform-provider-keyward/internal/client"
)

var (
	_ datasource.DataSource              = (*jwksDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*jwksDataSource)(nil)
)

// NewJWKSDataSource is data.keyward_jwks: the public keys that sign keyward's attestation tokens.
func NewJWKSDataSource() datasource.DataSource { return &jwksDataSource{} }

type jwksDataSource struct{ client *client.Client }

type jwkModel struct {
	Kid types.String `tfsdk:"kid"`
	Kty types.String `tfsdk:"kty"`
	Crv types.String `tfsdk:"crv"`
	Alg types.String `tfsdk:"alg"`
	Use types.String `tfsdk:"use"`
	X   types.String `tfsdk:"x"`
}

type jwksModel struct {
	ID   types.String `tfsdk:"id"`
	JSON types.String `tfsdk:"json"`
	Keys []jwkModel   `tfsdk:"keys"`
}

func (d *jwksDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_jwks"
}

func (d *jwksDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, Description: desc}
	}
	resp.Schema = schema.Schema{
		Description: "The JSON Web Key Set (GET /.well-known/jwks.json) that verifies keyward's attestation tokens: hand it to a relying party that checks those tokens itself.",
		Attributes: map[string]schema.Attribute{
			"id":   str("The server address the set was read from."),
			"json": str("The set as the server's JSON text (`{\"keys\": [...]}`)."),
			"keys": schema.ListNestedAttribute{Computed: true, Description: "The keys.", NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"kid": str("Key id (the token header's `kid`)."),
				"kty": str("Key type (`OKP`)."),
				"crv": str("Curve (`Ed25519`)."),
				"alg": str("Algorithm (`EdDSA`)."),
				"use": str("`sig`."),
				"x":   str("The public key, base64url."),
			}}},
		},
	}
}

func (d *jwksDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *jwksDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	raw, err := d.client.JWKS(ctx)
	if err != nil {
		addAPIError(&resp.Diagnostics, "read the JWKS", err)
		return
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		resp.Diagnostics.AddError("keyward's JWKS is not JSON", err.Error())
		return
	}
	out := jwksModel{ID: types.StringValue(d.client.BaseURL()), JSON: types.StringValue(string(raw)), Keys: []jwkModel{}}
	field := func(k map[string]any, name string) types.String {
		s, _ := k[name].(string)
		return types.StringValue(s)
	}
	for _, k := range set.Keys {
		out.Keys = append(out.Keys, jwkModel{Kid: field(k, "kid"), Kty: field(k, "kty"), Crv: field(k, "crv"), Alg: field(k, "alg"), Use: field(k, "use"), X: field(k, "x")})
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &out)...)
}
