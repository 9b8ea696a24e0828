package agent

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// OCS's ProxyType values (ocsinventory.ini, /PROXY_TYPE=).
const (
	ProxyNone   = 0
	ProxyHTTP   = 1
	ProxySOCKS4 = 2
	ProxySOCKS5 = 3
)

var proxySchemes = map[int]struct {
	scheme string
	port   int
}{ProxyHTTP: {"http", 3128}, ProxySOCKS4: {"socks4", 1080}, ProxySOCKS5: {"socks5", 1080}}

// ProxyURL turns OCS's proxy settings (ProxyType, Proxy host, ProxyPort)
// into the URL Config.Proxy takes: http://, socks4:// or socks5://
// host:port; "" for ProxyType 0. A port of 0 is the scheme's usual one
// (3128, 1080).
func ProxyURL(typ int, host string, port int) (string, error) {
	if typ == ProxyNone {
		return "", nil
	}
	s, ok := proxySchemes[typ]
	if !ok {
		return "", fmt.Errorf("proxy type %d: want 0 (none), 1 (HTTP), 2 (SOCKS4) or 3 (SOCKS5)", typ)
	}
	host = strings.TrimSpace(host)
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	host = strings.TrimSuffix(host, "/")
	if host == "" || strings.ContainsAny(host, "/@ ") {
		return "", fmt.Errorf("proxy type %d needs a proxy host (--proxy HOST, /PROXY=HOST), not %q", typ, host)
	}
	if port < 0 || port > 65535 {
		return "", fmt.Errorf("proxy port %d: want 1-65535", port)
	}
	if port == 0 {
		port = s.port
	}
	return s.scheme + "://" + net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port)), nil
}

// setProxy points tr at cfg's proxy: HTTP and SOCKS5 (user and password
// from ProxyUser/ProxyPassword) through net/http's own support, SOCKS4
// through a dialer of ours.
func setProxy(tr *http.Transport, cfg Config) error {
	p, err := url.Parse(cfg.Proxy)
	if err != nil || p.Host == "" || p.Port() == "" {
		return fmt.Errorf("proxy %q: want http://, socks4:// or socks5://host:port", cfg.Proxy)
	}
	if cfg.ProxyUser != "" {
		p.User = url.UserPassword(cfg.ProxyUser, cfg.ProxyPassword)
	}
	switch p.Scheme {
	case "http", "https", "socks5":
		tr.Proxy = http.ProxyURL(p)
	case "socks4":
		tr.Proxy = nil
		d := &socks4Dialer{proxy: p.Host, user: cfg.ProxyUser}
		tr.DialContext = d.DialContext
	default:
		return fmt.Errorf("proxy %q: scheme %q: want http, socks4 or socks5", cfg.Proxy, p.Scheme)
	}
	return nil
}

// socks4Dialer connects through a SOCKS4 proxy. SOCKS4 carries IPv4
// addresses only, so the target is resolved here, as OCS's libcurl does.
type socks4Dialer struct {
	proxy, user string
}

// socks4Timeout bounds the handshake when ctx has no deadline.
const socks4Timeout = 30 * time.Second

func (d *socks4Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("socks4: port %q: %w", portText, err)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
	if err != nil || len(ips) == 0 {
		return nil, fmt.Errorf("socks4: %s has no IPv4 address (SOCKS4 carries IPv4 only): %v", host, err)
	}
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, "tcp", d.proxy)
	if err != nil {
		return nil, fmt.Errorf("socks4 proxy %s: %w", d.proxy, err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(socks4Timeout)
	}
	conn.SetDeadline(deadline)
	req, err := socks4Request(ips[0].As4(), uint16(port), d.user)
	if err == nil {
		_, err = conn.Write(req)
	}
	var reply [8]byte
	if err == nil {
		_, err = io.ReadFull(conn, reply[:])
	}
	if err == nil {
		err = socks4Reply(reply)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("socks4 proxy %s, connect to %s: %w", d.proxy, addr, err)
	}
	conn.SetDeadline(time.Time{})
	return conn, nil
}

// socks4Request is a SOCKS4 CONNECT: version 4, command 1, port, IPv4
// address, user id, NUL.
func socks4Request(ip [4]byte, port uint16, user string) ([]byte, error) {
	if len(user) > 255 || strings.ContainsRune(user, 0) {
		return nil, errors.New("socks4 user id: at most 255 bytes, no NUL")
	}
	b := []byte{4, 1, 0, 0, ip[0], ip[1], ip[2], ip[3]}
	binary.BigEndian.PutUint16(b[2:4], port)
	b = append(b, user...)
	return append(b, 0), nil
}

// socks4Reply reads the proxy's 8-byte answer: version 0, then 90 for
// granted or 91-93 for a refusal.
func socks4Reply(r [8]byte) error {
	if r[0] != 0 {
		return fmt.Errorf("not a SOCKS4 reply (version byte %d)", r[0])
	}
	switch r[1] {
	case 90:
		return nil
	case 91:
		return errors.New("request rejected or failed (91)")
	case 92, 93:
		return fmt.Errorf("request rejected: the proxy could not check the user id (%d)", r[1])
	}
	return fmt.Errorf("unknown SOCKS4 status %d", r[1])
}
