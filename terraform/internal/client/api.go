package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// Key is a key's metadata (openapi.yaml Key). Tenant is empty on servers without tenants.
type Key struct {
	ID          string            `json:"id"`
	Tenant      string            `json:"tenant,omitempty"`
	Name        string            `json:"name"`
	Kind        string            `json:"kind"`
	Description string            `json:"description"`
	Labels      map[string]string `json:"labels,omitempty"`
	State       string            `json:"state"`
	Origin      string            `json:"origin"`
	Version     int64             `json:"version"`
	PolicyID    *string           `json:"policyId"`
	CreatedAt   string            `json:"createdAt"`
	UpdatedAt   string            `json:"updatedAt"`
}

// CreateKeyRequest is the body of POST /v1/keys; Tenant is sent only when set.
type CreateKeyRequest struct {
	Tenant      string `json:"tenant,omitempty"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Description string `json:"description,omitempty"`
}

func (c *Client) CreateKey(ctx context.Context, in CreateKeyRequest) (*Key, error) {
	var out Key
	_, err := c.Do(ctx, http.MethodPost, "/v1/keys", in, &out)
	return &out, err
}

func (c *Client) GetKey(ctx context.Context, id string) (*Key, error) {
	var out Key
	_, err := c.Do(ctx, http.MethodGet, "/v1/keys/"+url.PathEscape(id), nil, &out)
	return &out, err
}

// ListKeys returns every key (all pages).
func (c *Client) ListKeys(ctx context.Context) ([]Key, error) {
	var all []Key
	cursor := ""
	for {
		var page struct {
			Items      []Key   `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}
		path := "/v1/keys?limit=500"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if _, err := c.Do(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == nil || *page.NextCursor == "" {
			return all, nil
		}
		cursor = *page.NextCursor
	}
}

func (c *Client) UpdateKeyDescription(ctx context.Context, id, description string) (*Key, error) {
	var out Key
	_, err := c.Do(ctx, http.MethodPatch, "/v1/keys/"+url.PathEscape(id), map[string]string{"description": description}, &out)
	return &out, err
}

// DestroyResult tells how a key was destroyed.
type DestroyResult struct {
	// Scheduled is true when the server scheduled the destruction (pending-destroy); false when it
	// has no schedule-destroy route and the key was crypto-shredded at once with DELETE.
	Scheduled bool
}

// DestroyKey schedules the key's destruction in pendingDays (POST /v1/keys/{id}/schedule-destroy). A
// server without that route (404 ERR_ROUTE_NOT_FOUND, 405) gets DELETE /v1/keys/{id}, which erases
// the material at once.
func (c *Client) DestroyKey(ctx context.Context, id string, pendingDays int64) (DestroyResult, error) {
	path := "/v1/keys/" + url.PathEscape(id)
	_, err := c.Do(ctx, http.MethodPost, path+"/schedule-destroy", map[string]int64{"pendingDays": pendingDays}, nil)
	if err == nil {
		return DestroyResult{Scheduled: true}, nil
	}
	if !IsMissingRoute(err) {
		return DestroyResult{}, err
	}
	_, err = c.Do(ctx, http.MethodDelete, path, nil, nil)
	return DestroyResult{}, err
}

// BindKeyPolicy binds (policyID) or unbinds (nil) a key's release policy.
func (c *Client) BindKeyPolicy(ctx context.Context, keyID string, policyID *string) error {
	_, err := c.Do(ctx, http.MethodPut, "/v1/keys/"+url.PathEscape(keyID)+"/policy", map[string]*string{"policyId": policyID}, nil)
	return err
}

// Rule is one named CEL rule of a policy.
type Rule struct {
	Name        string `json:"name"`
	Expr        string `json:"expr"`
	Description string `json:"description,omitempty"`
}

// PolicyDocument is the body of POST/PUT /v1/policies and /v1/policies/validate.
type PolicyDocument struct {
	// Tenant is not part of the document: creation names it as the ?tenant= query parameter.
	Tenant      string                     `json:"-"`
	Name        string                     `json:"name"`
	Description string                     `json:"description,omitempty"`
	Rules       []Rule                     `json:"rules"`
	Refs        map[string]json.RawMessage `json:"refs,omitempty"`
}

// Policy is a stored policy at one version (openapi.yaml Policy).
type Policy struct {
	ID          string         `json:"id"`
	Tenant      string         `json:"tenant,omitempty"`
	Name        string         `json:"name"`
	Version     int64          `json:"version"`
	Description string         `json:"description"`
	Document    PolicyDocument `json:"document"`
	SHA256      string         `json:"sha256"`
}

