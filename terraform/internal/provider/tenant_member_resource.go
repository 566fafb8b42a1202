package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/keyward/terraform-provider-keyward/internal/client"
)

var (
	_ resource.Resource                = (*tenantMemberResource)(nil)
	_ resource.ResourceWithConfigure   = (*tenantMemberResource)(nil)
	_ resource.ResourceWithImportState = (*tenantMemberResource)(nil)
)

// NewTenantMemberResource is keyward_tenant_member: an invited owner or auditor of a tenant.
func NewTenantMemberResource() resource.Resource { return &tenantMemberResource{} }

type tenantMemberResource struct{ client *client.Client }

type tenantMemberModel struct {
	ID            types.String `tfsdk:"id"`
	Tenant        types.String `tfsdk:"tenant"`
	Name          types.String `tfsdk:"name"`
	Role          types.String `tfsdk:"role"`
	UserID        types.String `tfsdk:"user_id"`
	EnrolmentCode types.String `tfsdk:"enrolment_code"`
	ExpiresAt     types.String `tfsdk:"expires_at"`
}

func (r *tenantMemberResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_tenant_member"
}

func (r *tenantMemberResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		Description: "A member of a tenant (POST /v1/tenants/{t}/members). keyward answers with a single-use enrolment code (valid 24 h) with which the person registers a passkey; hand it over out of band. Once the tenant's first owner has enrolled, only its owners (under its quorum) add members.",
		Attributes: map[string]schema.Attribute{
			"id":     schema.StringAttribute{Computed: true, Description: "`<tenant>/<user_id>`; also the import id.", PlanModifiers: keep},
			"tenant": schema.StringAttribute{Required: true, Description: "The tenant's name (or id).", PlanModifiers: replace},
			"name":   schema.StringAttribute{Required: true, Description: "The person's name.", PlanModifiers: replace, Validators: []validator.String{stringvalidator.LengthBetween(1, 128)}},
			"role": schema.StringAttribute{
				Required: true, PlanModifiers: replace,
				Description: "`owner` (keys, policies, members) or `auditor` (read-only). Changing it replaces the member.",
				Validators:  []validator.String{stringvalidator.OneOf("owner", "auditor")},
			},
			"user_id":        schema.StringAttribute{Computed: true, Description: "The member's user id.", PlanModifiers: keep},
			"enrolment_code": schema.StringAttribute{Computed: true, Sensitive: true, Description: "The single-use code to register a passkey with (empty after import).", PlanModifiers: keep},
			"expires_at":     schema.StringAttribute{Computed: true, Description: "When the enrolment code expires (RFC 3339).", PlanModifiers: keep},
		},
	}
}

func (r *tenantMemberResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *tenantMemberResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan tenantMemberModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	invite, err := r.client.InviteMember(ctx, plan.Tenant.ValueString(), plan.Name.ValueString(), plan.Role.ValueString())
	if err != nil {
		addAPIError(&resp.Diagnostics, "add the member", err)
		return
	}
	plan.UserID = types.StringValue(invite.UserID)
	plan.ID = types.StringValue(plan.Tenant.ValueString() + "/" + invite.UserID)
	plan.EnrolmentCode = types.StringValue(invite.EnrolmentCode)
	plan.ExpiresAt = types.StringValue(invite.ExpiresAt)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *tenantMemberResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state tenantMemberModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	members, err := r.client.ListMembers(ctx, state.Tenant.ValueString())
	if client.IsMissingRoute(err) {
		// A server that cannot list members: the state is all there is to go by.
		return
	}
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "read the tenant's members", err)
		return
	}
	for _, m := range members {
		if m.UserID == state.UserID.ValueString() {
			state.Name = types.StringValue(m.Name)
			state.Role = types.StringValue(m.Role)
			if state.EnrolmentCode.IsNull() || state.EnrolmentCode.IsUnknown() {
				state.EnrolmentCode = types.StringValue("")
			}
			if state.ExpiresAt.IsNull() || state.ExpiresAt.IsUnknown() {
				state.ExpiresAt = types.StringValue("")
			}
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
			return
		}
	}
	resp.State.RemoveResource(ctx)
}

// Update never runs: every attribute replaces the member.
func (r *tenantMemberResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan tenantMemberModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *tenantMemberResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state tenantMemberModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.client.RemoveMember(ctx, state.Tenant.ValueString(), state.UserID.ValueString())
	switch {
	case err == nil || client.IsNotFound(err):
	case client.IsMissingRoute(err):
		resp.Diagnostics.AddWarning("The member stays on the server",
			fmt.Sprintf("This keyward server cannot remove members (no DELETE /v1/tenants/{t}/members/{id}); member %s was removed from the Terraform state only.", state.UserID.ValueString()))
	default:
		addAPIError(&resp.Diagnostics, "remove the member", err)
	}
}

func (r *tenantMemberResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	tenant, userID, ok := strings.Cut(req.ID, "/")
	if !ok || tenant == "" || userID == "" {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("Import a tenant member as <tenant>/<user_id>, got %q.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("tenant"), tenant)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("user_id"), userID)...)
}
