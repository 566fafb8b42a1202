// Package client is a small HTTP client for keyward's admin API (openapi.yaml in the repository root):
// JSON requests with a bearer token, problem+json errors carrying the server's ERR_* code, and the
// quorum-approval wait that a 202 answer starts.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one keyward server.
type Client struct {
	baseURL string
	token   string
	http    *http.Client
	// ApprovalTimeout is how long a change that needs approvals is waited for.
	ApprovalTimeout time.Duration
	// ApprovalPollInterval is the longest pause between two polls of a pending approval (the first
	// polls come sooner: 250 ms, doubling up to this).
	ApprovalPollInterval time.Duration
	// UserAgent is sent with every request.
	UserAgent string
}

// New returns a client for the server at address (http(s)://host:port, no trailing path needed).
func New(address, token string) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(address))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("address %q is not an http(s) URL; give e.g. http://127.0.0.1:8750", address)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("address %q must not carry credentials, a query or a fragment", address)
	}
	return &Client{
		baseURL:              strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/"),
		token:                token,
		http:                 &http.Client{Timeout: 60 * time.Second},
		ApprovalTimeout:      10 * time.Minute,
		ApprovalPollInterval: 5 * time.Second,
		UserAgent:            "terraform-provider-keyward",
	}, nil
}

// BaseURL is the normalized server address.
func (c *Client) BaseURL() string { return c.baseURL }

