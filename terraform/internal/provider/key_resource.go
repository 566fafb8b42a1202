package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/keyward/terraform-provider-keyward/internal/client"
)

// DefaultPendingDays is how long a destroyed key waits in pending-destroy before its material is erased.
const DefaultPendingDays = 7

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

var (
	_ resource.Resource                = (*keyResource)(nil)
	_ resource.ResourceWithConfigure   = (*keyResource)(nil)
	_ resource.ResourceWithImportState = (*keyResource)(nil)
)

// NewKeyResource is keyward_key: a key whose material keyward generates and keeps wrapped.
func NewKeyResource() resource.Resource { return &keyResource{} }

type keyResource struct{ client *client.Client }

type keyModel struct {
	ID          types.String `tfsdk:"id"`
	Tenant      types.String `tfsdk:"tenant"`
	Name        types.String `tfsdk:"name"`
	Kind        types.String `tfsdk:"kind"`
	Description types.String `tfsdk:"description"`
	PendingDays types.Int64  `tfsdk:"pending_days"`
	State       types.String `tfsdk:"state"`
	Version     types.Int64  `tfsdk:"version"`
	Origin      types.String `tfsdk:"origin"`
	CreatedAt   types.String `tfsdk:"created_at"`
}

func (r *keyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_key"
}

func (r *keyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		Description: "A keyward key (model weights, dataset or generic). keyward generates 32 bytes of material and keeps them wrapped under its KEK; the material never reaches Terraform. Destroying the resource schedules the key's destruction.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, Description: "The key's id (a UUID).", PlanModifiers: keep},
			"tenant": schema.StringAttribute{
				Optional: true, Computed: true,
				Description:   "The tenant the key belongs to. Sent only when set; the server's default is the token's tenant (`default`). Changing it replaces the key.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplaceIfConfigured()},
			},
			"name": schema.StringAttribute{
				Required:      true,
				Description:   "Unique name: 1–128 letters, digits, `.`, `_`, `-`, starting with a letter or digit. Changing it replaces the key.",
				Validators:    []validator.String{stringvalidator.RegexMatches(nameRE, "must be 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"kind": schema.StringAttribute{
				Required:      true,
				Description:   "`model`, `dataset` or `generic`. Changing it replaces the key.",
				Validators:    []validator.String{stringvalidator.OneOf("model", "dataset", "generic")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"description": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(""),
				Description: "Free text (up to 1024 characters); changed in place.",
				Validators:  []validator.String{stringvalidator.LengthAtMost(1024)},
			},
			"pending_days": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(DefaultPendingDays),
				Description: "Days (7–30) between `terraform destroy` and the erasure of the key's material; the key is refused for release meanwhile and the destruction can be cancelled. Default 7.",
				Validators:  []validator.Int64{int64validator.Between(7, 30)},
			},
			"state":      schema.StringAttribute{Computed: true, Description: "`active` or `disabled`.", PlanModifiers: keep},
			"version":    schema.Int64Attribute{Computed: true, Description: "The newest version (rotation adds one).", PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}},
			"origin":     schema.StringAttribute{Computed: true, Description: "`generated` or `imported`.", PlanModifiers: keep},
			"created_at": schema.StringAttribute{Computed: true, Description: "When the key was created (RFC 3339).", PlanModifiers: keep},
		},
	}
}

func (r *keyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (m *keyModel) fill(k *client.Key) {
	m.ID = types.StringValue(k.ID)
	if k.Tenant != "" {
		m.Tenant = types.StringValue(k.Tenant)
	} else if m.Tenant.IsUnknown() {
		m.Tenant = types.StringNull()
	}
	m.Name = types.StringValue(k.Name)
	m.Kind = types.StringValue(k.Kind)
	m.Description = types.StringValue(k.Description)
	m.State = types.StringValue(k.State)
	m.Version = types.Int64Value(k.Version)
	m.Origin = types.StringValue(k.Origin)
	m.CreatedAt = types.StringValue(k.CreatedAt)
	if m.PendingDays.IsNull() || m.PendingDays.IsUnknown() {
		m.PendingDays = types.Int64Value(DefaultPendingDays)
	}
}

// keyGone is true for keys that no longer exist for Terraform: destroyed, or scheduled for destruction.
func keyGone(k *client.Key) bool {
	return k.State == "destroyed" || k.State == "pending-destroy"
}

func (r *keyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan keyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	k, err := r.client.CreateKey(ctx, client.CreateKeyRequest{
		Tenant:      plan.Tenant.ValueString(),
		Name:        plan.Name.ValueString(),
		Kind:        plan.Kind.ValueString(),
		Description: plan.Description.ValueString(),
	})
	if err != nil {
		addAPIError(&resp.Diagnostics, "create the key", err)
		return
	}
	plan.fill(k)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *keyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state keyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	k, err := r.client.GetKey(ctx, state.ID.ValueString())
	if client.IsNotFound(err) || (err == nil && keyGone(k)) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "read the key", err)
		return
	}
	state.fill(k)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *keyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state keyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var k *client.Key
	var err error
	if !plan.Description.Equal(state.Description) {
		k, err = r.client.UpdateKeyDescription(ctx, state.ID.ValueString(), plan.Description.ValueString())
	} else {
		k, err = r.client.GetKey(ctx, state.ID.ValueString())
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "update the key", err)
		return
	}
	plan.fill(k)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *keyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state keyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	days := state.PendingDays.ValueInt64()
	if state.PendingDays.IsNull() {
		days = DefaultPendingDays
	}
	result, err := r.client.DestroyKey(ctx, state.ID.ValueString(), days)
	if client.IsNotFound(err) || client.IsCode(err, "ERR_KEY_DESTROYED") {
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "schedule the key's destruction", err)
		return
	}
	if !result.Scheduled {
		resp.Diagnostics.AddWarning("keyward destroyed the key at once",
			"This keyward server has no POST /v1/keys/{id}/schedule-destroy, so pending_days could not apply: the key was destroyed with DELETE /v1/keys/{id}, which erases its material immediately (crypto-shredding).")
	}
}

func (r *keyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
