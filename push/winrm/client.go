// Package winrm is the HTTP side of WinRM as a default Windows host
// expects it: NTLM under Negotiate, bound to a TCP connection, with every
// message sealed over plain HTTP (MS-WSMV encrypted bodies), and NTLM or
// Basic over HTTPS. Basic never crosses plain HTTP, and nothing falls back
// from NTLM to Basic. It is separate from package push so that the WinRM
// emulator can share the encrypted-body codec without importing the pusher.
package winrm

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bodgit/ntlmssp"
)

// Auth is how the client logs on.
type Auth string

// Logon methods.
const (
	// AuthNTLM is Negotiate with NTLMv2; over HTTP every message is sealed.
	AuthNTLM Auth = "ntlm"
	// AuthBasic sends the password in each request: HTTPS only.
	AuthBasic Auth = "basic"
)

// Config is one host's connection settings.
type Config struct {
	// Addr is host:port.
	Addr  string
	HTTPS bool
	// TLS validates the host's certificate (HTTPS).
	TLS  *tls.Config
	Auth Auth
	// User is DOMAIN\user, user@domain or a local user.
	User, Password string
	Dial           func(ctx context.Context, network, addr string) (net.Conn, error)
	// MaxConns bounds the connections kept to the host; each has its own
	// NTLM context (default 3: a Receive held by the server, a Send, and one
	// to spare).
	MaxConns int
	// RequestTimeout bounds one request from write to the last byte of the
	// reply (default 90 s); it must exceed the WinRM OperationTimeout.
	RequestTimeout time.Duration
	// MaxReply bounds a reply's size (default 16 MiB).
	MaxReply int64
	// Krb5Conf names the realm and KDC for AuthKerberos; SPN overrides
	// the service principal (default HTTP/<host>).
	Krb5Conf, SPN string
}

// AuthError is a logon the host refused, or one muster refuses to make.
type AuthError struct {
	// Offered lists the schemes the host's 401 named (WWW-Authenticate).
	Offered []string
	Msg     string
}

// Error says what was refused and what the host offered.
func (e *AuthError) Error() string {
	if len(e.Offered) == 0 {
		return e.Msg
	}
	return fmt.Sprintf("%s (the host offers %s)", e.Msg, strings.Join(e.Offered, ", "))
}

// NetError is the network failing: no connection, reset, or no answer in time.
type NetError struct {
	Err error
	// Sent is set when the request had been written before the failure,
	// so the host may have acted on it.
	Sent bool
}

func (e *NetError) Error() string { return e.Err.Error() }
func (e *NetError) Unwrap() error { return e.Err }

// Client posts SOAP messages to one host.
type Client struct {
	cfg    Config
	url    string
	sem    chan struct{}
	mu     sync.Mutex
	idle   []*conn
	closed bool
}

