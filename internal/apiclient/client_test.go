package apiclient

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"muster/server"
	"muster/server/store"
)

func TestNewRefuses(t *testing.T) {
	for _, c := range []struct{ base, token, want string }{
		{"muster.example:8443", "t", "want the muster server's URL"},
		{"ftp://muster.example", "t", "want the muster server's URL"},
		{"https://muster.example", "", "API token is needed"},
		{"http://192.0.2.1:8080", "t", "in clear"},
		{"http://127.example.com:8080", "t", "in clear"}, // a name, not a loopback address
		{"http://127.0.0.1.nip.io:8080", "t", "in clear"},
	} {
		if _, err := New(c.base, c.token); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%q): %v, want %q", c.base, err, c.want)
		}
	}
	for _, ok := range []string{"https://muster.example:8443/ocsinventory", "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:8080", "http://127.8.9.10:8080"} {
		c, err := New(ok, "t")
		if err != nil {
			t.Errorf("New(%q): %v", ok, err)
		} else if strings.Contains(c.base, "/ocsinventory") {
			t.Errorf("the path was kept: %s", c.base)
		}
	}
}

func TestErrorsMapToTheStores(t *testing.T) {
	for status, want := range map[int]error{404: store.ErrNotFound, 409: store.ErrExists, 400: server.ErrInvalid} {
		if err := error(&Error{Status: status, Message: "x"}); !errors.Is(err, want) {
			t.Errorf("%d is not %v", status, want)
		}
	}
	if errors.Is(&Error{Status: 500}, store.ErrNotFound) {
		t.Error("500 maps to not found")
	}
}

func TestResolvePrecedence(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MUSTER_CONTEXTS", filepath.Join(dir, "contexts.yaml"))
	t.Setenv("MUSTER_API_SERVER", "")
	t.Setenv("MUSTER_API_TOKEN", "")
	if s, _, err := Resolve("", ""); err != nil || s != "" {
		t.Fatalf("nothing set: %q %v, want the local store", s, err)
	}
	cs, _ := LoadContexts()
	cs.Contexts["lab"] = Context{Server: "https://lab:8443", Token: "ctx-token"}
	cs.Current = "lab"
	if err := cs.Save(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "contexts.yaml")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("contexts file mode %v", fi.Mode().Perm())
	}
	if s, tok, _ := Resolve("", ""); s != "https://lab:8443" || tok != "ctx-token" {
		t.Errorf("context: %q %q", s, tok)
	}
	t.Setenv("MUSTER_API_SERVER", "https://env:8443")
	t.Setenv("MUSTER_API_TOKEN", "env-token")
	if s, tok, _ := Resolve("", ""); s != "https://env:8443" || tok != "env-token" {
		t.Errorf("environment over context: %q %q", s, tok)
	}
	if s, tok, _ := Resolve("https://flag:8443", "flag-token"); s != "https://flag:8443" || tok != "flag-token" {
		t.Errorf("flags over everything: %q %q", s, tok)
	}
	os.WriteFile(filepath.Join(dir, "contexts.yaml"), []byte("current: gone\ncontexts: {}\n"), 0o600)
	t.Setenv("MUSTER_API_SERVER", "")
	if _, _, err := Resolve("", ""); err == nil || !strings.Contains(err.Error(), `"gone" is not defined`) {
		t.Errorf("a current context that is not defined: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "contexts.yaml"), []byte("current: [\n"), 0o600)
	if _, _, err := Resolve("", ""); err == nil || !strings.Contains(err.Error(), "contexts.yaml") {
		t.Errorf("a broken file names itself: %v", err)
	}
}

func TestContextsSetUseRemove(t *testing.T) {
	t.Setenv("MUSTER_CONTEXTS", filepath.Join(t.TempDir(), "contexts.yaml"))
	cs, err := LoadContexts()
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Set("bad", Context{Server: "http://192.0.2.1:8080", Token: "t"}); err == nil {
		t.Fatal("a context that would send its token in clear was accepted")
	}
	if err := cs.Set("a", Context{Server: "https://a:8443", Token: "t"}); err != nil || cs.Current != "a" {
		t.Fatalf("first context: %v, current %q", err, cs.Current)
	}
	cs.Set("b", Context{Server: "https://b:8443", Token: "t"})
	if cs.Current != "a" {
		t.Fatalf("a second context changed the current one: %q", cs.Current)
	}
	if err := cs.Use("nope"); err == nil || !strings.Contains(err.Error(), "a, b") {
		t.Fatalf("use of an unknown context: %v", err)
	}
	if err := cs.Remove("a"); err != nil || cs.Current != "" {
		t.Fatalf("removing the current one: %v, current %q", err, cs.Current)
	}
	if err := cs.Remove("a"); err == nil {
		t.Fatal("removed twice")
	}
}
