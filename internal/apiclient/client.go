// Package apiclient is the one client of muster server's /api/v1: every
// CLI command that acts on a server through its API (admin actions,
// discover --report, push --server) goes through it. Client implements
// server.Admin, so a command works the same on the server's host (over the
// store) and from anywhere (over HTTPS).
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"muster/packages"
	"muster/server"
	"muster/server/store"
)

// maxReply caps what one API reply may hold.
const maxReply = 64 << 20

// Client talks to one muster server.
type Client struct {
	base  string // scheme://host:port
	token string
	http  *http.Client
}

var _ server.Admin = (*Client)(nil)

// New returns a client of the server at base (http(s)://host:port, any
// path ignored) with an API token. A password never crosses plain HTTP,
// and neither does a token, except to a loopback address.
func New(base, token string) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q: want the muster server's URL, https://host:port", base)
	}
	if token == "" {
		return nil, errors.New("the server's API token is needed (--token, MUSTER_API_TOKEN, or a context: muster context set)")
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("server %s: the API token would cross the network in clear; use https://", u.Host)
	}
	return &Client{base: u.Scheme + "://" + u.Host, token: token, http: &http.Client{Timeout: 5 * time.Minute}}, nil
}

// loopback is true for localhost and loopback addresses only: a name such
// as 127.example.com is not one.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// Error is an API call the server refused or failed.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("server said %d: %s", e.Status, e.Message) }

// Is maps statuses to the errors the local admin returns, so callers test
// them the same way.
func (e *Error) Is(target error) bool {
	switch e.Status {
	case http.StatusNotFound:
		return target == store.ErrNotFound
	case http.StatusConflict:
		return target == store.ErrExists
	case http.StatusBadRequest:
		return target == server.ErrInvalid
	}
	return false
}

// Do sends one request (body marshalled as JSON when not nil) and decodes
// the JSON reply into out when not nil.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req, method+" "+path, out)
}

// send does req with the token and decodes a 200 reply into out.
func (c *Client) send(req *http.Request, what string, out any) error {
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(b) > maxReply {
		return fmt.Errorf("%s: the reply is over %d MiB", what, maxReply>>20)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return &Error{Status: resp.StatusCode, Message: e.Error}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s: reply: %w", what, err)
		}
	}
	return nil
}

func esc(s string) string { return url.PathEscape(s) }

// Devices implements server.Admin.
func (c *Client) Devices(ctx context.Context) ([]store.Device, error) {
	var v []store.Device
	return v, c.Do(ctx, "GET", "/api/v1/devices", nil, &v)
}

