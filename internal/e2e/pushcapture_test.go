package e2e

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"muster/internal/wiretap"
	"muster/push"
)

// TestPushNeverSendsPasswordOverHTTP runs the muster binary against a fake
// WinRM host that answers every request with 401 Basic, and records every
// byte it receives: no password and no Basic header arrive, the host is
// auth_failed and the error says what it offered. --auth basic on winrm://
// is refused before any connection.
func TestPushNeverSendsPasswordOverHTTP(t *testing.T) {
	const secret = "Sup3r-Secret-Pa55"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="WSMAN"`)
		w.WriteHeader(http.StatusUnauthorized)
	})}
	tap := wiretap.New(ln)
	go srv.Serve(tap)
	defer srv.Close()
	dir := t.TempDir()
	inst := filepath.Join(dir, "agent_ABCDEFGHIJ.msi")
	os.WriteFile(inst, []byte("x"), 0o644)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte(secret), 0o600)
	host := "winrm://" + ln.Addr().String()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"ntlm", nil, "does not offer NTLM"},
		{"basic", []string{"--auth", "basic"}, "Basic over plain HTTP"},
	} {
		resp := filepath.Join(dir, tc.name+".csv")
		args := append([]string{"push", host, "-u", `CORP\admin`, "--password-file", pw, "--installer", inst,
			"--preset", "msi", "--retries", "0", "--response", resp}, tc.args...)
		out, err := exec.Command(musterBin, args...).CombinedOutput()
		if err == nil {
			t.Fatalf("%s: push exited 0:\n%s", tc.name, out)
		}
		recs, rerr := push.ReadResponse(resp)
		if rerr != nil || len(recs) != 1 || recs[0].Outcome != push.AuthFailed || !strings.Contains(recs[0].Error, tc.want) {
			t.Fatalf("%s: %+v %v\n%s", tc.name, recs, rerr, out)
		}
		if tc.name == "ntlm" && !strings.Contains(recs[0].Error, "Basic") {
			t.Errorf("the error does not say what the host offered: %s", recs[0].Error)
		}
	}
	got := string(tap.Bytes())
	if strings.Contains(got, secret) || strings.Contains(strings.ToLower(got), "authorization: basic") {
		t.Fatalf("the password or a Basic header crossed plain HTTP:\n%s", got)
	}
	if n := strings.Count(got, "POST /wsman"); n != 1 {
		t.Fatalf("%d requests reached the host, want the one NTLM NEGOTIATE (none for --auth basic):\n%s", n, got)
	}
}
