package push

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	mwinrm "github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

	"muster/push/shell"
	"muster/push/winrm"
)

// WinRMConfig configures WinRM connections.
type WinRMConfig struct {
	User, Password string
	// CACert (PEM) validates winrms:// hosts; Insecure skips validation.
	CACert   []byte
	Insecure bool
	// Auth is the logon: NTLM (the default; sealed messages over HTTP),
	// Kerberos (HTTPS only, with Krb5Conf) or Basic (HTTPS only: never
	// over plain HTTP).
	Auth winrm.Auth
	// Krb5Conf names the Kerberos realm and KDC (AuthKerberos).
	Krb5Conf string
	// Shell is the target's command shell: "windows" (cmd.exe and
	// PowerShell, the default) or "sh" (a POSIX host behind WinRM, such as
	// the test emulator).
	Shell string
	// OperationTimeout is how long a Receive may be held by the server
	// (WinRM's w:OperationTimeout, default 20 s); each HTTP request may take
	// 10 s more.
	OperationTimeout time.Duration
	// ConnectTimeout bounds connecting and opening the shell (default 15 s).
	ConnectTimeout time.Duration
	Dial           DialFunc
}

// WinRMFault is a SOAP fault the server sent.
type WinRMFault struct {
	Status  int
	Code    string // WSManFault Code, e.g. 2150858793
	Subcode string // e.g. w:TimedOut
	Reason  string
}

func (f *WinRMFault) Error() string {
	return fmt.Sprintf("winrm fault %s (%s, HTTP %d): %s", f.Code, f.Subcode, f.Status, f.Reason)
}

// WinRMDialer connects to hosts over WinRM. Each host gets its own
// parameters and HTTP client: winrm.DefaultParameters is never touched.
type WinRMDialer struct{ cfg WinRMConfig }

// NewWinRMDialer checks cfg.
func NewWinRMDialer(cfg WinRMConfig) (*WinRMDialer, error) {
	if cfg.User == "" || cfg.Password == "" {
		return nil, errors.New("winrm: --user and a password are needed")
	}
	if cfg.Shell == "" {
		cfg.Shell = "windows"
	}
	if cfg.Shell != "windows" && cfg.Shell != "sh" {
		return nil, fmt.Errorf("winrm: shell %q: want windows or sh", cfg.Shell)
	}
	if cfg.OperationTimeout <= 0 {
		cfg.OperationTimeout = 20 * time.Second
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 15 * time.Second
	}
	switch cfg.Auth {
	case "":
		cfg.Auth = winrm.AuthNTLM
	case winrm.AuthNTLM, winrm.AuthBasic, winrm.AuthKerberos:
	default:
		return nil, fmt.Errorf("winrm: --auth %q: want ntlm, kerberos or basic", cfg.Auth)
	}
	if len(cfg.CACert) > 0 && !x509.NewCertPool().AppendCertsFromPEM(cfg.CACert) {
		return nil, errors.New("winrm: the CA file holds no PEM certificate")
	}
	return &WinRMDialer{cfg: cfg}, nil
}

// Dial opens a shell on h: this proves the host is reachable and takes the
// credentials.
func (d *WinRMDialer) Dial(ctx context.Context, h Host) (Transport, error) {
	scheme := h.Scheme
	if scheme == "" || scheme == SchemeSSH {
		scheme = SchemeWinRM
	}
	port := h.Port
	if port == 0 {
		port = scheme.DefaultPort()
	}
	https := scheme == SchemeWinRMS
	addr := net.JoinHostPort(h.Name, strconv.Itoa(port))
	tlsCfg := &tls.Config{InsecureSkipVerify: d.cfg.Insecure, MinVersion: tls.VersionTLS12}
	if len(d.cfg.CACert) > 0 {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(d.cfg.CACert)
		tlsCfg.RootCAs = pool
	}
	hc, err := winrm.New(winrm.Config{Addr: addr, HTTPS: https, TLS: tlsCfg, Auth: d.cfg.Auth, User: d.cfg.User,
		Password: d.cfg.Password, Dial: defaultDial(d.cfg.Dial), RequestTimeout: d.cfg.OperationTimeout + 10*time.Second, Krb5Conf: d.cfg.Krb5Conf})
	if err != nil {
		var ae *winrm.AuthError
		if errors.As(err, &ae) {
			return nil, &AuthError{err}
		}
		return nil, err
	}
	ep := mwinrm.NewEndpoint(h.Name, port, https, d.cfg.Insecure, nil, nil, nil, d.cfg.OperationTimeout+10*time.Second)
	params := mwinrm.NewParameters(fmt.Sprintf("PT%dS", int(d.cfg.OperationTimeout.Seconds())), "en-US", 153600)
	tr := &winrmTransporter{ctx: ctx, cfg: d.cfg, addr: addr, http: hc}
	params.TransportDecorator = func() mwinrm.Transporter { return tr }
	client, err := mwinrm.NewClientWithParameters(ep, d.cfg.User, d.cfg.Password, params)
	if err != nil {
		return nil, fmt.Errorf("winrm %s: %w", tr.addr, err)
	}
	dctx, cancel := context.WithTimeout(ctx, d.cfg.ConnectTimeout)
	defer cancel()
	tr.setOp(dctx)
	shell, err := client.CreateShell()
	tr.setOp(nil)
	var st *errStopped
	switch {
	case errors.As(err, &st) && (errors.Is(err, context.DeadlineExceeded) || dctx.Err() != nil && ctx.Err() == nil):
		// No answer before the deadline while opening a shell: the host
		// is not there for us.
		return nil, &UnreachableError{fmt.Errorf("winrm %s: no answer: %w", tr.addr, err)}
	case err != nil:
		hc.Close()
		return nil, err
	}
	return &winrmTransport{tr: tr, shell: shell, family: d.cfg.Shell}, nil
}

