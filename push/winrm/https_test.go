//go:build unix

package winrm_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"muster/internal/winrmemu"
	"muster/push/winrm"
)

// tlsEmulator serves an emulator over TLS with a certificate for
// 127.0.0.1 and returns it with a pool that trusts it.
func tlsEmulator(t *testing.T, cfg winrmemu.Config) (*winrmemu.Server, *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "win-muster"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Users == nil {
		cfg.Users = map[string]string{"Administrator": password}
	}
	s := winrmemu.New(cfg)
	s.Start(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}), true)
	t.Cleanup(s.Close)
	return s, pool
}

// TestHTTPS: over winrms:// NTLM needs no sealing (a default host takes it
// plain inside TLS), Basic works where the host allows it, and a host
// whose certificate is not trusted gets nothing.
func TestHTTPS(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		profile string
		auth    winrm.Auth
	}{
		{"ntlm on a default host", winrmemu.ProfileWindows, winrm.AuthNTLM},
		{"basic where allowed", winrmemu.ProfilePOSIX, winrm.AuthBasic},
	} {
		emu, pool := tlsEmulator(t, winrmemu.Config{Profile: tc.profile})
		addr := strings.TrimSuffix(strings.TrimPrefix(emu.URL, "https://"), "/wsman")
		c, err := winrm.New(winrm.Config{Addr: addr, HTTPS: true, TLS: &tls.Config{RootCAs: pool}, Auth: tc.auth, User: "Administrator", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		status, body, err := c.Post(ctx, []byte(createShell))
		if err != nil || status != 200 || !bytes.Contains(body, []byte("ShellId")) {
			t.Fatalf("%s: %d %v %.200q", tc.name, status, err, body)
		}
		c.Close()
		// Not trusted: the handshake fails before any credentials go.
		c2, _ := winrm.New(winrm.Config{Addr: addr, HTTPS: true, TLS: &tls.Config{RootCAs: x509.NewCertPool()}, Auth: tc.auth, User: "Administrator", Password: password})
		if _, _, err := c2.Post(ctx, []byte(createShell)); err == nil || !strings.Contains(err.Error(), "not trusted") {
			t.Errorf("%s: untrusted certificate: %v", tc.name, err)
		}
	}
	// Basic on a default host (Basic off) is refused, over HTTPS too.
	emu, pool := tlsEmulator(t, winrmemu.Config{})
	addr := strings.TrimSuffix(strings.TrimPrefix(emu.URL, "https://"), "/wsman")
	c, _ := winrm.New(winrm.Config{Addr: addr, HTTPS: true, TLS: &tls.Config{RootCAs: pool}, Auth: winrm.AuthBasic, User: "Administrator", Password: password})
	if _, _, err := c.Post(ctx, []byte(createShell)); err == nil {
		t.Error("Basic accepted by a host with Basic off")
	}
}
