package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/keyward/terraform-provider-keyward/internal/client"
)

// clientFrom takes the configured client out of ProviderData (nil before the provider is configured).
func clientFrom(data any, diags *diag.Diagnostics) *client.Client {
	if data == nil {
		return nil
	}
	c, ok := data.(*client.Client)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("expected *client.Client, got %T", data))
		return nil
	}
	return c
}

// addAPIError turns a client error into a diagnostic whose summary names the server's ERR_* code.
func addAPIError(diags *diag.Diagnostics, action string, err error) {
	diags.AddError(apiErrorSummary(action, err), err.Error())
}

func apiErrorSummary(action string, err error) string {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Code != "" {
		return fmt.Sprintf("keyward refused to %s: %s", action, apiErr.Code)
	}
	var approvalErr *client.ApprovalError
	if errors.As(err, &approvalErr) {
		return fmt.Sprintf("keyward did not %s: approval %s is %s", action, approvalErr.Approval.ID, approvalState(approvalErr))
	}
	return fmt.Sprintf("keyward: could not %s", action)
}

func approvalState(e *client.ApprovalError) string {
	if e.TimedOut {
		return "still pending"
	}
	return e.Approval.State
}

// durationValidator accepts a positive Go duration ("90s", "10m", "1h").
type durationValidator struct{}

var _ validator.String = durationValidator{}

func (durationValidator) Description(context.Context) string {
	return "a positive duration such as 30s, 10m or 720h"
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || d <= 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%q is not a positive duration; write e.g. 30s, 10m or 720h.", req.ConfigValue.ValueString()))
	}
}