// Problem is one entry of a policy error's `problems` (rule, JSON pointer, position).
type Problem struct {
	Code    string `json:"code"`
	Path    string `json:"path"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

// APIError is an error answer of the server: its HTTP status and problem+json body.
type APIError struct {
	Method    string
	Path      string
	Status    int
	Code      string
	Detail    string
	RequestID string
	Problems  []Problem
	// Extra holds the body's other fields (existingId, keyIds, ...).
	Extra map[string]json.RawMessage
}

func (e *APIError) Error() string {
	var b strings.Builder
	if e.Code != "" {
		fmt.Fprintf(&b, "%s: %s", e.Code, e.Detail)
	} else {
		fmt.Fprintf(&b, "%s %s answered HTTP %d without a keyward error code", e.Method, e.Path, e.Status)
		if e.Detail != "" {
			fmt.Fprintf(&b, ": %s", e.Detail)
		}
	}
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		if p.Rule != "" {
			fmt.Fprintf(&b, "rule %q", p.Rule)
		} else if p.Path != "" {
			b.WriteString(p.Path)
		} else {
			b.WriteString("document")
		}
		if p.Line > 0 {
			fmt.Fprintf(&b, " at %d:%d", p.Line, p.Column)
		}
		fmt.Fprintf(&b, ": %s (%s)", p.Message, p.Code)
	}
	if len(e.Extra) > 0 {
		if ids, ok := e.Extra["keyIds"]; ok {
			fmt.Fprintf(&b, "\nbound keys: %s", string(ids))
		}
		if id, ok := e.Extra["existingId"]; ok {
			fmt.Fprintf(&b, "\nexisting id: %s", string(id))
		}
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, "\n(request id %s)", e.RequestID)
	}
	return b.String()
}

// IsCode reports whether err is an APIError with this ERR_* code.
func IsCode(err error, code string) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Code == code
}

// IsNotFound reports whether err is a 404 about the resource (not about a missing route).
func IsNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound && apiErr.Code != "" && apiErr.Code != "ERR_ROUTE_NOT_FOUND"
}

// IsMissingRoute reports whether the server does not know the route at all (an older keyward).
func IsMissingRoute(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.Status == http.StatusMethodNotAllowed || (apiErr.Status == http.StatusNotFound && (apiErr.Code == "ERR_ROUTE_NOT_FOUND" || apiErr.Code == ""))
}

// Approval is a pending quorum approval (docs/design.md "Admin side").
type Approval struct {
	ID         string            `json:"id"`
	Operation  string            `json:"operation"`
	Digest     string            `json:"digest"`
	Required   int               `json:"required"`
	ApprovedBy []json.RawMessage `json:"approvedBy"`
	State      string            `json:"state"`
	ExpiresAt  string            `json:"expiresAt"`
}

// ApprovalError is a change that was not applied because its approval did not complete.
type ApprovalError struct {
	Approval Approval
	BaseURL  string
	Waited   time.Duration
	// TimedOut is true when the approval was still pending after the wait.
	TimedOut bool
}

func (e *ApprovalError) Error() string {
	a := e.Approval
	if e.TimedOut {
		return fmt.Sprintf(
			"the change needs approval %s (%s, %d of %d approvals, expires %s) and was not approved within %s.\n"+
				"Approve it with a passkey in the console at %s/console/ (inspect it with `keyward approval show %s`), then run terraform apply again.",
			a.ID, a.Operation, len(a.ApprovedBy), a.Required, a.ExpiresAt, e.Waited, e.BaseURL, a.ID)
	}
	return fmt.Sprintf("approval %s (%s) ended in state %q: the change was not applied (`keyward approval show %s` tells more)", a.ID, a.Operation, a.State, a.ID)
}

// Do sends one request and decodes a JSON answer into out (may be nil). A 202 carrying an approval is
// waited for (see WaitApproval); the caller then reads the resource again, since the approved change's
// result is not this answer's body. It returns whether the answer was such an approval.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) (approved bool, err error) {
	status, raw, err := c.send(ctx, method, path, body)
	if err != nil {
		return false, err
	}
	if status == http.StatusAccepted {
		var pending struct {
			Approval *Approval `json:"approval"`
		}
		if json.Unmarshal(raw, &pending) == nil && pending.Approval != nil && pending.Approval.ID != "" {
			return true, c.WaitApproval(ctx, *pending.Approval)
		}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return false, fmt.Errorf("%s %s: the answer is not the expected JSON: %w", method, path, err)
		}
	}
	return false, nil
}

func (c *Client) send(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var reader io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		reader = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, reader)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("accept", "application/json, application/problem+json")
	req.Header.Set("user-agent", c.UserAgent)
	if body != nil {
		req.Header.Set("content-type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("cannot reach keyward at %s (%s %s): %w", c.baseURL, method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, nil, decodeProblem(method, path, res.StatusCode, raw)
	}
	return res.StatusCode, raw, nil
}

func decodeProblem(method, path string, status int, raw []byte) *APIError {
	apiErr := &APIError{Method: method, Path: strings.SplitN(path, "?", 2)[0], Status: status}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		apiErr.Detail = strings.TrimSpace(string(raw[:min(len(raw), 300)]))
		return apiErr
	}
	str := func(name string) string {
		var s string
		_ = json.Unmarshal(fields[name], &s)
		delete(fields, name)
		return s
	}
	apiErr.Code = str("code")
	apiErr.Detail = str("detail")
	apiErr.RequestID = str("requestId")
	if p, ok := fields["problems"]; ok {
		_ = json.Unmarshal(p, &apiErr.Problems)
		delete(fields, "problems")
	}
	for _, name := range []string{"type", "title", "status"} {
		delete(fields, name)
	}
	if len(fields) > 0 {
		apiErr.Extra = fields
	}
	return apiErr
}

// WaitApproval polls GET /v1/approvals/{id} until the change is applied, refused, or ApprovalTimeout
// passes.
func (c *Client) WaitApproval(ctx context.Context, a Approval) error {
	deadline := time.Now().Add(c.ApprovalTimeout)
	pause := 250 * time.Millisecond
	for {
		switch a.State {
		case "approved", "applied", "executed", "done":
			return nil
		case "pending", "":
		default:
			return &ApprovalError{Approval: a, BaseURL: c.baseURL}
		}
		if !time.Now().Before(deadline) {
			return &ApprovalError{Approval: a, BaseURL: c.baseURL, Waited: c.ApprovalTimeout, TimedOut: true}
		}
		wait := min(pause, c.ApprovalPollInterval, time.Until(deadline))
		pause *= 2
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for approval %s: %w (approve it in the console at %s/console/, `keyward approval show %s`)", a.ID, ctx.Err(), c.baseURL, a.ID)
		case <-time.After(wait):
		}
		var next struct {
			Approval
			Wrapped *Approval `json:"approval"`
		}
		if _, err := c.Do(ctx, http.MethodGet, "/v1/approvals/"+url.PathEscape(a.ID), nil, &next); err != nil {
			return fmt.Errorf("waiting for approval %s: %w", a.ID, err)
		}
		if next.Wrapped != nil {
			a = *next.Wrapped
		} else {
			a = next.Approval
		}
	}
}
