package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseINI(t *testing.T) {
	got, err := ParseINI([]byte("\ufeff# comment\ndata-dir = /x\n[Server]\n; c\nListen = \"127.0.0.1:9\"\nfrequency=2\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"data-dir": "/x", "server": map[string]any{"listen": "127.0.0.1:9", "frequency": "2"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
}

func TestParseINIErrors(t *testing.T) {
	for in, want := range map[string]string{
		"a=1\n[server\n":     "line 2",
		"a=1\nb=2\njunk\n":   "line 3",
		"[]\n":               "line 1: empty section",
		"=1\n":               "line 1: empty key",
		"server=1\n[server]": "clashes",
	} {
		_, err := ParseINI([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	known := []string{"server.listen", "server.frequency", "data-dir"}
	for _, c := range []struct{ name, body string }{
		{"muster.yaml", "server:\n  listen: 127.0.0.1:1\n  frequency: 3\ndata-dir: /from-file\n"},
		{"muster.ini", "data-dir=/from-file\n[server]\nlisten=127.0.0.1:1\nfrequency=3\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			os.WriteFile(p, []byte(c.body), 0o600)
			v := New()
			v.SetDefault("server.listen", "default")
			v.SetDefault("server.frequency", 0)
			v.SetDefault("data-dir", "default")
			if err := LoadFile(v, p, known); err != nil {
				t.Fatal(err)
			}
			t.Setenv("MUSTER_SERVER_LISTEN", "127.0.0.1:2")
			v.Set("data-dir", "/from-flag") // what a bound, changed flag does
			if g := v.GetString("server.listen"); g != "127.0.0.1:2" {
				t.Errorf("env did not beat the file: %s", g)
			}
			if g := v.GetInt("server.frequency"); g != 3 {
				t.Errorf("file did not beat the default: %d", g)
			}
			if g := v.GetString("data-dir"); g != "/from-flag" {
				t.Errorf("flag did not win: %s", g)
			}
		})
	}
}

func TestUnknownKeyNamed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.yaml")
	os.WriteFile(p, []byte("server:\n  lisen: x\n"), 0o600)
	err := LoadFile(New(), p, []string{"server.listen"})
	if err == nil || !strings.Contains(err.Error(), "server.lisen") || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v", err)
	}
	p2 := filepath.Join(t.TempDir(), "m.ini")
	os.WriteFile(p2, []byte("[server]\nlisten\n"), 0o600)
	err = LoadFile(New(), p2, []string{"server.listen"})
	if err == nil || !strings.Contains(err.Error(), p2+": line 2") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParseINI(f *testing.F) {
	f.Add([]byte("a=1\n[s]\nb = \"2\"\n# c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseINI(data)
		if err != nil {
			return
		}
		for k, v := range m {
			if k == "" || k != strings.ToLower(k) {
				t.Fatalf("bad key %q", k)
			}
			if sub, ok := v.(map[string]any); ok {
				for sk := range sub {
					if sk == "" {
						t.Fatal("empty key in section")
					}
				}
			}
		}
	})
}
