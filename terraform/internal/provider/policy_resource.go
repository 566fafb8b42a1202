package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/keyward/terraform-provider-keyward/internal/client"
)

var (
	_ resource.Resource                = (*policyResource)(nil)
	_ resource.ResourceWithConfigure   = (*policyResource)(nil)
	_ resource.ResourceWithImportState = (*policyResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*policyResource)(nil)
)

// NewPolicyResource is keyward_policy: a release policy of named CEL rules and reference-value sets.
func NewPolicyResource() resource.Resource { return &policyResource{} }

type policyResource struct{ client *client.Client }

type ruleModel struct {
	Name types.String `tfsdk:"name"`
	Expr types.String `tfsdk:"expr"`
}

type policyModel struct {
	ID          types.String `tfsdk:"id"`
	Tenant      types.String `tfsdk:"tenant"`
	Name        types.String `tfsdk:"name"`
	Description types.String `tfsdk:"description"`
	Rules       []ruleModel  `tfsdk:"rules"`
	Refs        types.Map    `tfsdk:"refs"`
	Version     types.Int64  `tfsdk:"version"`
	SHA256      types.String `tfsdk:"sha256"`
}

var refsType = types.MapType{ElemType: types.ListType{ElemType: types.StringType}}

func (r *policyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_policy"
}

func (r *policyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A release policy: named CEL rules over the verified claims (`cpu`, `gpus`, `refs`), all of which must hold, and named reference-value sets. keyward type-checks the rules at plan time (POST /v1/policies/validate), so a typo fails `terraform plan`. Changing the description, rules or refs saves a new policy version in place; earlier versions are kept.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, Description: "The policy's id (a UUID).", PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"tenant": schema.StringAttribute{
				Optional: true, Computed: true,
				Description:   "The tenant the policy belongs to. Sent only when set. Changing it replaces the policy.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplaceIfConfigured()},
			},
			"name": schema.StringAttribute{
				Required:    true,
				Description: "Unique name: letters, digits, `.`, `_`, `-` (up to 128), starting with a letter or digit.",
				Validators:  []validator.String{stringvalidator.RegexMatches(nameRE, "must be 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit")},
			},
			"description": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(""),
				Description: "Free text (up to 2048 characters).",
				Validators:  []validator.String{stringvalidator.LengthAtMost(2048)},
			},
			"rules": schema.ListNestedAttribute{
				Required:    true,
				Description: "1 to 64 rules, all of which must hold for a release.",
				Validators:  []validator.List{listvalidator.SizeBetween(1, 64)},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Required: true, Description: "The rule's name, unique in the policy.", Validators: []validator.String{stringvalidator.LengthBetween(1, 64)}},
					"expr": schema.StringAttribute{Required: true, Description: "A CEL expression over `cpu`, `gpus` and `refs` that must evaluate to true.", Validators: []validator.String{stringvalidator.LengthBetween(1, 4096)}},
				}},
			},
			"refs": schema.MapAttribute{
				Optional:    true,
				ElementType: types.ListType{ElemType: types.StringType},
				Description: "Named reference-value sets the rules read as `refs.<name>` (e.g. approved measurements), each a list of strings.",
			},
			"version": schema.Int64Attribute{Computed: true, Description: "The current version; every in-place change adds one."},
			"sha256":  schema.StringAttribute{Computed: true, Description: "SHA-256 of the current version's canonical document."},
		},
	}
}

