package push

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// HostKeyPolicy says what to do with host keys, as OpenSSH's
// StrictHostKeyChecking.
type HostKeyPolicy string

// Host key policies. A changed key is refused by all but Insecure.
const (
	// AcceptNew records the key of a host seen for the first time.
	AcceptNew HostKeyPolicy = "accept-new"
	// Strict refuses hosts not already in known_hosts.
	Strict HostKeyPolicy = "strict"
	// Insecure accepts any key: only for throw-away labs, and said loudly.
	Insecure HostKeyPolicy = "insecure"
)

// SSHConfig configures SSH connections.
type SSHConfig struct {
	User     string
	Password string
	// Signers are private keys to offer; UseAgent adds the keys of the
	// agent at $SSH_AUTH_SOCK.
	Signers  []ssh.Signer
	UseAgent bool
	// AgentIfAny uses the agent when $SSH_AUTH_SOCK answers, as OpenSSH
	// does, and goes on without it otherwise.
	AgentIfAny bool
	// KnownHosts is the known_hosts file to check and (AcceptNew) extend.
	KnownHosts string
	Policy     HostKeyPolicy
	// HandshakeTimeout bounds connect + SSH handshake + authentication.
	HandshakeTimeout time.Duration
	Dial             DialFunc
}

// SSHDialer connects to hosts over SSH. It is safe for concurrent use.
type SSHDialer struct {
	cfg SSHConfig

	mu       sync.Mutex
	db       *knownhosts.HostKeyDB
	accepted map[string]ssh.PublicKey // keys recorded in this run, by host
}

// NewSSHDialer checks cfg and loads known_hosts.
func NewSSHDialer(cfg SSHConfig) (*SSHDialer, error) {
	if cfg.Policy == "" {
		cfg.Policy = AcceptNew
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 15 * time.Second
	}
	d := &SSHDialer{cfg: cfg, accepted: map[string]ssh.PublicKey{}}
	if cfg.Policy != Insecure {
		if cfg.KnownHosts == "" {
			return nil, errors.New("ssh: no known_hosts file (--known-hosts)")
		}
		if _, err := os.Stat(cfg.KnownHosts); errors.Is(err, os.ErrNotExist) {
			if cfg.Policy == Strict {
				return nil, fmt.Errorf("ssh: --strict-host-keys and %s does not exist", cfg.KnownHosts)
			}
			if err := os.WriteFile(cfg.KnownHosts, nil, 0o600); err != nil {
				return nil, fmt.Errorf("ssh: create %s: %w", cfg.KnownHosts, err)
			}
		}
		db, err := knownhosts.NewDB(cfg.KnownHosts)
		if err != nil {
			return nil, fmt.Errorf("ssh: read %s: %w", cfg.KnownHosts, err)
		}
		d.db = db
	}
	return d, nil
}

func (d *SSHDialer) hostKeyCallback(addr string) ssh.HostKeyCallback {
	if d.cfg.Policy == Insecure {
		return ssh.InsecureIgnoreHostKey()
	}
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := d.db.HostKeyCallback()(hostname, remote, key)
		if err == nil {
			return nil
		}
		if knownhosts.IsHostKeyChanged(err) {
			return fmt.Errorf("host key of %s CHANGED (%s %s): refusing; if the host was reinstalled, remove its line from %s",
				hostname, key.Type(), ssh.FingerprintSHA256(key), d.cfg.KnownHosts)
		}
		if !knownhosts.IsHostUnknown(err) {
			return err
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		norm := knownhosts.Normalize(hostname)
		if k, ok := d.accepted[norm]; ok {
			if string(k.Marshal()) == string(key.Marshal()) {
				return nil
			}
			return fmt.Errorf("host key of %s CHANGED during this run: refusing", hostname)
		}
		if d.cfg.Policy == Strict {
			return fmt.Errorf("host %s is not in %s (--strict-host-keys): add it with ssh-keyscan, or drop --strict-host-keys to accept new hosts", hostname, d.cfg.KnownHosts)
		}
		f, ferr := os.OpenFile(d.cfg.KnownHosts, os.O_APPEND|os.O_WRONLY, 0o600)
		if ferr != nil {
			return fmt.Errorf("record host key of %s: %w", hostname, ferr)
		}
		defer f.Close()
		if _, werr := fmt.Fprintln(f, knownhosts.Line([]string{norm}, key)); werr != nil {
			return fmt.Errorf("record host key of %s: %w", hostname, werr)
		}
		d.accepted[norm] = key
		return nil
	}
}

