//go:build linux

package testbed

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// The test user every sshd host accepts, by key (SSHKeyPath) or password.
const (
	SSHUser     = "muster"
	SSHPassword = "muster-test"
	sshUID      = 64077
	// sha512-crypt of SSHPassword (openssl passwd -6 -salt musterbed).
	sshPasswordHash = "$6$musterbed$.bMTLKxlv.pqFrEX7293k6qNNMblGFQUQVX41I3xZ11JROhT1xM/F3IF8KFI.2vTh.UZS0k7rnCuDKB/F/vHO0"
)

type sshConfig struct {
	clientKey string // path of the test user's private key
	signer    ssh.Signer
	hostKeys  map[string]ssh.PublicKey // by host IP
}

// SSHKeyPath returns the test user's private key file (OpenSSH format).
func (b *Bed) SSHKeyPath() string {
	if b.ssh == nil {
		return ""
	}
	return b.ssh.clientKey
}

// SSHSigner returns the test user's key for golang.org/x/crypto/ssh.
func (b *Bed) SSHSigner() ssh.Signer {
	if b.ssh == nil {
		return nil
	}
	return b.ssh.signer
}

// SSHHostKey returns the host key of the sshd on ip, for known_hosts.
func (b *Bed) SSHHostKey(ip string) ssh.PublicKey {
	if b.ssh == nil {
		return nil
	}
	return b.ssh.hostKeys[ip]
}

func newKey(path string) (ssh.Signer, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(sshPub), 0o644); err != nil {
		return nil, err
	}
	return ssh.NewSignerFromKey(priv)
}

// etcWithUser returns the system's file with the test user's line added.
func etcWithUser(file, line string) (string, error) {
	data, err := os.ReadFile(filepath.Join("/etc", file))
	if err != nil {
		return "", err
	}
	var out strings.Builder
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if !strings.HasPrefix(l, SSHUser+":") {
			out.WriteString(l + "\n")
		}
	}
	out.WriteString(line + "\n")
	return out.String(), nil
}