// New checks cfg. Basic over plain HTTP is refused here, before any
// connection: the password would cross the network in clear.
func New(cfg Config) (*Client, error) {
	switch cfg.Auth {
	case "":
		cfg.Auth = AuthNTLM
	case AuthNTLM, AuthBasic, AuthKerberos:
	default:
		return nil, fmt.Errorf("winrm: auth %q: want ntlm, kerberos or basic", cfg.Auth)
	}
	if cfg.Auth == AuthBasic && !cfg.HTTPS {
		return nil, &AuthError{Msg: "winrm: Basic over plain HTTP would send the password in clear: use winrms:// (HTTPS) or NTLM"}
	}
	if cfg.Auth == AuthKerberos && !cfg.HTTPS {
		return nil, &AuthError{Msg: "winrm: Kerberos over plain HTTP would need message sealing, which muster does not do yet: use winrms:// (HTTPS) or NTLM"}
	}
	if cfg.User == "" {
		return nil, errors.New("winrm: no user")
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 3
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 90 * time.Second
	}
	if cfg.MaxReply <= 0 {
		cfg.MaxReply = 16 << 20
	}
	if cfg.Dial == nil {
		cfg.Dial = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	scheme := "http"
	if cfg.HTTPS {
		scheme = "https"
	}
	return &Client{cfg: cfg, url: scheme + "://" + cfg.Addr + "/wsman", sem: make(chan struct{}, cfg.MaxConns)}, nil
}

// URL is the host's WS-Management endpoint.
func (c *Client) URL() string { return c.url }

// conn is one TCP (or TLS) connection and, with NTLM, its security context.
type conn struct {
	nc     net.Conn
	br     *bufio.Reader
	sealer Sealer // NTLM over HTTP: every message sealed
	used   bool
	// closed is set when the host said it closes the connection.
	closed bool
}

// Post sends one SOAP message and returns the reply's status and plaintext
// body. A 401 on a connection that was authenticated before (the host
// dropped its context) is retried once on a new connection.
func (c *Client) Post(ctx context.Context, body []byte) (int, []byte, error) {
	for try := 0; ; try++ {
		cn, err := c.get(ctx)
		if err != nil {
			return 0, nil, err
		}
		reused := cn.used
		status, reply, err := c.post(ctx, cn, body)
		if err != nil {
			c.drop(cn)
			return 0, nil, err
		}
		if status == http.StatusUnauthorized {
			c.drop(cn)
			if reused && try == 0 {
				continue
			}
			return status, nil, &AuthError{Msg: fmt.Sprintf("winrm %s: the host refused %s after logon", c.cfg.Addr, c.cfg.User)}
		}
		cn.used = true
		c.put(cn)
		return status, reply, nil
	}
}

func (c *Client) post(ctx context.Context, cn *conn, body []byte) (int, []byte, error) {
	payload, ct := body, SOAPContentType
	var authz string
	if cn.sealer != nil {
		sealed, err := Seal(cn.sealer, body)
		if err != nil {
			return 0, nil, err
		}
		payload, ct = sealed, EncryptedContentType
	}
	if c.cfg.Auth == AuthBasic {
		authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(c.cfg.User+":"+c.cfg.Password))
	}
	resp, reply, err := c.roundTrip(ctx, cn, payload, ct, authz)
	if err != nil {
		return 0, nil, err
	}
	rct := resp.Header.Get("Content-Type")
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return resp.StatusCode, nil, nil
	case cn.sealer != nil && IsEncrypted(rct):
		plain, err := Open(cn.sealer, reply)
		if err != nil {
			return 0, nil, fmt.Errorf("winrm %s: reply: %w", c.cfg.Addr, err)
		}
		return resp.StatusCode, plain, nil
	case cn.sealer != nil && len(reply) > 0:
		// Fail closed: a sealed session answered in clear.
		return 0, nil, fmt.Errorf("winrm %s: HTTP %d reply is not encrypted (%q): refused", c.cfg.Addr, resp.StatusCode, rct)
	}
	return resp.StatusCode, reply, nil
}

// roundTrip writes one request on cn and reads its reply, bounded by ctx
// and RequestTimeout.
func (c *Client) roundTrip(ctx context.Context, cn *conn, payload []byte, ct, authz string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(payload))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("User-Agent", "muster-winrm")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	deadline := time.Now().Add(c.cfg.RequestTimeout)
	// The context's own end is signalled by AfterFunc below, so that the
	// error names it; the socket deadline is only a backstop.
	if d, ok := ctx.Deadline(); ok && d.Add(time.Second).Before(deadline) {
		deadline = d.Add(time.Second)
	}
	cn.nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { cn.nc.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		if !stop() {
			// The context ended and put the socket's deadline in the past:
			// this connection serves no more requests.
			cn.closed = true
		}
	}()
	sent := false
	fail := func(err error) (*http.Response, []byte, error) {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return nil, nil, &NetError{Err: fmt.Errorf("winrm %s: %w", c.cfg.Addr, err), Sent: sent}
	}
	if err := req.Write(cn.nc); err != nil {
		return fail(err)
	}
	sent = true
	resp, err := http.ReadResponse(cn.br, req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxReply+1))
	if err != nil {
		return fail(err)
	}
	if int64(len(reply)) > c.cfg.MaxReply {
		return nil, nil, fmt.Errorf("winrm %s: reply over %d bytes", c.cfg.Addr, c.cfg.MaxReply)
	}
	if resp.Close {
		// The host closes it: this connection serves no more requests
		// (and an NTLM context dies with it).
		cn.closed = true
	}
	return resp, reply, nil
}