func (d *SSHDialer) auth() ([]ssh.AuthMethod, func(), error) {
	var methods []ssh.AuthMethod
	closeAgent := func() {}
	signers := append([]ssh.Signer(nil), d.cfg.Signers...)
	sock := os.Getenv("SSH_AUTH_SOCK")
	switch {
	case d.cfg.UseAgent && sock == "":
		return nil, nil, errors.New("ssh: --ssh-agent but SSH_AUTH_SOCK is not set")
	case d.cfg.UseAgent || d.cfg.AgentIfAny && sock != "":
		conn, err := net.Dial("unix", sock)
		if err != nil {
			if d.cfg.UseAgent {
				return nil, nil, fmt.Errorf("ssh: agent at %s: %w", sock, err)
			}
			break
		}
		closeAgent = func() { conn.Close() }
		agentSigners, err := agent.NewClient(conn).Signers()
		if err != nil && d.cfg.UseAgent {
			conn.Close()
			return nil, nil, fmt.Errorf("ssh: agent: %w", err)
		}
		// The agent's keys first, as OpenSSH offers them.
		signers = append(agentSigners, signers...)
	}
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if d.cfg.Password != "" {
		pw := d.cfg.Password
		methods = append(methods, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, qs []string, echos []bool) ([]string, error) {
				ans := make([]string, len(qs))
				for i := range qs {
					if !echos[i] {
						ans[i] = pw
					}
				}
				return ans, nil
			}))
	}
	if len(methods) == 0 {
		closeAgent()
		return nil, nil, errors.New("ssh: no credentials: no --key, no unencrypted ~/.ssh/id_* key, no agent at $SSH_AUTH_SOCK, no --password")
	}
	return methods, closeAgent, nil
}

// Dial connects and authenticates to h, within the handshake timeout.
func (d *SSHDialer) Dial(ctx context.Context, h Host) (Transport, error) {
	addr := hostPort(h, SchemeSSH)
	user := d.cfg.User
	if h.User != "" {
		user = h.User
	}
	if user == "" {
		return nil, fmt.Errorf("ssh %s: no user (--user, or ssh://user@host in the host list)", addr)
	}
	methods, closeAgent, err := d.auth()
	if err != nil {
		return nil, err
	}
	defer closeAgent()
	hctx, cancel := context.WithTimeout(ctx, d.cfg.HandshakeTimeout)
	defer cancel()
	conn, err := defaultDial(d.cfg.Dial)(hctx, "tcp", addr)
	if err != nil {
		return nil, &UnreachableError{err}
	}
	// x/crypto/ssh's Timeout covers only the TCP connect: bound the whole
	// handshake with a deadline on the connection.
	deadline, _ := hctx.Deadline()
	conn.SetDeadline(deadline)
	cfg := &ssh.ClientConfig{User: user, Auth: methods, HostKeyCallback: d.hostKeyCallback(addr)}
	if d.db != nil {
		// Offer only the key types known_hosts holds for this host, so a
		// server with several keys is not mistaken for a changed one.
		cfg.HostKeyAlgorithms = d.db.HostKeyAlgorithms(addr)
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		msg := err.Error()
		switch {
		case strings.Contains(msg, "unable to authenticate"), strings.Contains(msg, "no supported methods remain"):
			return nil, &AuthError{fmt.Errorf("%s as %s: %w", addr, user, err)}
		case strings.Contains(msg, "host key"), strings.Contains(msg, "known_hosts"), strings.Contains(msg, "CHANGED"):
			return nil, fmt.Errorf("%s: %w", addr, err)
		case isNetworkFailure(err), hctx.Err() != nil:
			return nil, &UnreachableError{fmt.Errorf("%s: ssh handshake: %w", addr, err)}
		}
		return nil, fmt.Errorf("%s: ssh handshake: %w", addr, err)
	}
	conn.SetDeadline(time.Time{})
	return &sshTransport{client: ssh.NewClient(c, chans, reqs), addr: addr}, nil
}