func (b *Bed) startSSH(ctx context.Context) error {
	var hosts []Host
	for _, h := range b.hosts {
		if b.LANs[h.LAN].SSH {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return nil
	}
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/sshd"); err2 != nil {
			return fmt.Errorf("sshd is not installed (Debian: openssh-server)")
		}
		sshd = "/usr/sbin/sshd"
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // sshd's privilege separation directory
		return err
	}
	key := filepath.Join(b.Dir, "id_ed25519")
	signer, err := newKey(key)
	if err != nil {
		return err
	}
	b.ssh = &sshConfig{clientKey: key, signer: signer, hostKeys: map[string]ssh.PublicKey{}}
	authKeys := filepath.Join(b.Dir, "authorized_keys")
	if err := os.WriteFile(authKeys, ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		return err
	}
	group, err := etcWithUser("group", fmt.Sprintf("%s:x:%d:", SSHUser, sshUID))
	if err != nil {
		return err
	}
	for _, h := range hosts {
		dir := filepath.Join(b.Dir, "hosts", h.Netns)
		home := filepath.Join(dir, "home")
		if err := os.MkdirAll(home, 0o755); err != nil {
			return err
		}
		os.Chown(home, sshUID, sshUID)
		os.Chmod(filepath.Join(b.Dir), 0o755)
		hostSigner, err := newKey(filepath.Join(dir, "ssh_host_ed25519_key"))
		if err != nil {
			return err
		}
		b.ssh.hostKeys[h.IP] = hostSigner.PublicKey()
		cfg := filepath.Join(dir, "sshd_config")
		conf := fmt.Sprintf(`ListenAddress %s:22
HostKey %s/ssh_host_ed25519_key
PidFile %s/sshd.pid
AuthorizedKeysFile %s
AllowUsers %s
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
StrictModes no
UseDNS no
MaxStartups 200
MaxSessions 64
LogLevel ERROR
Subsystem sftp internal-sftp
`, h.IP, dir, dir, authKeys, SSHUser)
		if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
			return err
		}
		passwd, err := etcWithUser("passwd", fmt.Sprintf("%s:x:%d:%d:muster test user:%s:/bin/sh", SSHUser, sshUID, sshUID, home))
		if err != nil {
			return err
		}
		shadow, err := etcWithUser("shadow", fmt.Sprintf("%s:%s:19000:0:99999:7:::", SSHUser, sshPasswordHash))
		if err != nil {
			return err
		}
		if err := writeEtc(h.Netns, map[string]string{"passwd": passwd, "group": group, "shadow": shadow}); err != nil {
			return err
		}
		if _, err := b.start(h.Netns, filepath.Join(dir, "sshd.log"), sshd, "-D", "-e", "-f", cfg); err != nil {
			return fmt.Errorf("sshd on %s: %w", h.Name, err)
		}
		b.setHome(h.Netns, home)
	}
	// Wait until every sshd accepts connections.
	for _, h := range hosts {
		addr := net.JoinHostPort(h.IP, "22")
		ok := waitFor(10*time.Second, func() bool {
			c, err := b.DialContext(ctx, "tcp", addr)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		if !ok {
			log, _ := os.ReadFile(filepath.Join(b.Dir, "hosts", h.Netns, "sshd.log"))
			return fmt.Errorf("sshd on %s (%s) does not accept connections: %s", h.Name, addr, log)
		}
	}
	return nil
}

func (b *Bed) setHome(ns, home string) {
	for i := range b.hosts {
		if b.hosts[i].Netns == ns {
			b.hosts[i].Home = home
		}
	}
}

// start runs a command inside namespace ns, output to logPath, in its own
// process group; the bed kills it on Down.
func (b *Bed) start(ns, logPath string, args ...string) (*exec.Cmd, error) {
	cmd := nsCommand(ns, args...)
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.procs = append(b.procs, cmd.Process)
	b.mu.Unlock()
	go cmd.Wait() // reap
	return cmd, nil
}

// Start runs a command the caller names inside host h (any program: the
// WinRM emulator, a web server…), with output appended to logPath if not
// empty. The bed kills it on Down.
func (b *Bed) Start(h Host, logPath string, args ...string) (*exec.Cmd, error) {
	cmd, err := b.start(h.Netns, logPath, args...)
	if err != nil {
		return nil, fmt.Errorf("testbed: start %v on %s: %w", args, h.Name, err)
	}
	return cmd, nil
}

// Command returns a command that runs in the operator namespace (arp-scan,
// ssh, muster…); the caller runs it.
func (b *Bed) Command(args ...string) *exec.Cmd { return nsCommand(b.Operator, args...) }

// HostCommand returns a command that runs inside host h.
func (b *Bed) HostCommand(h Host, args ...string) *exec.Cmd { return nsCommand(h.Netns, args...) }

// DialContext dials from the operator namespace, so in-process clients
// (SSH, WinRM, HTTP) reach the bed's hosts. The connection stays in the
// operator namespace.
func (b *Bed) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var conn net.Conn
	err := inNS(b.Operator, func() error {
		var err error
		conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return conn, err
}

// ListenOperator opens a listener in the operator namespace (a muster
// server that the bed's hosts call).
func (b *Bed) ListenOperator(network, addr string) (net.Listener, error) {
	var ln net.Listener
	err := inNS(b.Operator, func() error {
		var err error
		ln, err = net.Listen(network, addr)
		return err
	})
	return ln, err
}

// readLines returns the non-empty lines of a command's output.
func readLines(out []byte) []string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// InOperator runs fn on an OS thread in the operator namespace, for code
// that opens its own sockets there (a capture, a raw link). Sockets fn
// opens stay in the namespace.
func (b *Bed) InOperator(fn func() error) error { return inNS(b.Operator, fn) }
