package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/keyward/terraform-provider-keyward/internal/client"
)

var (
	_ datasource.DataSource                     = (*policyDataSource)(nil)
	_ datasource.DataSourceWithConfigure        = (*policyDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*policyDataSource)(nil)
)

// NewPolicyDataSource is data.keyward_policy: a release policy's current version, by id or by name.
func NewPolicyDataSource() datasource.DataSource { return &policyDataSource{} }

type policyDataSource struct{ client *client.Client }

func (d *policyDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_policy"
}

func (d *policyDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A release policy's current version, looked up by `id` or by `name`.",
		Attributes: map[string]schema.Attribute{
			"id":          schema.StringAttribute{Optional: true, Computed: true, Description: "The policy's id. Give this or `name`."},
			"name":        schema.StringAttribute{Optional: true, Computed: true, Description: "The policy's name. Give this or `id`."},
			"tenant":      schema.StringAttribute{Optional: true, Computed: true, Description: "With `name`: the tenant to look in. Empty on servers without tenants."},
			"description": schema.StringAttribute{Computed: true, Description: "Free text."},
			"rules": schema.ListNestedAttribute{Computed: true, Description: "The rules.", NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"name": schema.StringAttribute{Computed: true, Description: "The rule's name."},
				"expr": schema.StringAttribute{Computed: true, Description: "Its CEL expression."},
			}}},
			"refs":    schema.MapAttribute{Computed: true, ElementType: types.ListType{ElemType: types.StringType}, Description: "Reference-value sets (lists of strings)."},
			"version": schema.Int64Attribute{Computed: true, Description: "The current version."},
			"sha256":  schema.StringAttribute{Computed: true, Description: "SHA-256 of the current version's canonical document."},
		},
	}
}

func (d *policyDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name"))}
}

func (d *policyDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *policyDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg policyModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var policy *client.Policy
	if !cfg.ID.IsNull() {
		p, err := d.client.GetPolicy(ctx, cfg.ID.ValueString())
		if err != nil {
			addAPIError(&resp.Diagnostics, "read the policy", err)
			return
		}
		policy = p
	} else {
		all, err := d.client.ListPolicies(ctx)
		if err != nil {
			addAPIError(&resp.Diagnostics, "list policies", err)
			return
		}
		for i := range all {
			if all[i].Name == cfg.Name.ValueString() && (cfg.Tenant.IsNull() || all[i].Tenant == cfg.Tenant.ValueString()) {
				policy = &all[i]
				break
			}
		}
		if policy == nil {
			resp.Diagnostics.AddAttributeError(path.Root("name"), "keyward has no such policy: ERR_POLICY_NOT_FOUND", fmt.Sprintf("No policy is named %q.", cfg.Name.ValueString()))
			return
		}
	}
	out := policyModel{Refs: cfg.Refs}
	out.Refs = types.MapValueMust(refsType.ElemType, nil)
	out.fill(policy, &resp.Diagnostics)
	out.Tenant = types.StringValue(policy.Tenant)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &out)...)
}