// winrmTransporter replaces the client's HTTP layer with package winrm's
// (NTLM with sealing, connection-bound contexts, per-host TLS and dialing),
// binds every request to the host's context, and makes every failure an
// error (the pinned client hands SOAP faults back as if they succeeded).
type winrmTransporter struct {
	ctx  context.Context
	cfg  WinRMConfig
	addr string
	http *winrm.Client
	mu   sync.Mutex
	// op is the current operation's context (Run or Upload), if any.
	op context.Context
}

// Transport is called by the client once; the HTTP layer is ready already.
func (t *winrmTransporter) Transport(*mwinrm.Endpoint) error { return nil }

func (t *winrmTransporter) context() context.Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.op != nil {
		return t.op
	}
	return t.ctx
}

func (t *winrmTransporter) setOp(ctx context.Context) {
	t.mu.Lock()
	t.op = ctx
	t.mu.Unlock()
}

// errStopped ends the client's Receive loop: it retries anything that looks
// like a timeout, and an expired context does.
type errStopped struct{ err error }

func (e *errStopped) Error() string { return "winrm: stopped: " + e.err.Error() }
func (e *errStopped) Unwrap() error { return e.err }

func (t *winrmTransporter) Post(c *mwinrm.Client, msg *soap.SoapMessage) (string, error) {
	ctx := t.context()
	if err := ctx.Err(); err != nil {
		return "", &errStopped{err}
	}
	if err := t.ctx.Err(); err != nil {
		return "", &errStopped{err}
	}
	// Serialized once: a Send carries up to ~120 KB of base64.
	req := []byte(msg.String())
	status, body, err := t.http.Post(ctx, req)
	var ae *winrm.AuthError
	var ne *winrm.NetError
	switch {
	case err == nil:
	case ctx.Err() != nil || t.ctx.Err() != nil:
		return "", &errStopped{err}
	case errors.As(err, &ae):
		return "", &AuthError{err}
	case errors.As(err, &ne):
		return "", &UnreachableError{err}
	default:
		return "", err
	}
	switch {
	case status == http.StatusRequestEntityTooLarge:
		return "", fmt.Errorf("winrm %s: HTTP 413: the request is over the server's MaxEnvelopeSizekb", t.addr)
	case status != http.StatusOK:
		if f := parseFault(body); f != nil {
			f.Status = status
			return "", f
		}
		return "", fmt.Errorf("winrm %s: HTTP %d", t.addr, status)
	}
	if f := parseFault(body); f != nil {
		f.Status = status
		return "", f
	}
	if bytes.Contains(req, []byte("transfer/Create")) && !bytes.Contains(body, []byte("ShellId")) {
		return "", fmt.Errorf("winrm %s: the shell was not created (no ShellId in the reply)", t.addr)
	}
	return string(body), nil
}

// parseFault extracts a SOAP fault from a reply, or nil.
func parseFault(body []byte) *WinRMFault {
	if !bytes.Contains(body, []byte("Fault")) {
		return nil
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	var f WinRMFault
	var stack []string
	inFault := false
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			if t.Name.Local == "Fault" && t.Name.Space == "http://www.w3.org/2003/05/soap-envelope" {
				inFault = true
			}
			if t.Name.Local == "WSManFault" {
				for _, a := range t.Attr {
					if a.Name.Local == "Code" {
						f.Code = a.Value
					}
				}
			}
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if !inFault || len(stack) < 2 {
				continue
			}
			text := strings.TrimSpace(string(t))
			if text == "" {
				continue
			}
			parent, cur := stack[len(stack)-2], stack[len(stack)-1]
			switch {
			case parent == "Subcode" && cur == "Value":
				f.Subcode = text
			case parent == "Reason" && cur == "Text":
				f.Reason = text
			case cur == "Message" && f.Reason == "":
				f.Reason = text
			}
		}
	}
	if !inFault {
		return nil
	}
	return &f
}