// get takes an idle connection or opens and authenticates a new one.
func (c *Client) get(ctx context.Context) (*conn, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, &NetError{Err: fmt.Errorf("winrm %s: %w", c.cfg.Addr, ctx.Err())}
	}
	c.mu.Lock()
	if n := len(c.idle); n > 0 {
		cn := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return cn, nil
	}
	c.mu.Unlock()
	cn, err := c.open(ctx)
	if err != nil {
		<-c.sem
		return nil, err
	}
	return cn, nil
}

func (c *Client) put(cn *conn) {
	c.mu.Lock()
	if c.closed || cn.closed {
		c.mu.Unlock()
		c.drop(cn)
		return
	}
	c.idle = append(c.idle, cn)
	c.mu.Unlock()
	<-c.sem
}

func (c *Client) drop(cn *conn) {
	if cn.nc != nil {
		cn.nc.Close()
	}
	<-c.sem
}

// Close closes the idle connections; requests in flight end on their own.
func (c *Client) Close() {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	for _, cn := range idle {
		cn.nc.Close()
	}
}

func (c *Client) open(ctx context.Context) (*conn, error) {
	nc, err := c.cfg.Dial(ctx, "tcp", c.cfg.Addr)
	if err != nil {
		return nil, &NetError{Err: fmt.Errorf("winrm %s: %w", c.cfg.Addr, err)}
	}
	if c.cfg.HTTPS {
		cfg := c.cfg.TLS
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if cfg.ServerName == "" {
			cfg = cfg.Clone()
			cfg.ServerName, _, _ = net.SplitHostPort(c.cfg.Addr)
		}
		tc := tls.Client(nc, cfg)
		if d, ok := ctx.Deadline(); ok {
			tc.SetDeadline(d)
		}
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			var ce *tls.CertificateVerificationError
			if errors.As(err, &ce) {
				return nil, fmt.Errorf("winrm %s: the host's certificate is not trusted: %w", c.cfg.Addr, err)
			}
			return nil, &NetError{Err: fmt.Errorf("winrm %s: TLS: %w", c.cfg.Addr, err)}
		}
		nc = tc
	}
	cn := &conn{nc: nc, br: bufio.NewReader(nc)}
	var logon func(context.Context, *conn) error
	switch c.cfg.Auth {
	case AuthNTLM:
		logon = c.logon
	case AuthKerberos:
		logon = c.logonKerberos
	}
	if logon != nil {
		if err := logon(ctx, cn); err != nil {
			nc.Close()
			return nil, err
		}
	}
	return cn, nil
}

// NTLM negotiate flags muster insists on over plain HTTP.
const (
	flagSeal = 0x00000020
	flag128  = 0x20000000
	flagESS  = 0x00080000
)

