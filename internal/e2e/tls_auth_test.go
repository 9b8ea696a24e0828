package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"muster/internal/testenv"
)

// selfSigned writes a certificate for 127.0.0.1 and its key.
// selfSigned makes a CA-capable certificate for 127.0.0.1 and ips.
func selfSigned(t *testing.T, ips ...string) (cert, key string) {
	t.Helper()
	addrs := []net.IP{net.ParseIP("127.0.0.1")}
	for _, ip := range ips {
		addrs = append(addrs, net.ParseIP(ip))
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: addrs,
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

func agentExit(agent string, args ...string) (int, string) {
	out, err := exec.Command(agent, args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		return -1, err.Error()
	}
	return 0, string(out)
}

func TestRealAgentOverHTTPS(t *testing.T) {
	agent := testenv.Tool(t, "ocsinventory-agent")
	cert, key := selfSigned(t)
	srv := startServer(t, t.TempDir(), "--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("url %s", srv.URL)
	}
	// Verified against the CA: accepted. Without a CA file the agent refuses.
	if code, out := agentExit(agent, "--server", srv.URL, "--nolocal", "--basevardir="+t.TempDir(), "--force", "--nosoftware", "--ca="+cert); code != 0 {
		t.Fatalf("agent with --ca: exit %d\n%s", code, out)
	}
	if code, _ := agentExit(agent, "--server", srv.URL, "--nolocal", "--basevardir="+t.TempDir(), "--force", "--nosoftware"); code == 0 {
		t.Fatal("agent without a CA file connected to a self-signed server")
	}
	if !strings.Contains(srv.Stderr.String(), `msg="inventory stored"`) {
		t.Fatalf("no inventory stored over HTTPS:\n%s", srv.Stderr)
	}
}

func TestRealAgentBasicAuth(t *testing.T) {
	agent := testenv.Tool(t, "ocsinventory-agent")
	srv := startServer(t, t.TempDir(), "--agent-user", "ocs", "--agent-password", "s3cret")
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	base := []string{"--server", srv.URL, "--nolocal", "--force", "--nosoftware"}
	cases := []struct {
		name string
		args []string
		ok   bool
	}{
		// Agent 2.10 base64-decodes --user/--password and answers only the
		// realm it was given.
		{"right credentials and realm", []string{"--user=" + b64("ocs"), "--password=" + b64("s3cret"), "--realm=OCS Inventory"}, true},
		{"wrong password", []string{"--user=" + b64("ocs"), "--password=" + b64("nope"), "--realm=OCS Inventory"}, false},
		{"no credentials", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append(append(append([]string{}, base...), "--basevardir="+t.TempDir()), c.args...)
			code, out := agentExit(agent, args...)
			if (code == 0) != c.ok {
				t.Fatalf("exit %d, want success=%v\n%s", code, c.ok, out)
			}
		})
	}
}
