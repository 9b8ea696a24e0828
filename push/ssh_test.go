//go:build linux

package push_test

import (
	"context"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"muster/internal/testbed"
	"muster/internal/testenv"
	"muster/push"
	"muster/push/pushtest"
)

func sshBed(t *testing.T, hosts int) *testbed.Bed {
	t.Helper()
	testenv.Root(t)
	for _, tool := range []string{"ip", "nft", "sshd"} {
		testenv.Tool(t, tool)
	}
	b, err := testbed.Up(context.Background(), testbed.Options{LANs: []testbed.LAN{
		{Prefix: netip.MustParsePrefix("10.77.0.0/24"), Hosts: hosts, SSH: true}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Down() })
	return b
}

func sshDialer(t *testing.T, b *testbed.Bed, cfg push.SSHConfig) *push.SSHDialer {
	t.Helper()
	if cfg.User == "" {
		cfg.User = testbed.SSHUser
	}
	if cfg.KnownHosts == "" && cfg.Policy != push.Insecure {
		cfg.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
	}
	cfg.Dial = b.DialContext
	cfg.HandshakeTimeout = 3 * time.Second
	d, err := push.NewSSHDialer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSSHConformance(t *testing.T) {
	b := sshBed(t, 2)
	h, silent := b.Hosts()[0], b.Hosts()[1]
	if err := b.Tarpit(silent, 2200); err != nil {
		t.Fatal(err)
	}
	good := sshDialer(t, b, push.SSHConfig{Signers: []ssh.Signer{b.SSHSigner()}})
	bad := sshDialer(t, b, push.SSHConfig{Password: "wrong"})
	host := push.Host{Name: h.IP}
	pushtest.Run(t, pushtest.Target{
		Dial:        func(ctx context.Context) (push.Transport, error) { return good.Dial(ctx, host) },
		DialBadAuth: func(ctx context.Context) (push.Transport, error) { return bad.Dial(ctx, host) },
		DialRefused: func(ctx context.Context) (push.Transport, error) {
			return good.Dial(ctx, push.Host{Name: h.IP, Port: 2222})
		},
		DialSilent: func(ctx context.Context) (push.Transport, error) {
			return good.Dial(ctx, push.Host{Name: silent.IP, Port: 2200})
		},
		RemoteDir: h.Home,
		Join:      func(dir, name string) string { return path.Join(dir, name) },
		ReadFile:  os.ReadFile, // the bed's hosts share the test's file system
	})
}

func TestSSHAuthMethodsAndHostKeys(t *testing.T) {
	b := sshBed(t, 1)
	h := b.Hosts()[0]
	host := push.Host{Name: h.IP}
	ctx := context.Background()
	t.Run("password", func(t *testing.T) {
		tr, err := sshDialer(t, b, push.SSHConfig{Password: testbed.SSHPassword}).Dial(ctx, host)
		if err != nil {
			t.Fatal(err)
		}
		tr.Close()
	})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	t.Run("accept-new records the key, then holds the host to it", func(t *testing.T) {
		d := sshDialer(t, b, push.SSHConfig{Signers: []ssh.Signer{b.SSHSigner()}, KnownHosts: kh})
		tr, err := d.Dial(ctx, host)
		if err != nil {
			t.Fatal(err)
		}
		tr.Close()
		data, _ := os.ReadFile(kh)
		if !strings.Contains(string(data), h.IP) || !strings.Contains(string(data), "ssh-ed25519") {
			t.Fatalf("known_hosts: %q", data)
		}
		// A new dialer (a new run) reads the recorded key and accepts.
		tr, err = sshDialer(t, b, push.SSHConfig{Signers: []ssh.Signer{b.SSHSigner()}, KnownHosts: kh, Policy: push.Strict}).Dial(ctx, host)
		if err != nil {
			t.Fatalf("strict with the key recorded: %v", err)
		}
		tr.Close()
	})
	t.Run("a changed key is refused, never silently accepted", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "known_hosts")
		// Record another key for this host, as if it had been reinstalled.
		line := strings.Replace(string(ssh.MarshalAuthorizedKey(b.SSHSigner().PublicKey())), "\n", "", 1)
		os.WriteFile(other, []byte(h.IP+" "+line+"\n"), 0o600)
		for _, pol := range []push.HostKeyPolicy{push.AcceptNew, push.Strict} {
			_, err := sshDialer(t, b, push.SSHConfig{Signers: []ssh.Signer{b.SSHSigner()}, KnownHosts: other, Policy: pol}).Dial(ctx, host)
			if err == nil || !strings.Contains(err.Error(), "CHANGED") {
				t.Fatalf("%s: err %v", pol, err)
			}
		}
	})
	t.Run("strict refuses an unknown host", func(t *testing.T) {
		empty := filepath.Join(t.TempDir(), "known_hosts")
		os.WriteFile(empty, nil, 0o600)
		_, err := sshDialer(t, b, push.SSHConfig{Signers: []ssh.Signer{b.SSHSigner()}, KnownHosts: empty, Policy: push.Strict}).Dial(ctx, host)
		if err == nil || !strings.Contains(err.Error(), "not in") {
			t.Fatalf("err %v", err)
		}
	})
}