// logon runs the three NTLM legs on cn with empty POSTs, as pywinrm does:
// NEGOTIATE, the host's CHALLENGE in a 401, AUTHENTICATE, then 200.
func (c *Client) logon(ctx context.Context, cn *conn) error {
	user, domain := SplitUser(c.cfg.User)
	opts := []func(*ntlmssp.Client) error{ntlmssp.SetCompatibilityLevel(3), ntlmssp.SetUserInfo(user, c.cfg.Password)}
	if domain != "" {
		opts = append(opts, ntlmssp.SetDomain(domain))
	}
	nt, err := ntlmssp.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("winrm %s: NTLM: %w", c.cfg.Addr, err)
	}
	neg, err := nt.Authenticate(nil, nil)
	if err != nil {
		return fmt.Errorf("winrm %s: NTLM: %w", c.cfg.Addr, err)
	}
	resp, _, err := c.roundTrip(ctx, cn, nil, SOAPContentType, "Negotiate "+base64.StdEncoding.EncodeToString(neg))
	if err != nil {
		return err
	}
	if cn.closed {
		return fmt.Errorf("winrm %s: the host closed the connection in the middle of the NTLM logon", c.cfg.Addr)
	}
	offered := schemes(resp.Header)
	challenge, ok := negotiateToken(resp.Header)
	if resp.StatusCode != http.StatusUnauthorized || !ok || len(challenge) < 24 {
		if resp.StatusCode == http.StatusOK {
			return &AuthError{Msg: fmt.Sprintf("winrm %s: the host accepted a logon without credentials: refused", c.cfg.Addr)}
		}
		return &AuthError{Offered: offered, Msg: fmt.Sprintf("winrm %s: the host does not offer NTLM (Negotiate): muster never falls back to Basic", c.cfg.Addr)}
	}
	if flags := binary.LittleEndian.Uint32(challenge[20:]); !c.cfg.HTTPS && flags&(flagSeal|flag128|flagESS) != flagSeal|flag128|flagESS {
		return &AuthError{Msg: fmt.Sprintf("winrm %s: the host will not seal messages with 128-bit NTLMv2 session security (flags %#x): refused over plain HTTP", c.cfg.Addr, flags)}
	}
	var cbt *ntlmssp.ChannelBindings
	if tc, ok := cn.nc.(*tls.Conn); ok {
		cbt = channelBindings(tc)
	}
	auth, err := nt.Authenticate(challenge, cbt)
	if err != nil {
		return fmt.Errorf("winrm %s: NTLM: %w", c.cfg.Addr, err)
	}
	resp, _, err = c.roundTrip(ctx, cn, nil, SOAPContentType, "Negotiate "+base64.StdEncoding.EncodeToString(auth))
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return &AuthError{Msg: fmt.Sprintf("winrm %s: the host refused the credentials of %s (NTLM)", c.cfg.Addr, c.cfg.User)}
	default:
		return fmt.Errorf("winrm %s: NTLM logon: HTTP %d", c.cfg.Addr, resp.StatusCode)
	}
	if !c.cfg.HTTPS {
		cn.sealer = nt.SecuritySession()
		if cn.sealer == nil {
			return &AuthError{Msg: fmt.Sprintf("winrm %s: no NTLM session security: refused over plain HTTP", c.cfg.Addr)}
		}
	}
	return nil
}

// schemes lists the auth schemes of a reply's WWW-Authenticate headers.
func schemes(h http.Header) []string {
	var out []string
	for _, v := range h.Values("WWW-Authenticate") {
		for _, part := range strings.Split(v, ",") {
			s, _, _ := strings.Cut(strings.TrimSpace(part), " ")
			if s != "" && !strings.Contains(s, "=") {
				out = append(out, s)
			}
		}
	}
	return out
}

// negotiateToken finds "Negotiate <base64>" among WWW-Authenticate headers.
func negotiateToken(h http.Header) ([]byte, bool) {
	for _, v := range h.Values("WWW-Authenticate") {
		s, tok, _ := strings.Cut(strings.TrimSpace(v), " ")
		if strings.EqualFold(s, "Negotiate") && tok != "" {
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tok))
			return b, err == nil
		}
	}
	return nil, false
}

// SplitUser reads DOMAIN\user (domain, user), user@domain (a UPN, sent
// whole with no domain, as Windows accepts it) and a local user.
func SplitUser(s string) (user, domain string) {
	if d, u, ok := strings.Cut(s, `\`); ok {
		return u, d
	}
	return s, ""
}
