package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"muster/server/store"
)

// consoleLogin signs in through the form and returns the session cookie.
func consoleLogin(t *testing.T, ts *testServer, name, password string) (*http.Cookie, int) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(ts.URL+"/ui/login", url.Values{"name": {name}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == SessionCookie {
			return ck, resp.StatusCode
		}
	}
	return nil, resp.StatusCode
}

// consoleCall makes an API call with a session cookie and a CSRF header.
func consoleCall(t *testing.T, ts *testServer, ck *http.Cookie, csrf, method, path, body string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if ck != nil {
		req.AddCookie(ck)
	}
	if csrf != "" {
		req.Header.Set(CSRFHeader, csrf)
	}
	return do(t, req, hdr...)
}

// do sends req with any header pairs and returns the status and body.
func do(t *testing.T, req *http.Request, hdr ...string) (int, string) {
	t.Helper()
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestConsoleSessionsCSRFAndRoles(t *testing.T) {
	ts := start(t, Config{})
	adm := LocalAdmin{Store: ts.store}
	ctx := context.Background()
	if err := adm.AddUser(ctx, "ann", store.RoleAdmin, "ann-password", false); err != nil {
		t.Fatal(err)
	}
	if err := adm.AddUser(ctx, "vic", store.RoleViewer, "vic-password", false); err != nil {
		t.Fatal(err)
	}
	if err := adm.AddUser(ctx, "eve", store.RoleViewer, "short", false); err == nil {
		t.Error("a 5-character password was taken")
	}

	// Wrong password, unknown user: no cookie, 401.
	for _, c := range [][2]string{{"ann", "wrong-password"}, {"nobody", "ann-password"}} {
		if ck, code := consoleLogin(t, ts, c[0], c[1]); ck != nil || code != http.StatusUnauthorized {
			t.Errorf("login %s/%s: cookie %v, %d", c[0], c[1], ck, code)
		}
	}
	ann, code := consoleLogin(t, ts, "ann", "ann-password")
	if ann == nil || code != http.StatusSeeOther || !ann.HttpOnly || ann.SameSite != http.SameSiteStrictMode {
		t.Fatalf("admin login: %+v %d", ann, code)
	}
	var me struct{ Name, Role, CSRF string }
	code, body := consoleCall(t, ts, ann, "", "GET", "/api/v1/me", "")
	if json.Unmarshal([]byte(body), &me); code != 200 || me.Role != "admin" || len(me.CSRF) < 32 {
		t.Fatalf("me: %d %s", code, body)
	}
	// A change without the CSRF token, with a wrong one, or cross-site.
	for _, c := range []struct {
		csrf string
		hdr  []string
	}{{"", nil}, {"forged", nil}, {me.CSRF, []string{"Origin", "https://evil.example"}}} {
		if code, body := consoleCall(t, ts, ann, c.csrf, "POST", "/api/v1/clients", `{"name":"ACME"}`, c.hdr...); code != http.StatusForbidden {
			t.Errorf("change with csrf %q %v: %d %s", c.csrf, c.hdr, code, body)
		}
	}
	if code, body := consoleCall(t, ts, ann, me.CSRF, "POST", "/api/v1/clients", `{"name":"ACME"}`); code != 200 {
		t.Fatalf("admin adds a client: %d %s", code, body)
	}

	// The viewer reads, and every change is refused by the server.
	vic, _ := consoleLogin(t, ts, "vic", "vic-password")
	var vme struct{ CSRF string }
	_, body = consoleCall(t, ts, vic, "", "GET", "/api/v1/me", "")
	json.Unmarshal([]byte(body), &vme)
	if code, _ := consoleCall(t, ts, vic, "", "GET", "/api/v1/clients", ""); code != 200 {
		t.Errorf("viewer reads clients: %d", code)
	}
	for _, c := range [][3]string{
		{"POST", "/api/v1/clients", `{"name":"Other"}`},
		{"POST", "/api/v1/users", `{"name":"mallory","role":"admin","password":"mallory-password"}`},
		{"POST", "/api/v1/token/rotate", ``},
		{"PUT", "/api/v1/options/IPDISCOVER", `{"value":"0"}`},
	} {
		if code, body := consoleCall(t, ts, vic, vme.CSRF, c[0], c[1], c[2]); code != http.StatusForbidden || !strings.Contains(body, "viewer") {
			t.Errorf("viewer %s %s: %d %s", c[0], c[1], code, body)
		}
	}
	if _, err := ts.store.UserByName(ctx, "mallory"); err == nil {
		t.Error("the viewer made a user")
	}

	// The audit log names who changed what; the refusals left no entry.
	log, _ := ts.store.AuditLog(ctx, 50)
	var changes []string
	for _, e := range log {
		if strings.HasPrefix(e.Action, "POST") || strings.HasPrefix(e.Action, "PUT") {
			changes = append(changes, e.Who+" "+e.Action)
		}
	}
	if strings.Join(changes, ";") != "ann POST /api/v1/clients" {
		t.Errorf("audited changes: %q", changes)
	}

	// Logout needs the CSRF token; afterwards the cookie is worth nothing.
	if code, _ := consoleCall(t, ts, ann, "", "POST", "/ui/logout", ""); code != http.StatusForbidden {
		t.Errorf("logout without csrf: %d", code)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", ts.URL+"/ui/logout", strings.NewReader(url.Values{"csrf": {me.CSRF}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(ann)
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %v %v", resp, err)
	}
	resp.Body.Close()
	if code, _ := consoleCall(t, ts, ann, me.CSRF, "GET", "/api/v1/clients", ""); code != http.StatusUnauthorized {
		t.Errorf("after logout: %d", code)
	}
	// Pages need a session; assets do not.
	resp, err = c.Get(ts.URL + "/ui/fleet")
	if err != nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login" {
		t.Errorf("fleet page without a session: %v %v", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _ := consoleCall(t, ts, nil, "", "GET", "/ui/assets/app.js", ""); code != 200 {
		t.Errorf("app.js: %d", code)
	}
	// The API token still works, and its changes are audited as the token.
	req, _ = http.NewRequest("POST", ts.URL+"/api/v1/clients", strings.NewReader(`{"name":"ByToken"}`))
	req.Header.Set("Authorization", "Bearer "+ts.token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token change: %v %v", resp, err)
	}
	if log, _ := ts.store.AuditLog(ctx, 1); len(log) != 1 || log[0].Who != tokenPrincipal {
		t.Errorf("token change audited as %+v", log)
	}
}

func TestConsoleLoginRateLimited(t *testing.T) {
	ts := start(t, Config{})
	LocalAdmin{Store: ts.store}.AddUser(context.Background(), "ann", store.RoleAdmin, "ann-password", false)
	refused := 0
	for i := 0; i < loginRate+5; i++ {
		if _, code := consoleLogin(t, ts, "ann", "guess-"+strings.Repeat("x", i)); code == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 5 {
		t.Errorf("%d of %d tries refused, want the 5 over %d a minute", refused, loginRate+5, loginRate)
	}
	// Even the right password waits now (the test clock does not move).
	if ck, code := consoleLogin(t, ts, "ann", "ann-password"); ck != nil || code != http.StatusTooManyRequests {
		t.Errorf("right password while limited: %v %d", ck, code)
	}
}

func TestFleetSearchAndCSV(t *testing.T) {
	ts := start(t, Config{})
	adm := LocalAdmin{Store: ts.store}
	ctx := context.Background()
	// No devices: an empty page, and refusals for bad queries.
	if p, err := adm.Fleet(ctx, FleetQuery{PerPage: 50}); err != nil || p.Total != 0 || len(p.Devices) != 0 {
		t.Errorf("empty fleet: %+v %v", p, err)
	}
	if _, err := adm.Fleet(ctx, FleetQuery{Sort: "color"}); err == nil {
		t.Error("sort by color accepted")
	}
	var sb strings.Builder
	writeFleetCSV(&sb, []store.Device{{ID: 1, Name: "=cmd|' /C calc'!A0", DeviceID: "d\x1b[31m"}})
	if strings.Contains(sb.String(), ",=cmd") || strings.Contains(sb.String(), "\x1b") {
		t.Errorf("CSV cell not defused: %q", sb.String())
	}
}

// From the network map an admin identifies a device and queues a push to
// another; refusals name what is wrong.
func TestNetworkIdentifyAndPushRequests(t *testing.T) {
	ts := start(t, Config{})
	ctx := context.Background()
	hosts := `{"subnet":"10.77.9.0","mask":"255.255.255.0","hosts":[{"ip":"10.77.9.1","mac":"02:00:00:00:09:01"},{"ip":"10.77.9.2","mac":"02:00:00:00:09:02"}]}`
	call := func(method, path, body string) (int, string) { return ts.call(t, method, path, body) }
	if code, body := call("POST", "/api/v1/network/report", hosts); code != 200 {
		t.Fatalf("report: %d %s", code, body)
	}
	for _, c := range []struct {
		path, body string
		code       int
		want       string
	}{
		{"/api/v1/network/identify", `{"mac":"02:00:00:00:09:02","type":"printer","description":"hall"}`, 200, "ok"},
		{"/api/v1/network/identify", `{"mac":"02:00:00:00:99:99","type":"printer"}`, 404, "02:00:00:00:99:99"},
		{"/api/v1/network/push", `{"macs":["02:00:00:00:09:01"],"transport":"telnet"}`, 400, "transport"},
		{"/api/v1/network/push", `{"macs":["02:00:00:00:99:99"],"transport":"winrm"}`, 400, "not in the network map"},
		{"/api/v1/network/push", `{"macs":["02:00:00:00:09:01"],"transport":"winrm"}`, 200, "winrm://10.77.9.1"},
	} {
		if code, body := call("POST", c.path, c.body); code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s", c.path, c.body, code, body)
		}
	}
	_, body := call("GET", "/api/v1/push/queue?due=1", "")
	if !strings.Contains(body, `"host": "winrm://10.77.9.1"`) || !strings.Contains(body, `"due": true`) {
		t.Errorf("due queue: %s", body)
	}
	_, body = call("GET", "/api/v1/subnets", "")
	if !strings.Contains(body, `"identified": 1`) || !strings.Contains(body, `"unknown": 1`) {
		t.Errorf("subnets: %s", body)
	}
	if log, _ := ts.store.AuditLog(ctx, 10); len(log) < 3 || log[0].Action != "POST /api/v1/network/push" {
		t.Errorf("audit %+v", log)
	}
}

// The fleet search finds devices by software (name, version prefix) and
// by MAC, as the real agent's sample inventory holds them.
func TestFleetSoftwareAndMACSearch(t *testing.T) {
	ts := start(t, Config{})
	body, err := os.ReadFile("../inventories/testdata/inventory.zlib")
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := ts.post(t, "OCS-NG_unified_unix_agent_v2.10.0", body); code != 200 {
		t.Fatalf("inventory: %d", code)
	}
	d, err := ts.store.Device(context.Background(), "1")
	if err != nil {
		t.Fatal(err)
	}
	sw := d.Inventory.Softwares[3]
	mac := d.Inventory.Networks[0].MACAddr
	for _, n := range d.Inventory.Networks {
		if n.MACAddr != "" {
			mac = n.MACAddr
		}
	}
	adm := LocalAdmin{Store: ts.store}
	for _, c := range []struct {
		q    string
		want int
	}{
		{"software:" + strings.ToLower(sw.Name), 1},
		{"software:" + sw.Name + "@" + sw.Version, 1},
		{"software:" + sw.Name + "@zz-no-such-version", 0},
		{"software:no-such-package", 0},
		{"mac:" + mac, 1},
		{"mac:" + strings.ToUpper(strings.ReplaceAll(mac, ":", "-")), 1},
		{"mac:" + strings.ReplaceAll(mac[3:], ":", ""), 1},
		{"mac:ff:ff:ff:00:00:01", 0},
		{"mac:" + mac + " " + d.Name, 1},
		{"mac:" + mac + " not-its-name", 0},
	} {
		p, err := adm.Fleet(context.Background(), FleetQuery{Q: c.q, PerPage: 50})
		if err != nil || p.Total != c.want {
			t.Errorf("search %q: %d devices (%v), want %d", c.q, p.Total, err, c.want)
		}
	}
	for where, want := range map[string]int{
		`has software "` + strings.ToLower(sw.Name) + `"`:   1,
		`lacks software "` + strings.ToLower(sw.Name) + `"`: 0,
		`has software "no-such-package" or memory >= 1`:     1,
	} {
		if p, err := adm.Fleet(context.Background(), FleetQuery{Where: where, PerPage: 50}); err != nil || p.Total != want {
			t.Errorf("where %s: %d devices (%v), want %d", where, p.Total, err, want)
		}
	}
	if _, err := adm.Fleet(context.Background(), FleetQuery{Where: `has software`}); err == nil || !errors.Is(err, ErrInvalid) {
		t.Errorf("a broken query: %v", err)
	}
	if _, err := adm.Fleet(context.Background(), FleetQuery{Q: "software:"}); err == nil {
		t.Error("an empty software: term was taken")
	}
}

// call makes an API request with the server's token (and any header
// pairs) and returns the status and body.
func (ts *testServer) call(t *testing.T, method, path, body string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ts.token)
	return do(t, req, hdr...)
}
