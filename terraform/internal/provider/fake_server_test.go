package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeTenantsAPI serves the tenants API as docs/design.md fixes it (POST/GET /v1/tenants, POST
// /v1/tenants/{t}/members → 201 {userId, enrolmentCode, expiresAt}) plus the member list and removal,
// for unit tests of keyward_tenant and keyward_tenant_member while the live server has no tenants.
// It is no stand-in for the acceptance tests, which run against a live keyward.
type fakeTenantsAPI struct {
	mu      sync.Mutex
	tenants map[string]int64
	members map[string]map[string][2]string // tenant → userId → {name, role}
	next    int
	// canDelete: whether DELETE /v1/tenants/{t} exists (the design has no tenant deletion).
	canDelete bool
}

func newFakeTenantsAPI(t *testing.T) (*fakeTenantsAPI, *httptest.Server) {
	f := &fakeTenantsAPI{tenants: map[string]int64{}, members: map[string]map[string][2]string{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	if status >= 400 {
		w.Header().Set("content-type", "application/problem+json")
	} else {
		w.Header().Set("content-type", "application/json")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func problem(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, map[string]any{"type": "about:blank", "title": "x", "status": status, "code": code, "detail": detail, "requestId": "fake"})
}

func (f *fakeTenantsAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("authorization") != "Bearer fake-token" {
		problem(w, 401, "ERR_AUTH_INVALID", "The bearer token is not valid.")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	switch {
	case r.Method == "GET" && r.URL.Path == "/v1/tenants":
		items := []map[string]any{}
		for name, q := range f.tenants {
			items = append(items, map[string]any{"name": name, "quorum": q})
		}
		writeJSON(w, 200, map[string]any{"items": items})
	case r.Method == "POST" && r.URL.Path == "/v1/tenants":
		name, _ := body["name"].(string)
		if _, taken := f.tenants[name]; taken {
			problem(w, 409, "ERR_TENANT_NAME_TAKEN", "A tenant with this name already exists.")
			return
		}
		q := int64(1)
		if v, ok := body["quorum"].(float64); ok {
			q = int64(v)
		}
		f.tenants[name] = q
		f.members[name] = map[string][2]string{}
		writeJSON(w, 201, map[string]any{"name": name, "quorum": q})
	case len(parts) == 3 && parts[1] == "tenants" && r.Method == "PATCH":
		if _, ok := f.tenants[parts[2]]; !ok {
			problem(w, 404, "ERR_TENANT_NOT_FOUND", "No tenant with this name exists.")
			return
		}
		f.tenants[parts[2]] = int64(body["quorum"].(float64))
		writeJSON(w, 200, map[string]any{"name": parts[2], "quorum": f.tenants[parts[2]]})
	case len(parts) == 3 && parts[1] == "tenants" && r.Method == "DELETE" && f.canDelete:
		delete(f.tenants, parts[2])
		w.WriteHeader(204)
	case len(parts) == 4 && parts[3] == "members" && r.Method == "POST":
		if _, ok := f.tenants[parts[2]]; !ok {
			problem(w, 404, "ERR_TENANT_NOT_FOUND", "No tenant with this name exists.")
			return
		}
		f.next++
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", f.next)
		f.members[parts[2]][id] = [2]string{body["name"].(string), body["role"].(string)}
		writeJSON(w, 201, map[string]any{"userId": id, "enrolmentCode": fmt.Sprintf("enrol-%d-secret", f.next), "expiresAt": "2030-01-02T03:04:05.000Z"})
	case len(parts) == 4 && parts[3] == "members" && r.Method == "GET":
		items := []map[string]any{}
		for id, m := range f.members[parts[2]] {
			items = append(items, map[string]any{"userId": id, "name": m[0], "role": m[1]})
		}
		writeJSON(w, 200, map[string]any{"items": items})
	case len(parts) == 5 && parts[3] == "members" && r.Method == "DELETE":
		delete(f.members[parts[2]], parts[4])
		w.WriteHeader(204)
	default:
		problem(w, 404, "ERR_ROUTE_NOT_FOUND", "No route "+r.Method+" "+r.URL.Path+".")
	}
}

func fakeProvider(url string) string {
	return fmt.Sprintf(`
provider "keyward" {
  address = %q
  token   = "fake-token"
}
`, url)
}
