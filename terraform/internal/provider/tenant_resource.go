package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/keyward/terraform-provider-keyward/internal/client"
)

var (
	_ resource.Resource                = (*tenantResource)(nil)
	_ resource.ResourceWithConfigure   = (*tenantResource)(nil)
	_ resource.ResourceWithImportState = (*tenantResource)(nil)
)

// NewTenantResource is keyward_tenant: a model or data owner's own space of keys and policies.
func NewTenantResource() resource.Resource { return &tenantResource{} }

type tenantResource struct{ client *client.Client }

type tenantModel struct {
	ID     types.String `tfsdk:"id"`
	Name   types.String `tfsdk:"name"`
	Quorum types.Int64  `tfsdk:"quorum"`
}

func (r *tenantResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_tenant"
}

func (r *tenantResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A tenant (POST /v1/tenants; platform admin token). Its owners, once enrolled with passkeys, control everything inside it; the platform admin can then no longer invite members. keyward has no tenant deletion: destroying the resource only forgets it unless the server offers DELETE /v1/tenants/{t}.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, Description: "The tenant's id (its name when the server gives no other id).", PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{
				Required: true, Description: "The tenant's name, used as `tenant` on keys and policies. Changing it replaces the tenant.",
				Validators:    []validator.String{stringvalidator.RegexMatches(nameRE, "must be 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"quorum": schema.Int64Attribute{
				Optional: true, Computed: true,
				Description:   "How many distinct owners must approve a sensitive change (server default 1). Changing it is itself a change under the current quorum.",
				Validators:    []validator.Int64{int64validator.AtLeast(1)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
		},
	}
}

func (r *tenantResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (m *tenantModel) fill(t *client.Tenant) {
	m.ID = types.StringValue(t.Key())
	m.Name = types.StringValue(t.Name)
	m.Quorum = types.Int64Value(max(t.Quorum, 1))
}

func (r *tenantResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan tenantModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	in := client.CreateTenantRequest{Name: plan.Name.ValueString()}
	if !plan.Quorum.IsNull() && !plan.Quorum.IsUnknown() {
		in.Quorum = plan.Quorum.ValueInt64()
	}
	t, err := r.client.CreateTenant(ctx, in)
	if err != nil {
		addAPIError(&resp.Diagnostics, "create the tenant", err)
		return
	}
	plan.fill(t)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *tenantResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state tenantModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	t, err := r.client.GetTenant(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "read the tenant", err)
		return
	}
	state.fill(t)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *tenantResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state tenantModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.Quorum.IsUnknown() && !plan.Quorum.Equal(state.Quorum) {
		if err := r.client.SetTenantQuorum(ctx, state.ID.ValueString(), plan.Quorum.ValueInt64()); err != nil {
			addAPIError(&resp.Diagnostics, "change the tenant's quorum", err)
			return
		}
	}
	t, err := r.client.GetTenant(ctx, state.ID.ValueString())
	if err != nil {
		addAPIError(&resp.Diagnostics, "read the tenant", err)
		return
	}
	plan.fill(t)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *tenantResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state tenantModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.client.DeleteTenant(ctx, state.ID.ValueString())
	switch {
	case err == nil || client.IsNotFound(err):
	case client.IsMissingRoute(err):
		resp.Diagnostics.AddWarning("The tenant stays on the server",
			"This keyward server cannot delete tenants (no DELETE /v1/tenants/{t}); tenant "+state.Name.ValueString()+" was removed from the Terraform state only.")
	default:
		addAPIError(&resp.Diagnostics, "delete the tenant", err)
	}
}

func (r *tenantResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