func (r *policyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

// document is the API body for the model; ok is false when a value is not known yet. An unknown
// tenant is an unset one (the attribute is computed when not configured): it is not sent.
func (m *policyModel) document(ctx context.Context, diags *diag.Diagnostics) (doc client.PolicyDocument, ok bool) {
	if m.Name.IsUnknown() || m.Description.IsUnknown() || m.Refs.IsUnknown() {
		return doc, false
	}
	doc = client.PolicyDocument{Tenant: m.Tenant.ValueString(), Name: m.Name.ValueString(), Description: m.Description.ValueString(), Rules: []client.Rule{}}
	for _, rule := range m.Rules {
		if rule.Name.IsUnknown() || rule.Expr.IsUnknown() {
			return doc, false
		}
		doc.Rules = append(doc.Rules, client.Rule{Name: rule.Name.ValueString(), Expr: rule.Expr.ValueString()})
	}
	if !m.Refs.IsNull() {
		sets := map[string]types.List{}
		diags.Append(m.Refs.ElementsAs(ctx, &sets, false)...)
		doc.Refs = map[string]json.RawMessage{}
		for name, list := range sets {
			if list.IsUnknown() {
				return doc, false
			}
			values := []string{}
			for _, v := range list.Elements() {
				s, isString := v.(types.String)
				if !isString || s.IsUnknown() {
					return doc, false
				}
				values = append(values, s.ValueString())
			}
			raw, _ := json.Marshal(values)
			doc.Refs[name] = raw
		}
	}
	return doc, !diags.HasError()
}

// fill sets the model from the server's policy. Refs that are not lists of strings cannot be
// represented and are an error (manage such a policy with the API or the CLI).
func (m *policyModel) fill(p *client.Policy, diags *diag.Diagnostics) {
	m.ID = types.StringValue(p.ID)
	if p.Tenant != "" {
		m.Tenant = types.StringValue(p.Tenant)
	} else if m.Tenant.IsUnknown() {
		m.Tenant = types.StringNull()
	}
	m.Name = types.StringValue(p.Name)
	m.Description = types.StringValue(p.Description)
	m.Version = types.Int64Value(p.Version)
	m.SHA256 = types.StringValue(p.SHA256)
	m.Rules = make([]ruleModel, 0, len(p.Document.Rules))
	for _, rule := range p.Document.Rules {
		m.Rules = append(m.Rules, ruleModel{Name: types.StringValue(rule.Name), Expr: types.StringValue(rule.Expr)})
	}
	if len(p.Document.Refs) == 0 && (m.Refs.IsNull() || m.Refs.IsUnknown()) {
		m.Refs = types.MapNull(refsType.ElemType)
		return
	}
	names := make([]string, 0, len(p.Document.Refs))
	for name := range p.Document.Refs {
		names = append(names, name)
	}
	sort.Strings(names)
	elems := map[string]attr.Value{}
	for _, name := range names {
		var values []string
		if err := json.Unmarshal(p.Document.Refs[name], &values); err != nil {
			diags.AddAttributeError(path.Root("refs").AtMapKey(name), "Reference value is not a list of strings",
				fmt.Sprintf("Policy %s has refs.%s = %s; keyward_policy manages reference sets that are lists of strings. Manage this policy with the API or `keyward policy`.", p.ID, name, string(p.Document.Refs[name])))
			return
		}
		list := make([]attr.Value, 0, len(values))
		for _, v := range values {
			list = append(list, types.StringValue(v))
		}
		elems[name] = types.ListValueMust(types.StringType, list)
	}
	refs, d := types.MapValue(refsType.ElemType, elems)
	diags.Append(d...)
	m.Refs = refs
}

// ModifyPlan marks version and sha256 as changing when the document changes, and type-checks the
// planned document with keyward so a typo in a rule fails at plan time with the server's problems.
func (r *policyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan policyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	changed := true
	if !req.State.Raw.IsNull() {
		var state policyModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if resp.Diagnostics.HasError() {
			return
		}
		changed = !samePolicyDocument(ctx, &plan, &state)
		if changed {
			plan.Version = types.Int64Unknown()
			plan.SHA256 = types.StringUnknown()
		} else {
			plan.Version = state.Version
			plan.SHA256 = state.SHA256
		}
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	}
	if !changed || r.client == nil {
		return
	}
	doc, known := plan.document(ctx, &resp.Diagnostics)
	if !known || resp.Diagnostics.HasError() {
		return
	}
	err := r.client.ValidatePolicy(ctx, doc)
	switch {
	case err == nil:
	case client.IsMissingRoute(err):
		// An older keyward without the dry run: the same check runs when the policy is saved.
	default:
		resp.Diagnostics.AddAttributeError(path.Root("rules"), apiErrorSummary("accept the policy", err), err.Error())
	}
}

func samePolicyDocument(ctx context.Context, a, b *policyModel) bool {
	if !a.Name.Equal(b.Name) || !a.Description.Equal(b.Description) || !a.Refs.Equal(b.Refs) || len(a.Rules) != len(b.Rules) {
		return false
	}
	for i := range a.Rules {
		if !a.Rules[i].Name.Equal(b.Rules[i].Name) || !a.Rules[i].Expr.Equal(b.Rules[i].Expr) {
			return false
		}
	}
	return true
}

func (r *policyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan policyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	doc, _ := plan.document(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.client.CreatePolicy(ctx, doc)
	if err != nil {
		addAPIError(&resp.Diagnostics, "create the policy", err)
		return
	}
	plan.fill(p, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *policyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state policyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.client.GetPolicy(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "read the policy", err)
		return
	}
	state.fill(p, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *policyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state policyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	doc, _ := plan.document(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.client.UpdatePolicy(ctx, state.ID.ValueString(), doc)
	if err != nil {
		addAPIError(&resp.Diagnostics, "save a new version of the policy", err)
		return
	}
	plan.fill(p, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *policyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state policyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.client.DeletePolicy(ctx, state.ID.ValueString())
	if err == nil || client.IsNotFound(err) {
		return
	}
	if client.IsCode(err, "ERR_POLICY_IN_USE") {
		resp.Diagnostics.AddError("keyward refused to delete the policy: ERR_POLICY_IN_USE",
			fmt.Sprintf("Policy %s (%s) is still bound to keys; bind them to another policy (keyward_key_policy) or remove their bindings first.\n\n%s",
				state.ID.ValueString(), state.Name.ValueString(), err.Error()))
		return
	}
	addAPIError(&resp.Diagnostics, "delete the policy", err)
}

func (r *policyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
