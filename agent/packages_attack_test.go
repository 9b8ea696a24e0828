package agent_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"muster/agent"
	"muster/inventories"
	"muster/inventories/ocsxml"
	"muster/packages"
)

// onPath is what a party on the path between an agent and its plain-HTTP
// server can do: answer the PROLOG with a package of its own, and serve
// that package's info (EXECUTE, FRAGS=0, no digest, unsigned) over HTTP
// too. It records the result the agent reports.
type onPath struct {
	srv     *httptest.Server
	info    []byte
	mu      sync.Mutex
	results []string
}

func newOnPath(t *testing.T, command string) *onPath {
	p := &onPath{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/info") {
			w.Write(p.info)
			return
		}
		body, _ := io.ReadAll(r.Body)
		doc, _, err := ocsxml.DecodeBody(body, 1<<20)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		req, err := ocsxml.ParseRequest(doc, ocsxml.Limits{MaxDepth: 10, MaxElements: 10000})
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		switch req.Query {
		case ocsxml.QueryDownload:
			p.mu.Lock()
			p.results = append(p.results, req.Root.Get("ERR"))
			p.mu.Unlock()
			return
		case "PROLOG":
			host := strings.TrimPrefix(p.srv.URL, "http://")
			reply := &ocsxml.PrologReply{Response: ocsxml.Stop, PrologFreq: 10, Options: []ocsxml.Option{{Name: "DOWNLOAD", Params: []ocsxml.Param{
				{Attrs: []ocsxml.Attr{{Name: "TYPE", Value: "CONF"}, {Name: "ON", Value: "1"}, {Name: "FRAG_LATENCY", Value: "0"}, {Name: "CYCLE_LATENCY", Value: "0"}}},
				{Attrs: []ocsxml.Attr{{Name: "TYPE", Value: "PACK"}, {Name: "ID", Value: "1700000000"}, {Name: "INFO_LOC", Value: host + "/download"}, {Name: "PACK_LOC", Value: host + "/download"}}},
			}}}}
			w.Header().Set("Content-Type", "application/x-compressed")
			w.Write(ocsxml.Compress(ocsxml.Marshal(ocsxml.ReplyDecl, reply.Node())))
		}
	}))
	t.Cleanup(p.srv.Close)
	info := &packages.Info{ID: "1700000000", Action: packages.Execute, Command: command, Proto: "HTTP"}
	p.info = info.Marshal()
	return p
}

// The attack of issue 13: the agent talks plain HTTP to its server; an
// on-path party offers an unsigned EXECUTE package whose info also comes
// over HTTP. Nothing runs, and the agent reports why.
func TestAgentRunsNothingFromAnOnPathParty(t *testing.T) {
	pwned := filepath.Join(t.TempDir(), "pwned")
	p := newOnPath(t, "touch "+pwned)
	c, err := agent.NewClient(agent.Config{Server: p.srv.URL + "/ocsinventory", SSL: true})
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	ag := &agent.Agent{Client: c, WorkDir: work, Collect: func(context.Context) *inventories.Inventory { return &inventories.Inventory{} }}
	res, err := ag.Run(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Fatal("the agent ran a command an on-path party offered")
	}
	if got := res.Packages["1700000000"]; got != packages.ErrUntrustedInfo {
		t.Errorf("result %q, want %s", got, packages.ErrUntrustedInfo)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.results) != 1 || p.results[0] != packages.ErrUntrustedInfo {
		t.Errorf("reported %v, want [%s]", p.results, packages.ErrUntrustedInfo)
	}
	if b, _ := os.ReadFile(filepath.Join(work, "download", "refused")); !strings.Contains(string(b), packages.ErrUntrustedInfo) {
		t.Errorf("no refusal in download/refused: %q", b)
	}
}
