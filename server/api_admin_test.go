package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// The admin API refuses what it cannot do as given, with the status an API
// client maps back to the store's errors, and bounds uploads.
func TestAdminAPIRefusals(t *testing.T) {
	ts := start(t, Config{PackagesDir: t.TempDir(), Limits: Limits{MaxUpload: 1024}})
	call := func(method, path, body string) (int, string) { return ts.call(t, method, path, body) }
	for _, c := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"POST", "/api/v1/network/elect", `{"deviceid":"x","standing":"forced"}`, 400, "which subnet"},
		{"POST", "/api/v1/network/elect", `{"deviceid":"x","standing":"sometimes"}`, 400, "standing"},
		{"POST", "/api/v1/network/elect", `{"deviceid":"x","standing":"never","extra":1}`, 400, "unknown field"},
		{"POST", "/api/v1/network/elect", `{"deviceid":"nobody","standing":"never"}`, 404, "nobody"},
		{"PUT", "/api/v1/subnets/10.0.0.0/schedule", `{"interval":"10s"}`, 400, "a minute or more"},
		{"PUT", "/api/v1/subnets/bogus/schedule", `{"interval":"1h"}`, 400, "subnet"},
		{"PUT", "/api/v1/options/NOPE", `{"value":"1"}`, 400, "unknown option"},
		{"POST", "/api/v1/clients", `{"name":""}`, 400, "empty"},
		{"POST", "/api/v1/packages/123/assign", `{"kind":"all"}`, 404, "no package"},
		{"GET", "/api/v1/packages/..", ``, 404, ""},
		{"POST", "/api/v1/packages?action=launch&command=x&archive=tar.gz", strings.Repeat("x", 4096), 400, "over 1 KiB"},
		{"POST", "/api/v1/packages?action=launch&command=x&archive=rar", "x", 400, "archive"},
	} {
		code, body := call(c.method, c.path, c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s, want %d %q", c.method, c.path, code, body, c.code, c.want)
		}
	}
	// A client added twice: 409, so the CLI says it exists.
	if code, _ := call("POST", "/api/v1/clients", `{"name":"ACME"}`); code != 200 {
		t.Fatalf("add client: %d", code)
	}
	if code, body := call("POST", "/api/v1/clients", `{"name":"ACME"}`); code != 409 || !strings.Contains(body, "already exists") {
		t.Fatalf("the same client again: %d %s", code, body)
	}
	// A command-only package builds with no upload, signed by nobody here.
	code, body := call("POST", "/api/v1/packages?action=execute&command=reboot&archive=none", "")
	var info struct{ ID, Action string }
	if json.Unmarshal([]byte(body), &info); code != 200 || info.Action != "EXECUTE" {
		t.Fatalf("command-only build: %d %s", code, body)
	}
}

// One uploaded file (an installer) becomes a package under its own name;
// a name with a directory or a control character is refused.
func TestUploadOneFile(t *testing.T) {
	ts := start(t, Config{PackagesDir: t.TempDir()})
	call := func(path, body string) (int, string) { return ts.call(t, "POST", path, body) }
	for _, name := range []string{"../evil.sh", "a%2Fb", "x%1B%5B31m", "..", ""} {
		if code, body := call("/api/v1/packages?action=launch&command=setup.sh&archive=file&filename="+name, "echo hi\n"); code != 400 || !strings.Contains(body, "filename") {
			t.Errorf("filename %q: %d %s", name, code, body)
		}
	}
	code, body := call("/api/v1/packages?action=launch&command=setup.sh&archive=file&filename=setup.sh", "echo hi\n")
	var info struct {
		ID   string
		Size int64
	}
	if json.Unmarshal([]byte(body), &info); code != 200 || info.ID == "" || info.Size == 0 {
		t.Fatalf("one file: %d %s", code, body)
	}
}
