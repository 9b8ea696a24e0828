//go:build unix

package winrm_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"muster/internal/kdc"
	"muster/internal/winrmemu"
	"muster/push/winrm"
)

// TestKerberosOverHTTPS: a domain user logs on with a ticket from a real
// MIT KDC for HTTP/127.0.0.1, which the host checks against its keytab;
// a wrong password gets no ticket; Kerberos over plain HTTP is refused
// before any connection.
func TestKerberosOverHTTPS(t *testing.T) {
	k := kdc.Start(t, "MUSTER.TEST", map[string]string{"alice": "Alice-pw1"}, "HTTP/127.0.0.1")
	kt, err := keytab.Load(k.Keytab)
	if err != nil {
		t.Fatal(err)
	}
	emu, pool := tlsEmulator(t, winrmemu.Config{Keytab: kt})
	addr := strings.TrimSuffix(strings.TrimPrefix(emu.URL, "https://"), "/wsman")
	for _, user := range []string{"alice@MUSTER.TEST", `MUSTER.TEST\alice`, "alice"} {
		c, err := winrm.New(winrm.Config{Addr: addr, HTTPS: true, TLS: &tls.Config{RootCAs: pool}, Auth: winrm.AuthKerberos,
			User: user, Password: "Alice-pw1", Krb5Conf: k.Conf})
		if err != nil {
			t.Fatal(err)
		}
		status, body, err := c.Post(context.Background(), []byte(createShell))
		if err != nil || status != 200 || !bytes.Contains(body, []byte("alice@MUSTER.TEST")) {
			t.Fatalf("%s: %d %v %.300q", user, status, err, body)
		}
		c.Close()
	}
	c, _ := winrm.New(winrm.Config{Addr: addr, HTTPS: true, TLS: &tls.Config{RootCAs: pool}, Auth: winrm.AuthKerberos,
		User: "alice", Password: "wrong", Krb5Conf: k.Conf})
	var ae *winrm.AuthError
	if _, _, err := c.Post(context.Background(), []byte(createShell)); !errors.As(err, &ae) {
		t.Fatalf("wrong password: %T %v", err, err)
	}
	if _, err := winrm.New(winrm.Config{Addr: "127.0.0.1:5985", Auth: winrm.AuthKerberos, User: "alice", Password: "x"}); !errors.As(err, &ae) {
		t.Fatalf("Kerberos over HTTP: %v", err)
	}
}