func (c *Client) CreatePolicy(ctx context.Context, doc PolicyDocument) (*Policy, error) {
	var out Policy
	path := "/v1/policies"
	if doc.Tenant != "" {
		path += "?tenant=" + url.QueryEscape(doc.Tenant)
	}
	_, err := c.Do(ctx, http.MethodPost, path, doc, &out)
	return &out, err
}

// UpdatePolicy saves a new version; after an approval the policy is read again.
func (c *Client) UpdatePolicy(ctx context.Context, id string, doc PolicyDocument) (*Policy, error) {
	var out Policy
	approved, err := c.Do(ctx, http.MethodPut, "/v1/policies/"+url.PathEscape(id), doc, &out)
	if err != nil || approved {
		if err != nil {
			return nil, err
		}
		return c.GetPolicy(ctx, id)
	}
	return &out, nil
}

func (c *Client) GetPolicy(ctx context.Context, id string) (*Policy, error) {
	var out Policy
	_, err := c.Do(ctx, http.MethodGet, "/v1/policies/"+url.PathEscape(id), nil, &out)
	return &out, err
}

// ListPolicies returns every policy (all pages).
func (c *Client) ListPolicies(ctx context.Context) ([]Policy, error) {
	var all []Policy
	after := ""
	for {
		var page struct {
			Items     []Policy `json:"items"`
			NextAfter *string  `json:"nextAfter"`
		}
		path := "/v1/policies?limit=500"
		if after != "" {
			path += "&after=" + url.QueryEscape(after)
		}
		if _, err := c.Do(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextAfter == nil || *page.NextAfter == "" {
			return all, nil
		}
		after = *page.NextAfter
	}
}

func (c *Client) DeletePolicy(ctx context.Context, id string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/v1/policies/"+url.PathEscape(id), nil, nil)
	return err
}

// ValidatePolicy type-checks a document without saving it (POST /v1/policies/validate).
func (c *Client) ValidatePolicy(ctx context.Context, doc PolicyDocument) error {
	_, err := c.Do(ctx, http.MethodPost, "/v1/policies/validate", doc, nil)
	return err
}

// Token is an API token's metadata (openapi.yaml Token); Secret is set only by CreateToken.
type Token struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Role      string   `json:"role"`
	Scopes    []string `json:"scopes"`
	Bootstrap bool     `json:"bootstrap"`
	CreatedAt string   `json:"createdAt"`
	ExpiresAt *string  `json:"expiresAt"`
	RevokedAt *string  `json:"revokedAt"`
	Secret    string   `json:"token,omitempty"`
}

// CreateTokenRequest is the body of POST /v1/tokens.
type CreateTokenRequest struct {
	Name             string   `json:"name"`
	Role             string   `json:"role"`
	Scopes           []string `json:"scopes,omitempty"`
	ExpiresInSeconds int64    `json:"expiresInSeconds,omitempty"`
}

func (c *Client) CreateToken(ctx context.Context, in CreateTokenRequest) (*Token, error) {
	var out Token
	_, err := c.Do(ctx, http.MethodPost, "/v1/tokens", in, &out)
	return &out, err
}

// GetToken finds a token in GET /v1/tokens; a missing one is a 404-like APIError.
func (c *Client) GetToken(ctx context.Context, id string) (*Token, error) {
	var page struct {
		Items []Token `json:"items"`
	}
	if _, err := c.Do(ctx, http.MethodGet, "/v1/tokens", nil, &page); err != nil {
		return nil, err
	}
	for i := range page.Items {
		if page.Items[i].ID == id {
			return &page.Items[i], nil
		}
	}
	return nil, &APIError{Method: http.MethodGet, Path: "/v1/tokens", Status: http.StatusNotFound, Code: "ERR_TOKEN_NOT_FOUND", Detail: "No token with this id exists."}
}

func (c *Client) RevokeToken(ctx context.Context, id string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/v1/tokens/"+url.PathEscape(id), nil, nil)
	return err
}

// JWKS returns the attestation-token signing keys, as the server's raw JSON.
func (c *Client) JWKS(ctx context.Context) (json.RawMessage, error) {
	var out json.RawMessage
	_, err := c.Do(ctx, http.MethodGet, "/.well-known/jwks.json", nil, &out)
	return out, err
}
