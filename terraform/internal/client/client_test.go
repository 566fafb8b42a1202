package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type recorded struct {
	method, path, auth, body string
}

// server answers each request with the next handler in turn and records what it received.
func server(t *testing.T, handlers ...http.HandlerFunc) (*Client, *[]recorded) {
	t.Helper()
	var mu sync.Mutex
	var seen []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := len(seen)
		raw, _ := io.ReadAll(r.Body)
		seen = append(seen, recorded{r.Method, r.URL.RequestURI(), r.Header.Get("authorization"), string(raw)})
		mu.Unlock()
		if i >= len(handlers) {
			t.Errorf("unexpected request %d: %s %s", i, r.Method, r.URL)
			w.WriteHeader(500)
			return
		}
		handlers[i](w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL+"/", "kw_test")
	if err != nil {
		t.Fatal(err)
	}
	return c, &seen
}

func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if status >= 400 {
			w.Header().Set("content-type", "application/problem+json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func TestNewRefusesAddressesItCannotUseSafely(t *testing.T) {
	for _, bad := range []string{"127.0.0.1:8750", "ftp://x", "http://user:pw@host", "http://host/?q=1", "http://host/#f"} {
		if _, err := New(bad, "t"); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	c, err := New(" https://kw.example:8443/prefix/ ", "t")
	if err != nil || c.BaseURL() != "https://kw.example:8443/prefix" {
		t.Fatalf("BaseURL %q, %v", c.BaseURL(), err)
	}
}

func TestProblemJSONBecomesAPIErrorWithCodeAndProblems(t *testing.T) {
	c, seen := server(t, reply(422, `{"type":"https://keyward.dev/errors/ERR_POLICY_TYPE","title":"Unprocessable Content","status":422,
		"code":"ERR_POLICY_TYPE","detail":"policy rule \"m\" at 1:5: unknown field measurment","requestId":"req-1",
		"problems":[{"code":"ERR_POLICY_TYPE","path":"/rules/0/expr","rule":"m","message":"cpu has no field measurment","offset":4,"line":1,"column":5}]}`))
	err := c.ValidatePolicy(context.Background(), PolicyDocument{Name: "p", Rules: []Rule{{Name: "m", Expr: "cpu.measurment == 'x'"}}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %T %v", err, err)
	}
	if apiErr.Status != 422 || apiErr.Code != "ERR_POLICY_TYPE" || apiErr.RequestID != "req-1" || len(apiErr.Problems) != 1 || apiErr.Problems[0].Column != 5 {
		t.Fatalf("decoded %+v", apiErr)
	}
	msg := err.Error()
	for _, want := range []string{"ERR_POLICY_TYPE: policy rule", `rule "m" at 1:5: cpu has no field measurment (ERR_POLICY_TYPE)`, "(request id req-1)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if got := (*seen)[0]; got.method != "POST" || got.path != "/v1/policies/validate" || got.auth != "Bearer kw_test" || !strings.Contains(got.body, `"expr":"cpu.measurment == 'x'"`) {
		t.Fatalf("sent %+v", got)
	}
	if IsNotFound(err) || IsMissingRoute(err) || !IsCode(err, "ERR_POLICY_TYPE") {
		t.Fatal("classification")
	}
}

func TestExtraFieldsAreShown(t *testing.T) {
	c, _ := server(t,
		reply(409, `{"code":"ERR_POLICY_IN_USE","detail":"Keys are bound to this policy.","requestId":"r","keyIds":["k1","k2"]}`),
		reply(409, `{"code":"ERR_KEY_NAME_TAKEN","detail":"A key with this name already exists.","requestId":"r","existingId":"abc"}`))
	err := c.DeletePolicy(context.Background(), "p1")
	if !strings.Contains(err.Error(), `bound keys: ["k1","k2"]`) {
		t.Errorf("%v", err)
	}
	_, err = c.CreateKey(context.Background(), CreateKeyRequest{Name: "x", Kind: "model"})
	if !strings.Contains(err.Error(), `existing id: "abc"`) {
		t.Errorf("%v", err)
	}
}

func TestAnswersWithoutAKeywardCodeSayWhatHappened(t *testing.T) {
	c, _ := server(t, reply(502, "<html>Bad Gateway</html>"), reply(404, "not here"))
	_, err := c.GetKey(context.Background(), "k")
	if err == nil || !strings.Contains(err.Error(), "GET /v1/keys/k answered HTTP 502 without a keyward error code: <html>Bad Gateway</html>") {
		t.Fatalf("%v", err)
	}
	_, err = c.GetKey(context.Background(), "k")
	if !IsMissingRoute(err) || IsNotFound(err) {
		t.Fatalf("a 404 without a code is a missing route: %v", err)
	}
}

func TestUnreachableServer(t *testing.T) {
	c, _ := New("http://127.0.0.1:1", "t")
	_, err := c.GetKey(context.Background(), "k")
	if err == nil || !strings.Contains(err.Error(), "cannot reach keyward at http://127.0.0.1:1") {
		t.Fatalf("%v", err)
	}
}

func TestNotFoundIsTheResourceAndNotTheRoute(t *testing.T) {
	c, _ := server(t, reply(404, `{"code":"ERR_KEY_NOT_FOUND","detail":"No key with this id exists.","requestId":"r"}`),
		reply(404, `{"code":"ERR_ROUTE_NOT_FOUND","detail":"No route GET /v1/tenants.","requestId":"r"}`))
	_, err := c.GetKey(context.Background(), "k")
	if !IsNotFound(err) || IsMissingRoute(err) {
		t.Fatalf("ERR_KEY_NOT_FOUND: %v", err)
	}
	_, err = c.ListTenants(context.Background())
	if IsNotFound(err) || !IsMissingRoute(err) {
		t.Fatalf("ERR_ROUTE_NOT_FOUND: %v", err)
	}
}

func TestDestroyKeySchedulesWhenTheServerCan(t *testing.T) {
	c, seen := server(t, reply(200, `{"id":"k","state":"pending-destroy"}`))
	res, err := c.DestroyKey(context.Background(), "k", 14)
	if err != nil || !res.Scheduled {
		t.Fatalf("%+v %v", res, err)
	}
	if got := (*seen)[0]; got.method != "POST" || got.path != "/v1/keys/k/schedule-destroy" || got.body != `{"pendingDays":14}` {
		t.Fatalf("sent %+v", got)
	}
}

func TestDestroyKeyFallsBackToDeleteWithoutScheduleDestroy(t *testing.T) {
	for _, missing := range []http.HandlerFunc{
		reply(404, `{"code":"ERR_ROUTE_NOT_FOUND","detail":"No route POST /v1/keys/k/schedule-destroy.","requestId":"r"}`),
		reply(405, ``),
	} {
		c, seen := server(t, missing, reply(200, `{"id":"k","state":"destroyed"}`))
		res, err := c.DestroyKey(context.Background(), "k", 7)
		if err != nil || res.Scheduled {
			t.Fatalf("%+v %v", res, err)
		}
		if got := (*seen)[1]; got.method != "DELETE" || got.path != "/v1/keys/k" {
			t.Fatalf("fallback sent %+v", got)
		}
	}
	// A key that does not exist is not a missing route: no DELETE follows.
	c, seen := server(t, reply(404, `{"code":"ERR_KEY_NOT_FOUND","detail":"No key with this id exists.","requestId":"r"}`))
	if _, err := c.DestroyKey(context.Background(), "k", 7); !IsNotFound(err) || len(*seen) != 1 {
		t.Fatalf("%v after %d requests", err, len(*seen))
	}
}

func pending(id, state string) string {
	raw, _ := json.Marshal(map[string]any{"id": id, "operation": "key.bind-policy", "digest": strings.Repeat("ab", 32), "required": 2,
		"approvedBy": []string{}, "state": state, "expiresAt": "2030-01-01T00:00:00.000Z"})
	return string(raw)
}

func TestAChangeNeedingApprovalIsWaitedFor(t *testing.T) {
	c, seen := server(t,
		reply(202, `{"approval":`+pending("ap-1", "pending")+`}`),
		reply(200, pending("ap-1", "pending")),
		reply(200, `{"approval":`+pending("ap-1", "applied")+`}`))
	policy := "p1"
	if err := c.BindKeyPolicy(context.Background(), "k", &policy); err != nil {
		t.Fatal(err)
	}
	if len(*seen) != 3 || (*seen)[1].path != "/v1/approvals/ap-1" || (*seen)[2].method != "GET" {
		t.Fatalf("requests %+v", *seen)
	}
}

func TestARefusedApprovalFails(t *testing.T) {
	c, _ := server(t, reply(202, `{"approval":`+pending("ap-2", "pending")+`}`), reply(200, pending("ap-2", "rejected")))
	err := c.BindKeyPolicy(context.Background(), "k", nil)
	var approvalErr *ApprovalError
	if !errors.As(err, &approvalErr) || approvalErr.TimedOut || !strings.Contains(err.Error(), `approval ap-2 (key.bind-policy) ended in state "rejected"`) {
		t.Fatalf("%v", err)
	}
}

func TestAnApprovalNotGivenInTimeNamesTheApprovalAndHowToGiveIt(t *testing.T) {
	handlers := []http.HandlerFunc{reply(202, `{"approval":`+pending("ap-3", "pending")+`}`)}
	for range 20 {
		handlers = append(handlers, reply(200, pending("ap-3", "pending")))
	}
	c, _ := server(t, handlers...)
	c.ApprovalTimeout = 600 * time.Millisecond
	start := time.Now()
	_, err := c.UpdatePolicy(context.Background(), "p", PolicyDocument{Name: "p"})
	var approvalErr *ApprovalError
	if !errors.As(err, &approvalErr) || !approvalErr.TimedOut {
		t.Fatalf("%v", err)
	}
	if waited := time.Since(start); waited < 600*time.Millisecond || waited > 3*time.Second {
		t.Fatalf("waited %s", waited)
	}
	for _, want := range []string{"approval ap-3", "0 of 2 approvals", "within 600ms", c.BaseURL() + "/console/", "keyward approval show ap-3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err.Error(), want)
		}
	}
}
