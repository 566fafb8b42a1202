package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/keyward/terraform-provider-keyward/internal/client"
)

var (
	_ resource.Resource                = (*keyPolicyResource)(nil)
	_ resource.ResourceWithConfigure   = (*keyPolicyResource)(nil)
	_ resource.ResourceWithImportState = (*keyPolicyResource)(nil)
)

// NewKeyPolicyResource is keyward_key_policy: the binding of a key to its release policy.
func NewKeyPolicyResource() resource.Resource { return &keyPolicyResource{} }

type keyPolicyResource struct{ client *client.Client }

type keyPolicyModel struct {
	ID       types.String `tfsdk:"id"`
	KeyID    types.String `tfsdk:"key_id"`
	PolicyID types.String `tfsdk:"policy_id"`
}

func (r *keyPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_key_policy"
}

func (r *keyPolicyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Binds a key to its release policy (PUT /v1/keys/{id}/policy). A key without a binding is never released. Destroying the resource unbinds the key. When the key's tenant needs a quorum of approvals for (re)binding, apply waits for them up to the provider's approval_timeout.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, Description: "The key's id (one binding per key).", PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"key_id": schema.StringAttribute{
				Required: true, Description: "The key to bind. Changing it replaces the binding.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"policy_id": schema.StringAttribute{Required: true, Description: "The release policy; changing it re-binds the key in place."},
		},
	}
}

func (r *keyPolicyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *keyPolicyResource) bind(ctx context.Context, plan *keyPolicyModel) error {
	policyID := plan.PolicyID.ValueString()
	if err := r.client.BindKeyPolicy(ctx, plan.KeyID.ValueString(), &policyID); err != nil {
		return err
	}
	plan.ID = plan.KeyID
	return nil
}

func (r *keyPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan keyPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.bind(ctx, &plan); err != nil {
		addAPIError(&resp.Diagnostics, "bind the key to the policy", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *keyPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state keyPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	keyID := state.ID.ValueString()
	if keyID == "" {
		keyID = state.KeyID.ValueString()
	}
	k, err := r.client.GetKey(ctx, keyID)
	if client.IsNotFound(err) || (err == nil && (keyGone(k) || k.PolicyID == nil)) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "read the key's binding", err)
		return
	}
	state.ID = types.StringValue(k.ID)
	state.KeyID = types.StringValue(k.ID)
	state.PolicyID = types.StringValue(*k.PolicyID)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *keyPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan keyPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.bind(ctx, &plan); err != nil {
		addAPIError(&resp.Diagnostics, "re-bind the key", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *keyPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state keyPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.client.BindKeyPolicy(ctx, state.KeyID.ValueString(), nil)
	if err == nil || client.IsNotFound(err) || client.IsCode(err, "ERR_KEY_DESTROYED") {
		return
	}
	addAPIError(&resp.Diagnostics, "unbind the key", err)
}

func (r *keyPolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("key_id"), req.ID)...)
}
