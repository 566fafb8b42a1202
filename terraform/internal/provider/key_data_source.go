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
	_ datasource.DataSource                     = (*keyDataSource)(nil)
	_ datasource.DataSourceWithConfigure        = (*keyDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*keyDataSource)(nil)
)

// NewKeyDataSource is data.keyward_key: a key's metadata, by id or by name.
func NewKeyDataSource() datasource.DataSource { return &keyDataSource{} }

type keyDataSource struct{ client *client.Client }

type keyDataModel struct {
	ID          types.String `tfsdk:"id"`
	Tenant      types.String `tfsdk:"tenant"`
	Name        types.String `tfsdk:"name"`
	Kind        types.String `tfsdk:"kind"`
	Description types.String `tfsdk:"description"`
	Labels      types.Map    `tfsdk:"labels"`
	State       types.String `tfsdk:"state"`
	Version     types.Int64  `tfsdk:"version"`
	Origin      types.String `tfsdk:"origin"`
	PolicyID    types.String `tfsdk:"policy_id"`
	CreatedAt   types.String `tfsdk:"created_at"`
}

func (d *keyDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_key"
}

func (d *keyDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A key's metadata (never its material), looked up by `id` or by `name`.",
		Attributes: map[string]schema.Attribute{
			"id":          schema.StringAttribute{Optional: true, Computed: true, Description: "The key's id. Give this or `name`."},
			"name":        schema.StringAttribute{Optional: true, Computed: true, Description: "The key's name. Give this or `id`."},
			"tenant":      schema.StringAttribute{Optional: true, Computed: true, Description: "With `name`: the tenant to look in. Empty on servers without tenants."},
			"kind":        schema.StringAttribute{Computed: true, Description: "`model`, `dataset` or `generic`."},
			"description": schema.StringAttribute{Computed: true, Description: "Free text."},
			"labels":      schema.MapAttribute{Computed: true, ElementType: types.StringType, Description: "Labels."},
			"state":       schema.StringAttribute{Computed: true, Description: "`active`, `disabled`, `pending-destroy` or `destroyed`."},
			"version":     schema.Int64Attribute{Computed: true, Description: "The newest version."},
			"origin":      schema.StringAttribute{Computed: true, Description: "`generated` or `imported`."},
			"policy_id":   schema.StringAttribute{Computed: true, Description: "The bound release policy, or empty."},
			"created_at":  schema.StringAttribute{Computed: true, Description: "When the key was created (RFC 3339)."},
		},
	}
}

func (d *keyDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name"))}
}

func (d *keyDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *keyDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg keyDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var key *client.Key
	if !cfg.ID.IsNull() {
		k, err := d.client.GetKey(ctx, cfg.ID.ValueString())
		if err != nil {
			addAPIError(&resp.Diagnostics, "read the key", err)
			return
		}
		key = k
	} else {
		keys, err := d.client.ListKeys(ctx)
		if err != nil {
			addAPIError(&resp.Diagnostics, "list keys", err)
			return
		}
		for i := range keys {
			if keys[i].Name == cfg.Name.ValueString() && (cfg.Tenant.IsNull() || keys[i].Tenant == cfg.Tenant.ValueString()) {
				key = &keys[i]
				break
			}
		}
		if key == nil {
			resp.Diagnostics.AddAttributeError(path.Root("name"), "keyward has no such key: ERR_KEY_NOT_FOUND", fmt.Sprintf("No key is named %q.", cfg.Name.ValueString()))
			return
		}
	}
	labels, diags := types.MapValueFrom(ctx, types.StringType, key.Labels)
	resp.Diagnostics.Append(diags...)
	policyID := ""
	if key.PolicyID != nil {
		policyID = *key.PolicyID
	}
	out := keyDataModel{
		ID: types.StringValue(key.ID), Tenant: types.StringValue(key.Tenant), Name: types.StringValue(key.Name),
		Kind: types.StringValue(key.Kind), Description: types.StringValue(key.Description), Labels: labels,
		State: types.StringValue(key.State), Version: types.Int64Value(key.Version), Origin: types.StringValue(key.Origin),
		PolicyID: types.StringValue(policyID), CreatedAt: types.StringValue(key.CreatedAt),
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &out)...)
}
