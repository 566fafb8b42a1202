// Package provider is the keyward Terraform provider (terraform-plugin-framework): its configuration,
// resources and data sources. One file per resource or data source, each with its test beside it.
package provider

import (
	"context"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/keyward/terraform-provider-keyward/internal/client"
)

// DefaultAddress is keyward's default listen address (`keyward serve`).
const DefaultAddress = "http://127.0.0.1:8750"

// DefaultApprovalTimeout is how long a change needing approvals is waited for by default.
const DefaultApprovalTimeout = 10 * time.Minute

var _ provider.Provider = (*keywardProvider)(nil)

type keywardProvider struct {
	version string
}

type providerModel struct {
	Address         types.String `tfsdk:"address"`
	Token           types.String `tfsdk:"token"`
	ApprovalTimeout types.String `tfsdk:"approval_timeout"`
}

// New returns the provider factory for providerserver.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &keywardProvider{version: version} }
}

func (p *keywardProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "keyward"
	resp.Version = p.version
}

func (p *keywardProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Manage keyward, the attestation-gated key broker: keys, release policies, their bindings, API tokens and tenants.",
		Attributes: map[string]schema.Attribute{
			"address": schema.StringAttribute{
				Optional:    true,
				Description: "keyward's base URL. Default: the KEYWARD_ADDR environment variable, else " + DefaultAddress + ".",
			},
			"token": schema.StringAttribute{
				Optional:    true,
				Sensitive:   true,
				Description: "An API token (kw_...). Default: the KEYWARD_TOKEN environment variable.",
			},
			"approval_timeout": schema.StringAttribute{
				Optional:    true,
				Description: "How long to wait for the approvals a change needs (a quorum of the tenant's owners) before failing with the approval's id, as a Go duration (\"10m\", \"1h\"). Default: 10m.",
				Validators:  []validator.String{durationValidator{}},
			},
		},
	}
}

func (p *keywardProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.Address.IsUnknown() || cfg.Token.IsUnknown() {
		// Known only after apply (e.g. from another resource): resources will be configured later.
		return
	}
	address := firstSet(cfg.Address, os.Getenv("KEYWARD_ADDR"), DefaultAddress)
	token := firstSet(cfg.Token, os.Getenv("KEYWARD_TOKEN"), "")
	if token == "" {
		resp.Diagnostics.AddAttributeError(path.Root("token"), "Missing keyward API token",
			"Set the provider's token attribute or the KEYWARD_TOKEN environment variable to a keyward API token (for example the bootstrap admin token).")
		return
	}
	c, err := client.New(address, token)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("address"), "Invalid keyward address", err.Error())
		return
	}
	c.UserAgent = "terraform-provider-keyward/" + p.version
	c.ApprovalTimeout = DefaultApprovalTimeout
	if !cfg.ApprovalTimeout.IsNull() && cfg.ApprovalTimeout.ValueString() != "" {
		d, _ := time.ParseDuration(cfg.ApprovalTimeout.ValueString())
		c.ApprovalTimeout = d
	}
	resp.ResourceData = c
	resp.DataSourceData = c
}

func firstSet(v types.String, env, fallback string) string {
	if !v.IsNull() && v.ValueString() != "" {
		return v.ValueString()
	}
	if env != "" {
		return env
	}
	return fallback
}

func (p *keywardProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewKeyResource,
		NewPolicyResource,
		NewKeyPolicyResource,
		NewAPITokenResource,
		NewTenantResource,
		NewTenantMemberResource,
	}
}

func (p *keywardProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewKeyDataSource,
		NewPolicyDataSource,
		NewJWKSDataSource,
	}
}
