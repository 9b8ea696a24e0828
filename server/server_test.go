package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"muster/inventories/ocsxml"
	"muster/server/store"
)

const unixUA = "OCS-NG_unified_unix_agent_v2.10.0"

type testServer struct {
	*httptest.Server
	store *store.DB
	token string
	now   time.Time
}

func start(t *testing.T, cfg Config) *testServer {
	t.Helper()
	st, err := store.Open(t.TempDir()+"/"+store.FileName, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{store: st, now: time.Unix(1_800_000_000, 0)}
	cfg.Now = func() time.Time { return ts.now }
	srv, err := New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	ts.token, err = EnsureAPIToken(context.Background(), st)
	if err != nil || ts.token == "" {
		t.Fatal("no token", err)
	}
	ts.Server = httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); st.Close() })
	return ts
}

func (ts *testServer) post(t *testing.T, ua string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.URL+"/ocsinventory", bytes.NewReader(body))
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Content-Type", "application/x-compress")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (ts *testServer) reply(t *testing.T, ua string, body []byte) *ocsxml.Node {
	t.Helper()
	code, out := ts.post(t, ua, body)
	if code != 200 {
		t.Fatalf("status %d: %s", code, out)
	}
	xml, enc, err := ocsxml.DecodeBody(out, 1<<20)
	if err != nil || enc != ocsxml.Zlib {
		t.Fatalf("reply not zlib: %v %v", enc, err)
	}
	n, err := ocsxml.Parse(xml, ocsxml.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func prolog(id string) []byte {
	return ocsxml.Compress(ocsxml.Marshal(ocsxml.RequestDecl, ocsxml.NewRequest(id, ocsxml.QueryProlog, nil)))
}

func sampleBody(t *testing.T) []byte {
	b, err := os.ReadFile("../inventories/testdata/inventory.zlib")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const sampleID = "vm-2026-11-21-10-27-21"

func TestPrologDecisions(t *testing.T) {
	ts := start(t, Config{Frequency: 2})
	pr := func() *ocsxml.PrologReply {
		r, err := ocsxml.ParsePrologReply(ts.reply(t, unixUA, prolog(sampleID)))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := pr(); r.Response != ocsxml.Send || r.PrologFreq != DefaultPrologFreq || len(r.Options) != 1 || r.Options[0].Name != "DOWNLOAD" {
		t.Fatalf("unknown device: %+v", r)
	}
	ts.reply(t, unixUA, sampleBody(t))
	if r := pr(); r.Response != ocsxml.Stop {
		t.Fatalf("fresh inventory, frequency 2 days: %s", r.Response)
	}
	ts.now = ts.now.Add(49 * time.Hour)
	if r := pr(); r.Response != ocsxml.Send {
		t.Fatalf("inventory 49h old, frequency 2 days: %s", r.Response)
	}
}

func TestInventoryFlow(t *testing.T) {
	ts := start(t, Config{})
	r, err := ocsxml.ParseInventoryReply(ts.reply(t, unixUA, sampleBody(t)))
	if err != nil || r.Response != ocsxml.NoAccountUpdate {
		t.Fatalf("new device: %+v %v", r, err)
	}
	// The same inventory again with no ACCOUNTINFO: the server tells the
	// agent its TAG, as the real server does.
	r, _ = ocsxml.ParseInventoryReply(ts.reply(t, unixUA, sampleBody(t)))
	if r.Response != ocsxml.AccountUpdate || len(r.AccountInfo) != 1 || r.AccountInfo[0] != (ocsxml.KeyValue{Key: "TAG", Value: "NA"}) {
		t.Fatalf("known device: %+v", r)
	}
	d := ts.device(t, sampleID)
	if d.Name != "vm" || len(d.Inventory.Softwares) != 843 || d.UserAgent != unixUA {
		t.Fatalf("device: %s %d %s", d.Name, len(d.Inventory.Softwares), d.UserAgent)
	}
	// Plain XML (a Unix .ocs file) is accepted too. This one was taken with
	// --nosoftware and its CHECKSUM has the SOFTWARES bit set (66049), so
	// the software list must now be empty.
	plain, _ := os.ReadFile("../inventories/testdata/inventory-nosoftware.xml")
	ts.reply(t, "OCS-NG_INJECTOR_PL_v3", plain)
	d = ts.device(t, sampleID)
	if len(d.Inventory.Softwares) != 0 || d.UserAgent != "OCS-NG_INJECTOR_PL_v3" {
		t.Fatalf("after --nosoftware inventory: %d software, ua %s", len(d.Inventory.Softwares), d.UserAgent)
	}
}

func (ts *testServer) device(t *testing.T, id string) store.DeviceDetail {
	t.Helper()
	var d store.DeviceDetail
	if code := ts.apiGet(t, "/api/v1/devices/"+id, &d); code != http.StatusOK {
		t.Fatalf("api: device %s: HTTP %d", id, code)
	}
	return d
}

func TestEvents(t *testing.T) {
	ts := start(t, Config{})
	// Events come from known devices only (issue 13: unknown devices
	// filled the disk with 30 MiB fields), within the field caps.
	body := ocsxml.Compress([]byte(`<REQUEST DEVICEID="vm-2026-11-21-10-26-56" ERR="SUCCESS_3" ID="1700000001" QUERY="DOWNLOAD" />`))
	if code, _ := ts.post(t, unixUA, body); code != http.StatusForbidden {
		t.Fatalf("an event from an unknown device: %d", code)
	}
	ctx := context.Background()
	c, _ := AddClient(ctx, ts.store, "ACME")
	for _, d := range []string{"vm-2026-11-21-10-26-56", "PC1-2024-01-02-03-04-05"} {
		ts.store.Activate(ctx, c.Code, d, store.Binding{Next: "x"}, ts.now)
	}
	huge := ocsxml.Compress([]byte(`<REQUEST DEVICEID="vm-2026-11-21-10-26-56" ERR="` + strings.Repeat("A", 5000) + `" ID="1700000001" QUERY="DOWNLOAD" />`))
	if code, _ := ts.post(t, unixUA, huge); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("an event field of 5000 bytes: %d", code)
	}
	// The Unix agent's DOWNLOAD result: attributes on the root, no declaration.
	code, out := ts.post(t, unixUA, body)
	if code != 200 || len(out) != 0 {
		t.Fatalf("download: %d %q", code, out)
	}
	notify := ocsxml.Compress([]byte(`<REQUEST><DEVICEID>PC1-2024-01-02-03-04-05</DEVICEID><CONTENT/><QUERY>NOTIFY</QUERY><TYPE>IP</TYPE></REQUEST>`))
	if code, _ := ts.post(t, "OCS-NG_WINDOWS_AGENT_v2.11.0.1", notify); code != 200 {
		t.Fatalf("notify: %d", code)
	}
}

func TestBadInput(t *testing.T) {
	ts := start(t, Config{MaxBody: 1 << 20})
	valid := ocsxml.Marshal(ocsxml.RequestDecl, ocsxml.NewRequest("x-2024-01-02-03-04-05", ocsxml.QueryProlog, nil))
	z := ocsxml.Compress(valid)
	big := ocsxml.Compress(bytes.Repeat([]byte("<A>x</A>"), 300_000))
	cases := []struct {
		name string
		ua   string
		body []byte
		code int
	}{
		{"not zlib", unixUA, []byte("\x00\x01garbage"), 400},
		{"truncated zlib", unixUA, z[:len(z)/2], 400},
		{"xml does not parse", unixUA, ocsxml.Compress([]byte("<REQUEST><QUERY>PROLOG</QUERY>")), 400},
		{"wrong root", unixUA, ocsxml.Compress([]byte("<HELLO/>")), 400},
		{"deviceid of the wrong shape", unixUA, ocsxml.Compress([]byte("<REQUEST><DEVICEID>foo</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>")), 400},
		{"no query", unixUA, ocsxml.Compress([]byte("<REQUEST><DEVICEID>x-2024-01-02-03-04-05</DEVICEID></REQUEST>")), 400},
		{"unknown query", unixUA, ocsxml.Compress([]byte("<REQUEST><DEVICEID>x-2024-01-02-03-04-05</DEVICEID><QUERY>FOO</QUERY></REQUEST>")), 400},
		{"body over the limit", unixUA, bytes.Repeat([]byte("x"), 2<<20), 413},
		{"inflates over the limit", unixUA, big, 413},
		{"deeply nested", unixUA, ocsxml.Compress([]byte(strings.Repeat("<A>", 10000) + strings.Repeat("</A>", 10000))), 400},
		{"inventory without content", unixUA, ocsxml.Compress([]byte("<REQUEST><DEVICEID>x-2024-01-02-03-04-05</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>")), 400},
		{"prolog from a browser", "Mozilla/5.0", z, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _ := ts.post(t, c.ua, c.body)
			if code != c.code {
				t.Fatalf("status %d, want %d", code, c.code)
			}
		})
	}
	// Nothing was stored, and the server still serves.
	if devs, err := ts.store.Devices(context.Background()); err != nil || len(devs) != 0 {
		t.Fatalf("devices after bad input: %d %v", len(devs), err)
	}
	if code, _ := ts.post(t, unixUA, z); code != 200 {
		t.Fatalf("server stopped serving: %d", code)
	}
	resp, err := http.Get(ts.URL + "/ocsinventory")
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("GET: %v %v", err, resp.Status)
	}
}

