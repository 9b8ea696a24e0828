package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"muster/inventories/ocsxml"
	"muster/packages"
	"muster/server/store"
)

func TestPackageOffersAndResults(t *testing.T) {
	dir := t.TempDir()
	ts := start(t, Config{PackagesDir: dir})
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "run.sh")
	os.WriteFile(src, []byte("#!/bin/sh\n"), 0o755)
	info, err := packages.Build(packages.Dir(dir), src, packages.BuildOptions{Action: "launch", Command: "run.sh", FragSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	// packs returns the PACK params of a PROLOG reply, checking that CONF
	// says ON=1 exactly when there are some.
	packs := func() []ocsxml.Param {
		on, out := downloadParams(t, ts.reply(t, unixUA, prolog(sampleID)))
		if want := map[bool]string{true: "1", false: "0"}[len(out) > 0]; on != want {
			t.Fatalf("CONF ON=%q with %d packages", on, len(out))
		}
		return out
	}
	ts.reply(t, unixUA, sampleBody(t)) // the device exists
	if p := packs(); len(p) != 0 {
		t.Fatalf("offered before any assignment: %+v", p)
	}
	if _, err := ts.store.AssignPackage(ctx, info.ID, store.PackageTarget{Kind: store.TargetAll}, false, ts.now); err != nil {
		t.Fatal(err)
	}
	p := packs()
	if len(p) != 1 || p[0].Get("ID") != info.ID || p[0].Get("FORCE") != "0" || !strings.HasSuffix(p[0].Get("INFO_LOC"), "/download") {
		t.Fatalf("PACK params: %+v", p)
	}
	// Offered again until the agent answers (it may have crashed).
	if p := packs(); len(p) != 1 {
		t.Fatalf("NOTIFIED package not offered again: %+v", p)
	}
	// The files are served, with Range.
	req, _ := http.NewRequest("GET", ts.URL+"/download/"+info.ID+"/"+packages.FragmentName(info.ID, 1), nil)
	req.Header.Set("Range", "bytes=2-")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || int64(len(body)) != info.Size-2 {
		t.Fatalf("Range GET: %d, %d bytes of %d", resp.StatusCode, len(body), info.Size)
	}
	for _, bad := range []string{"/download/" + info.ID + "/../x", "/download/" + info.ID + "/" + info.ID + "-x", "/download/abc/info"} {
		if code, _ := get(t, ts.URL+bad); code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", bad, code)
		}
	}
	// The result ends the offers, with FORCE or not.
	code, _ := ts.post(t, unixUA, []byte(`<REQUEST DEVICEID="`+sampleID+`" ERR="SUCCESS" ID="`+info.ID+`" QUERY="DOWNLOAD" />`))
	if code != http.StatusOK {
		t.Fatalf("DOWNLOAD result: %d", code)
	}
	if p := packs(); len(p) != 0 {
		t.Fatalf("package offered after its result: %+v", p)
	}
	st, _ := ts.store.PackageStates(ctx, info.ID)
	if len(st) != 1 || st[0].State != "SUCCESS" {
		t.Fatalf("states: %+v", st)
	}
	// The API lists the package and its states.
	var list []packages.Info
	var states []store.PackageState
	ts.apiGet(t, "/api/v1/packages", &list)
	ts.apiGet(t, "/api/v1/packages/"+info.ID+"/status", &states)
	if len(list) != 1 || list[0].ID != info.ID || len(states) != 1 || states[0].State != "SUCCESS" {
		t.Fatalf("API: %+v %+v", list, states)
	}
	if code := ts.apiGet(t, "/api/v1/packages/999/status", nil); code != http.StatusNotFound {
		t.Fatalf("status of an unknown package: %d", code)
	}
	// Assigned again with force: offered with FORCE=1.
	ts.store.AssignPackage(ctx, info.ID, store.PackageTarget{Kind: store.TargetDevice, Value: sampleID}, true, ts.now.Add(time.Minute))
	if p := packs(); len(p) != 1 || p[0].Get("FORCE") != "1" {
		t.Fatalf("forced: %+v", p)
	}
	// A Windows agent's result: ID and ERR in attributes, the rest in
	// elements.
	code, _ = ts.post(t, "OCS-NG_WINDOWS_AGENT_v2.10.1.0", []byte(`<REQUEST ID="`+info.ID+`" ERR="EXIT_CODE_5"><DEVICEID>`+sampleID+`</DEVICEID><CONTENT/><QUERY>DOWNLOAD</QUERY></REQUEST>`))
	if st, _ := ts.store.PackageStates(ctx, info.ID); code != http.StatusOK || st[0].State != "EXIT_CODE_5" {
		t.Fatalf("Windows result: %d %+v", code, st)
	}
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestPackageLocationsConfigured(t *testing.T) {
	dir := t.TempDir()
	ts := start(t, Config{PackagesDir: dir, PackageInfoLoc: "ocs.example.org/download", PackagePackLoc: "cdn.example.org/pkgs"})
	info, err := packages.Build(packages.Dir(dir), "", packages.BuildOptions{Action: "execute", Command: "true"})
	if err != nil {
		t.Fatal(err)
	}
	ts.reply(t, unixUA, sampleBody(t))
	if _, err := ts.store.AssignPackage(context.Background(), info.ID, store.PackageTarget{Kind: store.TargetTag, Value: "NA"}, false, ts.now); err != nil {
		t.Fatal(err)
	}
	var pack *ocsxml.Param
	if _, p := downloadParams(t, ts.reply(t, unixUA, prolog(sampleID))); len(p) == 1 {
		pack = &p[0]
	}
	if pack == nil || pack.Get("INFO_LOC") != "ocs.example.org/download" || pack.Get("PACK_LOC") != "cdn.example.org/pkgs" {
		t.Fatalf("PACK: %+v", pack)
	}
}

// apiGet GETs an API path with the token, decoding a 200 into v.
func (ts *testServer) apiGet(t *testing.T, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+ts.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// downloadParams returns CONF's ON and the PACK params of a PROLOG reply.
func downloadParams(t *testing.T, reply *ocsxml.Node) (on string, packs []ocsxml.Param) {
	t.Helper()
	r, err := ocsxml.ParsePrologReply(reply)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range r.Options {
		if o.Name != "DOWNLOAD" {
			continue
		}
		for _, p := range o.Params {
			switch p.Get("TYPE") {
			case "PACK":
				packs = append(packs, p)
			case "CONF":
				on = p.Get("ON")
			}
		}
	}
	return on, packs
}
