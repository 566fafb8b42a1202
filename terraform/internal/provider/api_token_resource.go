package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/keyward/terraform-provider-keyward/internal/client"
)

var (
	_ resource.Resource                = (*apiTokenResource)(nil)
	_ resource.ResourceWithConfigure   = (*apiTokenResource)(nil)
	_ resource.ResourceWithImportState = (*apiTokenResource)(nil)
)

// NewAPITokenResource is keyward_api_token: a scoped, expiring API token for automation.
func NewAPITokenResource() resource.Resource { return &apiTokenResource{} }

type apiTokenResource struct {
	client *client.Client
	now    func() time.Time
}

type apiTokenModel struct {
	ID        types.String `tfsdk:"id"`
	Name      types.String `tfsdk:"name"`
	Role      types.String `tfsdk:"role"`
	Scopes    types.Set    `tfsdk:"scopes"`
	ExpiresIn types.String `tfsdk:"expires_in"`
	Token     types.String `tfsdk:"token"`
	ExpiresAt types.String `tfsdk:"expires_at"`
	CreatedAt types.String `tfsdk:"created_at"`
}

func (r *apiTokenResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_api_token"
}

func (r *apiTokenResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		Description: "An API token for automation. The secret is returned once, kept only in the state's sensitive `token` attribute; every change replaces the token, and destroying it revokes it. A revoked or expired token is removed from the state, so the next apply creates a new one.",
		Attributes: map[string]schema.Attribute{
			"id":   schema.StringAttribute{Computed: true, Description: "The token's id (a UUID).", PlanModifiers: keep},
			"name": schema.StringAttribute{Required: true, Description: "A name for people (1–128 characters).", PlanModifiers: replace, Validators: []validator.String{stringvalidator.LengthBetween(1, 128)}},
			"role": schema.StringAttribute{
				Required: true, PlanModifiers: replace,
				Description: "`admin`, `owner`, `operator` or `auditor`. A token never carries more than the principal that mints it.",
				Validators:  []validator.String{stringvalidator.OneOf("admin", "owner", "operator", "auditor")},
			},
			"scopes": schema.SetAttribute{
				Optional: true, ElementType: types.StringType,
				Description:   "Narrows the role's scopes (e.g. `keys:read`, `keys:datakey`, `policies:write`); never widens them. Unset: all of the role's scopes.",
				PlanModifiers: []planmodifier.Set{setplanmodifier.RequiresReplace()},
			},
			"expires_in": schema.StringAttribute{
				Optional: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIf(lifetimeChanged, "A new lifetime needs a new token.", "A new lifetime needs a new token.")},
				Description: "Lifetime from creation as a Go duration, 1m to 2 years (\"720h\" = 30 days). Unset: the token does not expire.",
				Validators:  []validator.String{durationValidator{}},
			},
			"token":      schema.StringAttribute{Computed: true, Sensitive: true, Description: "The secret (kw_...). Known only to the state that created it (empty after import).", PlanModifiers: keep},
			"expires_at": schema.StringAttribute{Computed: true, Description: "When the token expires (RFC 3339), or empty.", PlanModifiers: keep},
			"created_at": schema.StringAttribute{Computed: true, Description: "When the token was created (RFC 3339).", PlanModifiers: keep},
		},
	}
}

func (r *apiTokenResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
	if r.now == nil {
		r.now = time.Now
	}
}

func (m *apiTokenModel) fill(t *client.Token) {
	m.ID = types.StringValue(t.ID)
	m.Name = types.StringValue(t.Name)
	m.Role = types.StringValue(t.Role)
	if len(t.Scopes) == 0 && m.Scopes.IsNull() {
		m.Scopes = types.SetNull(types.StringType)
	} else {
		elems := make([]attr.Value, 0, len(t.Scopes))
		for _, s := range t.Scopes {
			elems = append(elems, types.StringValue(s))
		}
		m.Scopes = types.SetValueMust(types.StringType, elems)
	}
	m.ExpiresAt = types.StringValue("")
	if t.ExpiresAt != nil {
		m.ExpiresAt = types.StringValue(*t.ExpiresAt)
	}
	m.CreatedAt = types.StringValue(t.CreatedAt)
	if t.Secret != "" {
		m.Token = types.StringValue(t.Secret)
	} else if m.Token.IsUnknown() {
		m.Token = types.StringNull()
	}
}

// lifetimeChanged: a changed expires_in replaces the token, except after an import (the state has no
// expires_in then, and the token's expires_at already says when it ends).
func lifetimeChanged(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
	resp.RequiresReplace = !req.StateValue.IsNull() || req.PlanValue.IsNull()
}

// tokenGone is true for revoked and expired tokens: they authenticate nothing any more.
func tokenGone(t *client.Token, now time.Time) bool {
	if t.RevokedAt != nil {
		return true
	}
	if t.ExpiresAt == nil {
		return false
	}
	at, err := time.Parse(time.RFC3339Nano, *t.ExpiresAt)
	return err == nil && !at.After(now)
}

func (r *apiTokenResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan apiTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	in := client.CreateTokenRequest{Name: plan.Name.ValueString(), Role: plan.Role.ValueString()}
	if !plan.Scopes.IsNull() {
		resp.Diagnostics.Append(plan.Scopes.ElementsAs(ctx, &in.Scopes, false)...)
	}
	if !plan.ExpiresIn.IsNull() {
		d, _ := time.ParseDuration(plan.ExpiresIn.ValueString())
		in.ExpiresInSeconds = int64(d.Seconds())
	}
	if resp.Diagnostics.HasError() {
		return
	}
	t, err := r.client.CreateToken(ctx, in)
	if err != nil {
		addAPIError(&resp.Diagnostics, "create the API token", err)
		return
	}
	plan.fill(t)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *apiTokenResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state apiTokenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	t, err := r.client.GetToken(ctx, state.ID.ValueString())
	if client.IsNotFound(err) || (err == nil && tokenGone(t, r.now())) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "read the API token", err)
		return
	}
	state.fill(t)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update never runs: every attribute replaces the token.
func (r *apiTokenResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan apiTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *apiTokenResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state apiTokenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.client.RevokeToken(ctx, state.ID.ValueString()); err != nil && !client.IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "revoke the API token", err)
	}
}

func (r *apiTokenResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
