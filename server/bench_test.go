package server

// These benchmarks are profiling aids for the server's own CPU cost per
// message (go test -bench . ./server). The comparative benchmark, against
// the real OCS server, is internal/loadgen/cmd/ingestbench (make bench).

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"muster/internal/fleet"
	"muster/server/store"
)

// benchServer is a server over a real SQLite file with n registered
// machines, driven through its handler without sockets, so the figures are
// the server's own cost.
func benchServer(b *testing.B, n int) (http.Handler, *fleet.Template) {
	st, err := store.Open(b.TempDir()+"/"+store.FileName, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	srv, _ := New(Config{}, st)
	tmpl, err := fleet.Load("../inventories/testdata/inventory.xml")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		id, inv := tmpl.Machine("reg", i)
		if _, err := st.SaveInventory(context.Background(), id, inv, store.Meta{Received: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	return srv.Handler(), tmpl
}

func serve(b *testing.B, h http.Handler, body []byte) {
	req := httptest.NewRequest("POST", "/ocsinventory", bytes.NewReader(body))
	req.Header.Set("User-Agent", unixUA)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

func BenchmarkProlog(b *testing.B) {
	h, _ := benchServer(b, 20)
	bodies := make([][]byte, 20)
	for i := range bodies {
		bodies[i] = fleet.Prolog("reg", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serve(b, h, bodies[i%len(bodies)])
	}
}

func BenchmarkInventoryFull(b *testing.B) {
	h, tmpl := benchServer(b, 0)
	bodies := make([][]byte, 50)
	for i := range bodies {
		bodies[i] = tmpl.Body("inv", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serve(b, h, bodies[i%len(bodies)])
	}
}