// Device implements server.Admin.
func (c *Client) Device(ctx context.Context, ref string) (*store.DeviceDetail, error) {
	var v store.DeviceDetail
	if err := c.Do(ctx, "GET", "/api/v1/devices/"+esc(ref), nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Netmap implements server.Admin.
func (c *Client) Netmap(ctx context.Context, unknownOnly bool, subnet string) ([]store.NetmapEntry, error) {
	q := url.Values{"subnet": {subnet}}
	if unknownOnly {
		q.Set("unknown", "1")
	}
	var v []store.NetmapEntry
	return v, c.Do(ctx, "GET", "/api/v1/network?"+q.Encode(), nil, &v)
}

// Subnets implements server.Admin.
func (c *Client) Subnets(ctx context.Context) ([]store.Subnet, error) {
	var v []store.Subnet
	return v, c.Do(ctx, "GET", "/api/v1/subnets", nil, &v)
}

// Elect implements server.Admin.
func (c *Client) Elect(ctx context.Context, deviceID, standing, subnet string) error {
	return c.Do(ctx, "POST", "/api/v1/network/elect", map[string]string{"deviceid": deviceID, "standing": standing, "subnet": subnet}, nil)
}

// Schedule implements server.Admin.
func (c *Client) Schedule(ctx context.Context, subnet string, every time.Duration) error {
	return c.Do(ctx, "PUT", "/api/v1/subnets/"+esc(subnet)+"/schedule", map[string]string{"interval": every.String()}, nil)
}

// Options implements server.Admin.
func (c *Client) Options(ctx context.Context) (map[string]int64, error) {
	var v map[string]int64
	return v, c.Do(ctx, "GET", "/api/v1/options", nil, &v)
}

// SetOption implements server.Admin.
func (c *Client) SetOption(ctx context.Context, name, value string) error {
	return c.Do(ctx, "PUT", "/api/v1/options/"+esc(name), map[string]string{"value": value}, nil)
}

// AddClient implements server.Admin.
func (c *Client) AddClient(ctx context.Context, name string) (store.Client, error) {
	var v store.Client
	return v, c.Do(ctx, "POST", "/api/v1/clients", map[string]string{"name": name}, &v)
}

// Clients implements server.Admin.
func (c *Client) Clients(ctx context.Context) ([]store.Client, error) {
	var v []store.Client
	return v, c.Do(ctx, "GET", "/api/v1/clients", nil, &v)
}

// Release implements server.Admin.
func (c *Client) Release(ctx context.Context, deviceID string) error {
	return c.Do(ctx, "POST", "/api/v1/devices/"+esc(deviceID)+"/release", nil, nil)
}

// RotateToken implements server.Admin. The client keeps using the new
// token.
func (c *Client) RotateToken(ctx context.Context) (string, error) {
	var v struct {
		APIToken string `json:"api_token"`
	}
	if err := c.Do(ctx, "POST", "/api/v1/token/rotate", nil, &v); err != nil {
		return "", err
	}
	c.token = v.APIToken
	return v.APIToken, nil
}

// Packages implements server.Admin.
func (c *Client) Packages(ctx context.Context) ([]*packages.Info, error) {
	var v []*packages.Info
	return v, c.Do(ctx, "GET", "/api/v1/packages", nil, &v)
}

// Package implements server.Admin.
func (c *Client) Package(ctx context.Context, id string) (*packages.Info, error) {
	var v packages.Info
	if err := c.Do(ctx, "GET", "/api/v1/packages/"+esc(id), nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// BuildPackage implements server.Admin: it uploads src's archive (made
// here from a file or directory, or the .tar.gz/.zip as it is) and the
// server builds and signs the package. o.Progress, when set, is told the
// bytes uploaded.
func (c *Client) BuildPackage(ctx context.Context, src string, o packages.BuildOptions) (*packages.Info, error) {
	q := url.Values{"name": {o.Label}, "action": {o.Action}, "command": {o.Command}, "proto": {o.Proto},
		"priority": {strconv.Itoa(o.Priority)}, "notify": {o.Notify.Text}, "notify-countdown": {strconv.Itoa(o.Notify.Countdown)}}
	if o.FragSize > 0 {
		q.Set("frag-size", strconv.FormatInt(o.FragSize, 10))
	}
	var body io.Reader = http.NoBody
	if src == "" {
		q.Set("archive", "none")
	} else {
		if _, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("package build: %w", err)
		}
		q.Set("archive", packages.ArchiveKind(src))
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(packages.WriteArchive(pw, src)) }()
		defer pr.Close()
		body = &counting{r: pr, progress: o.Progress}
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/api/v1/packages?"+q.Encode(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	// No overall timeout for an upload of any size (ctx still ends it).
	up := *c
	up.http = &http.Client{Transport: c.http.Transport}
	var info packages.Info
	if err := up.send(req, "POST /api/v1/packages", &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// counting tells progress how many bytes went through.
type counting struct {
	r        io.Reader
	n        int64
	progress func(int64)
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil {
		c.progress(c.n)
	}
	return n, err
}

// DeletePackage implements server.Admin.
func (c *Client) DeletePackage(ctx context.Context, id string) error {
	return c.Do(ctx, "DELETE", "/api/v1/packages/"+esc(id), nil, nil)
}

// AssignPackage implements server.Admin.
func (c *Client) AssignPackage(ctx context.Context, id string, t store.PackageTarget, force bool) (int, error) {
	var v struct{ Devices int }
	err := c.Do(ctx, "POST", "/api/v1/packages/"+esc(id)+"/assign", map[string]any{"kind": t.Kind, "value": t.Value, "force": force}, &v)
	return v.Devices, err
}

// PackageStatus implements server.Admin.
func (c *Client) PackageStatus(ctx context.Context, id string) ([]store.PackageState, error) {
	var v []store.PackageState
	return v, c.Do(ctx, "GET", "/api/v1/packages/"+esc(id)+"/status", nil, &v)
}

// AddUser implements server.Admin.
func (c *Client) AddUser(ctx context.Context, name, role, password string, replace bool) error {
	return c.Do(ctx, "POST", "/api/v1/users", map[string]any{"name": name, "role": role, "password": password, "replace": replace}, nil)
}

// Users implements server.Admin.
func (c *Client) Users(ctx context.Context) ([]store.User, error) {
	var v []store.User
	return v, c.Do(ctx, "GET", "/api/v1/users", nil, &v)
}

// AuditLog implements server.Admin.
func (c *Client) AuditLog(ctx context.Context, limit int) ([]store.AuditEntry, error) {
	var v []store.AuditEntry
	return v, c.Do(ctx, "GET", fmt.Sprintf("/api/v1/audit?limit=%d", limit), nil, &v)
}

// Duplicates implements server.Admin.
func (c *Client) Duplicates(ctx context.Context, by string) ([]server.DuplicateGroup, error) {
	var v []server.DuplicateGroup
	return v, c.Do(ctx, "GET", "/api/v1/duplicates?by="+url.QueryEscape(by), nil, &v)
}

// MergeDuplicates implements server.Admin.
func (c *Client) MergeDuplicates(ctx context.Context, by string) ([]server.DuplicateGroup, error) {
	var v []server.DuplicateGroup
	return v, c.Do(ctx, "POST", "/api/v1/duplicates/merge", map[string]string{"by": by}, &v)
}

// PutGroup implements server.Admin.
func (c *Client) PutGroup(ctx context.Context, name, query string, members []string) error {
	return c.Do(ctx, "PUT", "/api/v1/groups/"+esc(name), map[string]any{"query": query, "members": members}, nil)
}

// Groups implements server.Admin.
func (c *Client) Groups(ctx context.Context) ([]store.Group, error) {
	var v []store.Group
	return v, c.Do(ctx, "GET", "/api/v1/groups", nil, &v)
}

// GroupMembers implements server.Admin.
func (c *Client) GroupMembers(ctx context.Context, name string) ([]store.GroupMember, error) {
	var v []store.GroupMember
	return v, c.Do(ctx, "GET", "/api/v1/groups/"+esc(name)+"/members", nil, &v)
}

// DeleteGroup implements server.Admin.
func (c *Client) DeleteGroup(ctx context.Context, name string) error {
	return c.Do(ctx, "DELETE", "/api/v1/groups/"+esc(name), nil, nil)
}

// Find implements server.Admin.
func (c *Client) Find(ctx context.Context, q string) ([]store.GroupMember, error) {
	var v []store.GroupMember
	return v, c.Do(ctx, "GET", "/api/v1/find?q="+url.QueryEscape(q), nil, &v)
}