func TestAgentBasicAuth(t *testing.T) {
	ts := start(t, Config{AgentUser: "u", AgentPassword: "p"})
	code, _ := ts.post(t, unixUA, prolog(sampleID))
	if code != 401 {
		t.Fatalf("no credentials: %d", code)
	}
	req, _ := http.NewRequest("POST", ts.URL+"/ocsinventory", bytes.NewReader(prolog(sampleID)))
	req.Header.Set("User-Agent", unixUA)
	req.SetBasicAuth("u", "p")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("with credentials: %v %v", err, resp.Status)
	}
}

func TestAPIToken(t *testing.T) {
	ts := start(t, Config{})
	for _, c := range []struct {
		auth string
		code int
	}{{"", 401}, {"Bearer nope", 401}, {"Bearer " + ts.token, 200}} {
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/devices", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("auth %q: %d, want %d", c.auth, resp.StatusCode, c.code)
		}
	}
	// Rotating invalidates the old token; the first token is never re-made.
	if tok, _ := EnsureAPIToken(context.Background(), ts.store); tok != "" {
		t.Fatal("a second token was generated")
	}
	_, hash := NewAPIToken()
	ts.store.RotateAPIToken(context.Background(), hash)
	if ok, _ := ts.store.APITokenValid(context.Background(), HashToken(ts.token)); ok {
		t.Fatal("old token still valid after rotation")
	}
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", err, resp.Status)
	}
}
