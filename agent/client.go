package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"muster/inventories/ocsxml"
)

// Config is how the agent reaches its server.
type Config struct {
	// Server is the server URL (…/ocsinventory); without a scheme it is
	// http://SERVER/ocsinventory, as the OCS agent reads it.
	Server string
	// SSL verifies the server's certificate (the default); CA is the CA
	// bundle to verify it against (PEM), else the system's.
	SSL bool
	CA  string
	// User and Password, when set, answer the server's Basic challenge.
	User, Password string
	// Proxy is the proxy's URL: http://, socks4:// or socks5://host:port
	// (OCS ProxyType 1, 2, 3; see ProxyURL); empty uses the environment's.
	// ProxyUser and ProxyPassword authenticate to it (SOCKS4 sends the
	// user id only).
	Proxy                    string
	ProxyUser, ProxyPassword string
	// Timeout bounds one request.
	Timeout time.Duration
}

// ServerURL normalises an OCS server setting to a full URL.
func ServerURL(s string) (string, error) {
	if s == "" {
		return "", errors.New("no server (--server, or Server= in the config)")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s + "/ocsinventory"
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("server %q: want http(s)://host[:port]/ocsinventory", s)
	}
	return u.String(), nil
}

// Client posts OCS messages to a server.
type Client struct {
	url  string
	cfg  Config
	http *http.Client
}

// NewClient checks cfg and builds the HTTP client (CA-verified TLS by
// default).
func NewClient(cfg Config) (*Client, error) {
	u, err := ServerURL(cfg.Server)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !cfg.SSL}
	if cfg.CA != "" {
		pem, err := os.ReadFile(cfg.CA)
		if err != nil {
			return nil, fmt.Errorf("CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA bundle %s holds no certificate", cfg.CA)
		}
		tlsCfg.RootCAs = pool
	}
	tr := &http.Transport{TLSClientConfig: tlsCfg, Proxy: http.ProxyFromEnvironment}
	if cfg.Proxy != "" {
		if err := setProxy(tr, cfg); err != nil {
			return nil, err
		}
	}
	return &Client{url: u, cfg: cfg, http: &http.Client{Transport: tr, Timeout: cfg.Timeout}}, nil
}

// URL returns the server URL.
func (c *Client) URL() string { return c.url }

// Host is the server's host name, without port.
func (c *Client) Host() string {
	u, err := url.Parse(c.url)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// StatusError is a reply that was not 200.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("server answered HTTP %d: %s", e.Status, strings.TrimSpace(e.Body))
}

// Post sends one request document, zlib-compressed, and returns the
// reply's root element (nil for an empty 200, as DOWNLOAD gets).
func (c *Client) Post(ctx context.Context, doc []byte) (*ocsxml.Node, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.url, bytes.NewReader(ocsxml.Compress(doc)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Content-Type", "application/x-compress")
	if c.cfg.User != "" {
		req.SetBasicAuth(c.cfg.User, c.cfg.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post to %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read reply of %s: %w", c.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Status: resp.StatusCode, Body: string(body[:min(len(body), 300)])}
	}
	if len(body) == 0 {
		return nil, nil
	}
	data, _, err := ocsxml.DecodeBody(body, 64<<20)
	if err != nil {
		return nil, fmt.Errorf("reply of %s: %w", c.url, err)
	}
	return ocsxml.Parse(data, ocsxml.DefaultLimits)
}