type winrmTransport struct {
	tr     *winrmTransporter
	shell  *mwinrm.Shell
	family string
	mu     sync.Mutex // one command at a time per shell
	// lost is set when a command's end was not seen (the connection
	// failed while it ran): it may still be running, and deleting the
	// shell would kill it, so the shell is left to the host's IdleTimeout.
	lost bool
}

func (t *winrmTransport) Family() string { return t.family }

func (t *winrmTransport) Close() error {
	if t.lost {
		t.tr.http.Close()
		return nil
	}
	// Delete the shell, within a short bound of its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.tr.ctx), 5*time.Second)
	defer cancel()
	t.tr.setOp(ctx)
	err := t.shell.Close()
	t.tr.http.Close()
	return err
}

// stdinWriter is the client's command input. The end of input must be
// sent with Close: the pinned client's WriteClose marks the pipe closed
// before writing, so it sends nothing at all.
type stdinWriter interface {
	Write([]byte) (int, error)
	Close() error
}

// exec runs cmd with optional stdin, collecting bounded output.
func (t *winrmTransport) exec(ctx context.Context, cmd string, stdin func(stdinWriter) error) (Exec, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tr.setOp(ctx)
	defer t.tr.setOp(nil)
	c, err := t.shell.ExecuteWithContext(ctx, cmd)
	if err != nil {
		return Exec{ExitCode: -1}, wrapCtx(ctx, err)
	}
	out, errb := &tail{n: OutputLimit}, &tail{n: OutputLimit}
	var wg sync.WaitGroup
	var outErr, errErr error
	wg.Add(2)
	// A failed Receive closes both pipes with the error: that is how the
	// client reports it.
	go func() { defer wg.Done(); _, outErr = io.Copy(out, c.Stdout) }()
	go func() { defer wg.Done(); _, errErr = io.Copy(errb, c.Stderr) }()
	var inErr error
	if stdin != nil {
		inErr = stdin(c.Stdin)
	}
	wg.Wait()
	c.Wait()
	ex := Exec{ExitCode: c.ExitCode(), Stdout: out.b, Stderr: errb.b}
	if ctx.Err() != nil {
		c.Close()
		return Exec{ExitCode: -1, Stdout: out.b, Stderr: errb.b}, fmt.Errorf("winrm %s: %q: %w", t.tr.addr, brief(cmd), ctx.Err())
	}
	if inErr != nil {
		return ex, fmt.Errorf("winrm %s: send input: %w", t.tr.addr, wrapCtx(ctx, inErr))
	}
	if err := errors.Join(outErr, errErr); err != nil {
		t.lost = true
		return Exec{ExitCode: -1, Stdout: out.b, Stderr: errb.b}, fmt.Errorf("winrm %s: %q: %w", t.tr.addr, brief(cmd), err)
	}
	c.Close()
	return ex, nil
}

func wrapCtx(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

func (t *winrmTransport) Run(ctx context.Context, cmd string) (Exec, error) {
	return t.exec(ctx, cmd, nil)
}

// uploadChunk is the raw bytes per stdin message: base64 twice (ours, then
// the protocol's) keeps the envelope near 120 KB, under even the 150 KiB
// MaxEnvelopeSizekb of older Windows. The client's own chunking ignores
// base64 growth, so it never sees more than this per write.
const uploadChunk = 64 << 10

// Upload streams the file as base64 lines over the stdin of a decoding
// command on the target, which writes a .part file, checks its size and
// renames it.
func (t *winrmTransport) Upload(ctx context.Context, r io.Reader, size int64, remote string) error {
	sh, err := shell.For(t.family)
	if err != nil {
		return err
	}
	cmd := sh.Upload(remote, size)
	ex, err := t.exec(ctx, cmd, func(w stdinWriter) error {
		defer w.Close() // sends the end of input
		buf := make([]byte, uploadChunk)
		line := make([]byte, base64.StdEncoding.EncodedLen(uploadChunk)+1)
		for {
			n, rerr := io.ReadFull(r, buf)
			if n > 0 {
				m := base64.StdEncoding.EncodedLen(n)
				base64.StdEncoding.Encode(line, buf[:n])
				line[m] = '\n'
				if _, err := w.Write(line[:m+1]); err != nil {
					return err
				}
			}
			if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
				return nil
			}
			if rerr != nil {
				return rerr
			}
		}
	})
	if err != nil {
		return fmt.Errorf("upload %s: %w", remote, err)
	}
	if ex.ExitCode != 0 {
		return fmt.Errorf("winrm %s: upload %s: exit %d: %s", t.tr.addr, remote, ex.ExitCode, lastLine(string(ex.Stdout)+string(ex.Stderr)))
	}
	return nil
}

// brief is a command as an error names it: an encoded script is cut.
func brief(cmd string) string {
	if len(cmd) > 80 {
		return cmd[:77] + "..."
	}
	return cmd
}