type sshTransport struct {
	client *ssh.Client
	addr   string
}

func (t *sshTransport) Family() string { return "sh" }

func (t *sshTransport) Close() error { return t.client.Close() }

// Run runs cmd in a session; when ctx ends the remote process is sent
// SIGKILL and the session closed.
func (t *sshTransport) Run(ctx context.Context, cmd string) (Exec, error) {
	s, err := t.client.NewSession()
	if err != nil {
		return Exec{}, &UnreachableError{fmt.Errorf("%s: new session: %w", t.addr, err)}
	}
	defer s.Close()
	out, errb := &tail{n: OutputLimit}, &tail{n: OutputLimit}
	s.Stdout, s.Stderr = out, errb
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case <-ctx.Done():
		s.Signal(ssh.SIGKILL)
		s.Close()
		return Exec{ExitCode: -1, Stdout: out.b, Stderr: errb.b}, fmt.Errorf("%s: %q: %w", t.addr, cmd, ctx.Err())
	case err = <-done:
	}
	var ee *ssh.ExitError
	switch {
	case err == nil:
		return Exec{Stdout: out.b, Stderr: errb.b}, nil
	case errors.As(err, &ee):
		return Exec{ExitCode: ee.ExitStatus(), Stdout: out.b, Stderr: errb.b}, nil
	}
	return Exec{ExitCode: -1, Stdout: out.b, Stderr: errb.b}, &UnreachableError{fmt.Errorf("%s: run %q: %w", t.addr, cmd, err)}
}

// Upload writes to a temporary name beside remote over SFTP, then renames,
// so a partial file never sits under the final name.
func (t *sshTransport) Upload(ctx context.Context, r io.Reader, size int64, remote string) error {
	c, err := sftp.NewClient(t.client, sftp.UseConcurrentWrites(true), sftp.MaxConcurrentRequestsPerFile(64))
	if err != nil {
		return fmt.Errorf("%s: sftp (is the sftp subsystem enabled?): %w", t.addr, err)
	}
	defer c.Close()
	if dir := path.Dir(remote); dir != "." && dir != "/" {
		if err := c.MkdirAll(dir); err != nil {
			return fmt.Errorf("%s: mkdir %s: %w", t.addr, dir, err)
		}
	}
	// A name of its own: hosts that share a home directory (NFS) each
	// write their own file, and only a complete one is renamed into place.
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := fmt.Sprintf("%s.%x.part", remote, rnd)
	f, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return fmt.Errorf("%s: create %s: %w", t.addr, tmp, err)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	n, err := f.ReadFrom(r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != size {
		err = fmt.Errorf("wrote %d of %d bytes", n, size)
	}
	if err != nil {
		c.Remove(tmp)
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fmt.Errorf("%s: upload %s: %w", t.addr, remote, err)
	}
	c.Remove(remote)
	if err := c.Rename(tmp, remote); err != nil {
		return fmt.Errorf("%s: rename %s: %w", t.addr, remote, err)
	}
	return nil
}

// DefaultKeyFiles are the private keys OpenSSH tries when none is named.
var DefaultKeyFiles = []string{"id_ed25519", "id_ecdsa", "id_ecdsa_sk", "id_ed25519_sk", "id_rsa"}

// DefaultKeys loads the unencrypted keys of ~/.ssh that OpenSSH would try
// (DefaultKeyFiles), and says which it passed over (encrypted ones belong
// in the agent).
func DefaultKeys(home string) (signers []ssh.Signer, skipped []string) {
	for _, name := range DefaultKeyFiles {
		p := path.Join(home, ".ssh", name)
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s, err := ssh.ParsePrivateKey(b)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		signers = append(signers, s)
	}
	return signers, skipped
}
