package client

import (
	"context"
	"net/http"
	"net/url"
)

// Tenant is a tenant as GET /v1/tenants lists it (docs/design.md "Admin side"). Tenants are named by Name;
// ID is whatever id the server gives (the name when it gives none).
type Tenant struct {
	ID     string `json:"id,omitempty"`
	Name   string `json:"name"`
	Quorum int64  `json:"quorum"`
}

// Key returns the tenant's identifier in paths: its id when the server has one, else its name.
func (t Tenant) Key() string {
	if t.ID != "" {
		return t.ID
	}
	return t.Name
}

// CreateTenantRequest is the body of POST /v1/tenants.
type CreateTenantRequest struct {
	Name   string `json:"name"`
	Quorum int64  `json:"quorum,omitempty"`
}

func (c *Client) CreateTenant(ctx context.Context, in CreateTenantRequest) (*Tenant, error) {
	var out Tenant
	approved, err := c.Do(ctx, http.MethodPost, "/v1/tenants", in, &out)
	if err != nil {
		return nil, err
	}
	if approved || out.Name == "" {
		return c.GetTenant(ctx, in.Name)
	}
	return &out, nil
}

// ListTenants returns GET /v1/tenants's items.
func (c *Client) ListTenants(ctx context.Context) ([]Tenant, error) {
	var page struct {
		Items []Tenant `json:"items"`
	}
	if _, err := c.Do(ctx, http.MethodGet, "/v1/tenants", nil, &page); err != nil {
		return nil, err
	}
	return page.Items, nil
}

// GetTenant finds a tenant by id or name in GET /v1/tenants.
func (c *Client) GetTenant(ctx context.Context, idOrName string) (*Tenant, error) {
	items, err := c.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	for i := range items {
		if items[i].ID == idOrName || items[i].Name == idOrName {
			return &items[i], nil
		}
	}
	return nil, &APIError{Method: http.MethodGet, Path: "/v1/tenants", Status: http.StatusNotFound, Code: "ERR_TENANT_NOT_FOUND", Detail: "No tenant with this id or name exists."}
}

// SetTenantQuorum changes a tenant's quorum (PATCH /v1/tenants/{t}); it needs the tenant's approvals.
func (c *Client) SetTenantQuorum(ctx context.Context, tenant string, quorum int64) error {
	_, err := c.Do(ctx, http.MethodPatch, "/v1/tenants/"+url.PathEscape(tenant), map[string]int64{"quorum": quorum}, nil)
	return err
}

// DeleteTenant asks DELETE /v1/tenants/{t}; a server without that route answers IsMissingRoute.
func (c *Client) DeleteTenant(ctx context.Context, tenant string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/v1/tenants/"+url.PathEscape(tenant), nil, nil)
	return err
}

// Invite is the answer of POST /v1/tenants/{t}/members: the member's id and its single-use code.
type Invite struct {
	UserID        string `json:"userId"`
	EnrolmentCode string `json:"enrolmentCode"`
	ExpiresAt     string `json:"expiresAt"`
}

// Member is a tenant member as GET /v1/tenants/{t}/members lists it.
type Member struct {
	UserID string `json:"userId"`
	ID     string `json:"id,omitempty"`
	Name   string `json:"name"`
	Role   string `json:"role"`
}

// InviteMember adds a member (owner|auditor) and returns the enrolment code for their passkey.
func (c *Client) InviteMember(ctx context.Context, tenant, name, role string) (*Invite, error) {
	var out Invite
	_, err := c.Do(ctx, http.MethodPost, "/v1/tenants/"+url.PathEscape(tenant)+"/members", map[string]string{"name": name, "role": role}, &out)
	return &out, err
}

// ListMembers returns GET /v1/tenants/{t}/members's items.
func (c *Client) ListMembers(ctx context.Context, tenant string) ([]Member, error) {
	var page struct {
		Items []Member `json:"items"`
	}
	if _, err := c.Do(ctx, http.MethodGet, "/v1/tenants/"+url.PathEscape(tenant)+"/members", nil, &page); err != nil {
		return nil, err
	}
	for i := range page.Items {
		if page.Items[i].UserID == "" {
			page.Items[i].UserID = page.Items[i].ID
		}
	}
	return page.Items, nil
}

// RemoveMember removes a member (DELETE /v1/tenants/{t}/members/{userId}); it needs approvals.
func (c *Client) RemoveMember(ctx context.Context, tenant, userID string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/v1/tenants/"+url.PathEscape(tenant)+"/members/"+url.PathEscape(userID), nil, nil)
	return err
}
