// Package kdc runs Debian's MIT Kerberos KDC on loopback for the tests of
// Kerberos logons: a realm in a temporary directory, users with passwords,
// service principals with a keytab, stopped when the test ends.
package kdc

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"muster/internal/testenv"
)

// KDC is a running realm.
type KDC struct {
	Realm string
	// Conf is a krb5.conf for clients; Keytab holds every service's keys.
	Conf, Keytab string
	env          []string
	dir          string
}

// Start creates realm with the users (name → password) and services
// (such as HTTP/127.0.0.1), starts krb5kdc on a free loopback port and
// stops it at the end of the test.
func Start(t *testing.T, realm string, users map[string]string, services ...string) *KDC {
	t.Helper()
	for _, tool := range []string{"/usr/sbin/krb5kdc", "/usr/sbin/kdb5_util", "/usr/sbin/kadmin.local"} {
		if _, err := os.Stat(tool); err != nil {
			testenv.Missing(t, tool+" is not installed (Debian krb5-kdc, krb5-admin-server; make test installs them)")
		}
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	k := &KDC{Realm: realm, Conf: filepath.Join(dir, "krb5.conf"), Keytab: filepath.Join(dir, "services.keytab"), dir: dir}
	os.WriteFile(filepath.Join(dir, "kdc.conf"), []byte(fmt.Sprintf(`[kdcdefaults]
 kdc_ports = %[1]d
 kdc_tcp_ports = %[1]d
[realms]
 %[2]s = {
  database_name = %[3]s/principal
  key_stash_file = %[3]s/stash
  acl_file = %[3]s/kadm5.acl
  kdc_ports = %[1]d
  kdc_tcp_ports = %[1]d
  max_life = 1h
 }
[logging]
 kdc = FILE:%[3]s/kdc.log
`, port, realm, dir)), 0o644)
	os.WriteFile(k.Conf, []byte(fmt.Sprintf(`[libdefaults]
 default_realm = %[2]s
 dns_lookup_kdc = false
 dns_lookup_realm = false
 udp_preference_limit = 1
[realms]
 %[2]s = {
  kdc = 127.0.0.1:%[1]d
 }
`, port, realm)), 0o644)
	k.env = append(os.Environ(), "KRB5_CONFIG="+k.Conf, "KRB5_KDC_PROFILE="+filepath.Join(dir, "kdc.conf"))
	k.run(t, "/usr/sbin/kdb5_util", "create", "-s", "-P", "muster-master-"+realm, "-r", realm)
	for u, pw := range users {
		k.run(t, "/usr/sbin/kadmin.local", "-r", realm, "-q", "addprinc -pw "+pw+" "+u)
	}
	for _, s := range services {
		k.run(t, "/usr/sbin/kadmin.local", "-r", realm, "-q", "addprinc -randkey "+s)
		k.run(t, "/usr/sbin/kadmin.local", "-r", realm, "-q", "ktadd -k "+k.Keytab+" "+s)
	}
	cmd := exec.Command("/usr/sbin/krb5kdc", "-n", "-r", realm, "-P", filepath.Join(dir, "kdc.pid"))
	cmd.Env = k.env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Ready when it accepts on its TCP port (bounded).
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return k
		}
		time.Sleep(20 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "kdc.log"))
	t.Fatalf("krb5kdc did not listen on %d:\n%s", port, log)
	return nil
}

func (k *KDC) run(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = k.env
	if out, err := cmd.CombinedOutput(); err != nil || strings.Contains(string(out), "error") {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
	}
}
