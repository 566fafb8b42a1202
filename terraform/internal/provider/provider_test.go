package provider

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// testAccProtoV6ProviderFactories serves the provider in-process: terraform needs no download.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"keyward": providerserver.NewProtocol6WithError(New("test")()),
}

// liveServer is the keyward the acceptance tests run against (started by TestMain when TF_ACC is set).
var liveServer struct {
	address string
	token   string
	err     error
}

// TestMain starts one live keyward (`node bin/keyward.js serve` on a fresh PGlite data directory and a
// free port) for the acceptance tests, and points Terraform at the machine's own binary.
func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	scratch, err := os.MkdirTemp("", "keyward-tfacc-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(scratch)
	terraformErr = prepareTerraform(scratch)
	if os.Getenv("TF_ACC") == "" {
		return m.Run()
	}
	if terraformErr != nil {
		liveServer.err = terraformErr
		return m.Run()
	}
	stop, err := startKeyward(scratch)
	if err != nil {
		liveServer.err = err
		return m.Run()
	}
	defer stop()
	return m.Run()
}

// prepareTerraform uses the terraform on PATH (or TF_ACC_TERRAFORM_PATH) and an empty CLI config, so
// nothing is downloaded and no developer override applies.
func prepareTerraform(scratch string) error {
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		bin, err := exec.LookPath("terraform")
		if err != nil {
			return fmt.Errorf("terraform is not on PATH (install Terraform ≥ 1.5 or set TF_ACC_TERRAFORM_PATH)")
		}
		os.Setenv("TF_ACC_TERRAFORM_PATH", bin)
	}
	rc := filepath.Join(scratch, "terraformrc")
	if err := os.WriteFile(rc, nil, 0o600); err != nil {
		return err
	}
	os.Setenv("TF_CLI_CONFIG_FILE", rc)
	os.Setenv("CHECKPOINT_DISABLE", "1")
	os.Setenv("TF_IN_AUTOMATION", "1")
	return nil
}

// repoRoot is the keyward checkout this module lives in (terraform/ is one of its folders).
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "bin", "keyward.js")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("no bin/keyward.js above %s", wd)
}

func startKeyward(scratch string) (func(), error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node is not on PATH: the acceptance tests run a live keyward (Node.js 20)")
	}
	// Builds dist/ when a source is newer than the last build (a no-op after `npm run build`).
	build := exec.Command(node, filepath.Join(root, "scripts", "build-if-stale.mjs"))
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building keyward failed: %v\n%s", err, out)
	}
	token := "kw_tfacc_" + randomHex(24)
	cmd := exec.Command(node, filepath.Join(root, "bin", "keyward.js"), "serve")
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"KEYWARD_DATA_DIR="+filepath.Join(scratch, "data"),
		"KEYWARD_HOST=127.0.0.1",
		"KEYWARD_PORT=0",
		"KEYWARD_BOOTSTRAP_TOKEN="+token,
		"KEYWARD_LOG_LEVEL=info",
		"KEYWARD_RATE_LIMIT=0",
		"KEYWARD_DATABASE_URL=",
		"KEYWARD_KEK=",
	)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	found := make(chan string, 1)
	var log bytes.Buffer
	go func() {
		re := regexp.MustCompile(`"address":"(http://[^"]+)".*keyward listening`)
		scanner := bufio.NewScanner(stdout)
		scanner.Buffer(make([]byte, 1<<20), 1<<20)
		for scanner.Scan() {
			line := scanner.Text()
			log.WriteString(line + "\n")
			if m := re.FindStringSubmatch(line); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case address := <-found:
		liveServer.address, liveServer.token = address, token
		os.Setenv("KEYWARD_ADDR", address)
		os.Setenv("KEYWARD_TOKEN", token)
		return stop, nil
	case <-time.After(90 * time.Second):
		stop()
		return nil, fmt.Errorf("keyward serve did not log \"keyward listening\" within 90 s:\n%s%s", log.String(), stderr.String())
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// terraformErr is why the terraform CLI cannot be used (nil when it can).
var terraformErr error

// requireTerraform is the pre-check of unit tests that run the terraform CLI against a fake server:
// they fail without terraform under TF_ACC (CI), and skip without it otherwise (nothing is downloaded).
func requireTerraform(t *testing.T) {
	t.Helper()
	if terraformErr == nil {
		return
	}
	if os.Getenv("TF_ACC") != "" {
		t.Fatal(terraformErr)
	}
	t.Skip(terraformErr)
}

// testAccPreCheck fails the test when the live keyward could not be started.
func testAccPreCheck(t *testing.T) {
	t.Helper()
	if liveServer.err != nil {
		t.Fatalf("acceptance tests need a live keyward and terraform: %v", liveServer.err)
	}
	if liveServer.address == "" {
		t.Fatal("TF_ACC is set but no live keyward was started")
	}
}

// uniqueName is a name no other test uses on the shared server.
func uniqueName(prefix string) string { return prefix + "-" + randomHex(4) }

// api calls the live keyward's REST API directly, as an operator would out of band.
func api(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var reader io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, liveServer.address+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("authorization", "Bearer "+liveServer.token)
	if body != nil {
		req.Header.Set("content-type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out)
	}
	return res.StatusCode, out
}

// mustAPI is api that fails the test unless the answer is 2xx.
func mustAPI(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	status, out := api(t, method, path, body)
	if status < 200 || status > 299 {
		t.Fatalf("%s %s: HTTP %d %v", method, path, status, out)
	}
	return out
}

func TestProviderSchemasAreValid(t *testing.T) {
	ctx := context.Background()
	p := New("test")()
	var ps provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &ps)
	if d := ps.Schema.ValidateImplementation(ctx); d.HasError() {
		t.Fatalf("provider schema: %v", d)
	}
	names := []string{}
	for _, f := range p.Resources(ctx) {
		r := f()
		var meta resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "keyward"}, &meta)
		var rs resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &rs)
		if d := rs.Schema.ValidateImplementation(ctx); d.HasError() {
			t.Errorf("%s schema: %v", meta.TypeName, d)
		}
		names = append(names, meta.TypeName)
	}
	for _, f := range p.DataSources(ctx) {
		d := f()
		var meta datasource.MetadataResponse
		d.Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: "keyward"}, &meta)
		var ds datasource.SchemaResponse
		d.Schema(ctx, datasource.SchemaRequest{}, &ds)
		if diags := ds.Schema.ValidateImplementation(ctx); diags.HasError() {
			t.Errorf("data.%s schema: %v", meta.TypeName, diags)
		}
		names = append(names, "data."+meta.TypeName)
	}
	want := "keyward_key keyward_policy keyward_key_policy keyward_api_token keyward_tenant keyward_tenant_member data.keyward_key data.keyward_policy data.keyward_jwks"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("resources and data sources:\n got %s\nwant %s", got, want)
	}
}

// apiNoFail is api for CheckDestroy functions, which have no *testing.T.
func apiNoFail(method, path string) (int, map[string]any) {
	req, err := http.NewRequestWithContext(context.Background(), method, liveServer.address+path, nil)
	if err != nil {
		return 0, nil
	}
	req.Header.Set("authorization", "Bearer "+liveServer.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}
