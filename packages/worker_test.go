package packages

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fixture is a package store served over HTTPS as a server's /download/.
type fixture struct {
	d       Dir
	srv     *httptest.Server
	mu      sync.Mutex
	ranges  []string
	cutOnce map[string]bool // paths whose first GET is cut halfway
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{d: Dir(t.TempDir()), cutOnce: map[string]bool{}}
	files := http.StripPrefix("/download/", http.FileServer(http.Dir(string(f.d))))
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		cut := f.cutOnce[r.URL.Path]
		delete(f.cutOnce, r.URL.Path)
		if rg := r.Header.Get("Range"); rg != "" {
			f.ranges = append(f.ranges, rg)
		}
		f.mu.Unlock()
		if cut {
			b, _ := os.ReadFile(filepath.Join(string(f.d), strings.TrimPrefix(r.URL.Path, "/download/")))
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.Write(b[:len(b)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // the server goes away mid-fragment
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) worker(t *testing.T, dir string, reports map[string]string) *Worker {
	return &Worker{Dir: dir, HTTP: f.srv.Client(), Trust: Trust{Verified: true, Hosts: []string{"127.0.0.1"}},
		Report: func(ctx context.Context, id, code string) error { reports[id] = code; return nil }}
}

func (f *fixture) offer(id string) Offer {
	loc := strings.TrimPrefix(f.srv.URL, "https://") + "/download"
	return Offer{ID: id, InfoLoc: loc, PackLoc: loc}
}

var fast = Conf{On: true, ExecTimeout: 10 * time.Second}

func script(t *testing.T, body string) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "run.sh"), []byte("#!/bin/sh\n"+body+"\n"), 0o755)
	pad := make([]byte, 3000) // incompressible: several fragments
	rand.Read(pad)
	os.WriteFile(filepath.Join(dir, "pad"), pad, 0o644)
	return dir
}

func TestWorkerRunsOnceAndResumes(t *testing.T) {
	f := newFixture(t)
	marks := t.TempDir()
	info, err := Build(f.d, script(t, "echo ran >> "+marks+"/m"), BuildOptions{Action: "execute", Command: "sh run.sh", FragSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if info.Frags < 2 {
		t.Fatalf("want several fragments, got %d", info.Frags)
	}
	f.cutOnce["/download/"+info.ID+"/"+FragmentName(info.ID, 2)] = true
	state, reports := t.TempDir(), map[string]string{}
	w := f.worker(t, state, reports)
	res, err := w.Run(context.Background(), fast, []Offer{f.offer(info.ID)})
	if err != nil || res[info.ID] != Success || reports[info.ID] != Success {
		t.Fatalf("Run = %v %v, reports %v", res, err, reports)
	}
	if b, _ := os.ReadFile(filepath.Join(marks, "m")); string(b) != "ran\n" {
		t.Fatalf("marker: %q", b)
	}
	if len(f.ranges) != 1 || !strings.HasPrefix(f.ranges[0], "bytes=") || f.ranges[0] == "bytes=0-" {
		t.Fatalf("the cut fragment was not resumed with a Range: %v", f.ranges)
	}
	if h := w.History(); len(h) != 1 || h[0] != info.ID {
		t.Fatalf("history %v", h)
	}
	// Offered again: not run again, unless forced.
	res, _ = w.Run(context.Background(), fast, []Offer{f.offer(info.ID)})
	if res[info.ID] != SuccessAlreadySetup {
		t.Fatalf("second offer: %v", res)
	}
	o := f.offer(info.ID)
	o.Force = true
	if res, _ = w.Run(context.Background(), fast, []Offer{o}); res[info.ID] != Success {
		t.Fatalf("forced: %v", res)
	}
	if b, _ := os.ReadFile(filepath.Join(marks, "m")); string(b) != "ran\nran\n" {
		t.Fatalf("marker after force: %q", b)
	}
	if entries, _ := os.ReadDir(state); len(entries) != 1 {
		t.Fatalf("state dir keeps %d entries, want only history", len(entries))
	}
}

// evilArchive is a tar.gz whose entry climbs out of the target.
func evilArchive(t *testing.T, entries ...tar.Header) string {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, h := range entries {
		h := h
		body := "pwned\n"
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(body))
		}
		h.Mode = 0o755
		tw.WriteHeader(&h)
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(body))
		}
	}
	tw.Close()
	gz.Close()
	p := filepath.Join(t.TempDir(), "evil.tar.gz")
	os.WriteFile(p, buf.Bytes(), 0o644)
	return p
}

func TestWorkerBadPackages(t *testing.T) {
	f := newFixture(t)
	marks := t.TempDir()
	outside := filepath.Join(marks, "outside")
	build := func(src string, o BuildOptions) *Info {
		if o.FragSize == 0 {
			o.FragSize = 1024
		}
		i, err := Build(f.d, src, o)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	good := func() string { return script(t, "touch "+marks+"/ran") }
	rel, _ := filepath.Rel("/", outside)
	climb := strings.Repeat("../", 20) + rel
	cases := []struct {
		name string
		info *Info
		want string
	}{
		{"escaping path", build(evilArchive(t, tar.Header{Name: "run.sh", Typeflag: tar.TypeReg}, tar.Header{Name: climb, Typeflag: tar.TypeReg}),
			BuildOptions{Action: "execute", Command: "sh run.sh"}), ErrBuild},
		{"link out", build(evilArchive(t, tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc"}),
			BuildOptions{Action: "execute", Command: "true"}), ErrBuild},
		{"missing fragment", build(good(), BuildOptions{Action: "execute", Command: "sh run.sh"}), ErrDownloadPack},
		{"info does not parse", build(good(), BuildOptions{Action: "execute", Command: "sh run.sh"}), ErrDownloadInfo},
		{"info of another package", build(good(), BuildOptions{Action: "execute", Command: "sh run.sh"}), ErrBadID},
		{"bad digest", build(good(), BuildOptions{Action: "execute", Command: "sh run.sh"}), ErrBadDigest},
		{"no info", &Info{ID: "42"}, ErrDownloadInfo},
		{"launch exits 3", build(script(t, "exit 3"), BuildOptions{Action: "launch", Command: "run.sh"}), "EXIT_CODE_3"},
		{"execute fails", build(script(t, "exit 1"), BuildOptions{Action: "execute", Command: "sh run.sh"}), ErrExecute},
		{"timeout", build(script(t, "sleep 30"), BuildOptions{Action: "execute", Command: "exec sh run.sh"}), ErrExecuteTimeout},
	}
	pdir := func(i *Info) string { return f.d.Path(i.ID) }
	os.Remove(filepath.Join(pdir(cases[2].info), FragmentName(cases[2].info.ID, 2)))
	os.WriteFile(filepath.Join(pdir(cases[3].info), "info"), []byte("<DOWNLOAD"), 0o644)
	other := *cases[4].info
	other.ID = "1"
	os.WriteFile(filepath.Join(pdir(cases[4].info), "info"), other.Marshal(), 0o644)
	frag := filepath.Join(pdir(cases[5].info), FragmentName(cases[5].info.ID, 1))
	b, _ := os.ReadFile(frag)
	b[10] ^= 1
	os.WriteFile(frag, b, 0o644)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reports := map[string]string{}
			w := f.worker(t, t.TempDir(), reports)
			conf := fast
			if c.want == ErrExecuteTimeout {
				conf.ExecTimeout = 300 * time.Millisecond
			}
			res, err := w.Run(context.Background(), conf, []Offer{f.offer(c.info.ID)})
			if err != nil || res[c.info.ID] != c.want || reports[c.info.ID] != c.want {
				t.Fatalf("result %v %v, reports %v; want %s", res, err, reports, c.want)
			}
			if c.want != "EXIT_CODE_3" && c.want != ErrExecute && c.want != ErrExecuteTimeout {
				if _, err := os.Stat(filepath.Join(marks, "ran")); err == nil {
					t.Fatal("a bad package ran")
				}
			}
			if _, err := os.Stat(outside); err == nil {
				t.Fatal("an archive wrote outside its directory")
			}
			if len(w.History()) != 0 {
				t.Fatalf("a failed package went to the history: %v", w.History())
			}
		})
	}
}

func TestExtractRejectsTricks(t *testing.T) {
	for _, c := range []struct {
		name    string
		entries []tar.Header
	}{
		{"absolute", []tar.Header{{Name: "/tmp/x", Typeflag: tar.TypeReg}}},
		{"dotdot", []tar.Header{{Name: "a/../../x", Typeflag: tar.TypeReg}}},
		{"absolute link", []tar.Header{{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}}},
		{"relative link out", []tar.Header{{Name: "a/l", Typeflag: tar.TypeSymlink, Linkname: "../../x"}}},
		{"link through link", []tar.Header{{Name: "d", Typeflag: tar.TypeSymlink, Linkname: "."}, {Name: "d/z", Typeflag: tar.TypeSymlink, Linkname: ".."}}},
		{"hard link", []tar.Header{{Name: "h", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"}}},
		{"device", []tar.Header{{Name: "dev", Typeflag: tar.TypeChar}}},
		{"duplicate over a file", []tar.Header{{Name: "f", Typeflag: tar.TypeReg}, {Name: "f", Typeflag: tar.TypeReg}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dst := t.TempDir()
			if err := Extract(evilArchive(t, c.entries...), dst, 1<<20); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	dst := t.TempDir()
	ok := evilArchive(t, tar.Header{Name: "a/f", Typeflag: tar.TypeReg}, tar.Header{Name: "a/l", Typeflag: tar.TypeSymlink, Linkname: "f"})
	if err := Extract(ok, dst, 1<<20); err != nil {
		t.Fatalf("a link inside: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "a", "l")); err != nil || string(b) != "pwned\n" {
		t.Fatalf("link inside: %q %v", b, err)
	}
}

func FuzzExtract(f *testing.F) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "a/b", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644})
	tw.Write([]byte("x"))
	tw.Close()
	gz.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		root := t.TempDir()
		dst := filepath.Join(root, "dst")
		os.Mkdir(dst, 0o755)
		p := filepath.Join(root, "a")
		os.WriteFile(p, b, 0o644)
		Extract(p, dst, 1<<20)
		// Whatever the archive, nothing lands beside dst.
		entries, _ := os.ReadDir(root)
		if len(entries) != 2 {
			t.Fatalf("root holds %d entries", len(entries))
		}
	})
}

func TestWorkerTimeout(t *testing.T) {
	f := newFixture(t)
	info, err := Build(f.d, script(t, "true"), BuildOptions{Action: "execute", Command: "true", FragSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	// The first fragment is never served: the package waits, and ends
	// with ERR_TIMEOUT once TIMEOUT has passed since it was first offered.
	os.Remove(filepath.Join(f.d.Path(info.ID), FragmentName(info.ID, 1)))
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/info") {
			http.ServeFile(w, r, filepath.Join(f.d.Path(info.ID), "info"))
			return
		}
		http.Error(w, "busy", http.StatusServiceUnavailable) // a transient failure: retried
	})
	state, reports := t.TempDir(), map[string]string{}
	w := f.worker(t, state, reports)
	now := time.Unix(1_800_000_000, 0)
	w.Now = func() time.Time { now = now.Add(time.Hour); return now }
	conf := fast
	conf.Timeout = 5 * time.Hour
	res, err := w.Run(context.Background(), conf, []Offer{f.offer(info.ID)})
	if err != nil || res[info.ID] != ErrTimeout {
		t.Fatalf("Run = %v %v", res, err)
	}
}

func TestWorkerStopsAfterAFailingPeriodAndResumes(t *testing.T) {
	f := newFixture(t)
	info, err := Build(f.d, script(t, "true"), BuildOptions{Action: "execute", Command: "true", FragSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	files := f.srv.Config.Handler
	var requests atomic.Int32
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if !strings.HasSuffix(r.URL.Path, "/info") && !strings.HasSuffix(r.URL.Path, "-1") {
			http.Error(w, "away", http.StatusBadGateway) // the CDN is away after fragment 1
			return
		}
		files.ServeHTTP(w, r)
	})
	state, reports := t.TempDir(), map[string]string{}
	w := f.worker(t, state, reports)
	conf := fast
	conf.PeriodLength = 3
	res, err := w.Run(context.Background(), conf, []Offer{f.offer(info.ID)})
	if err != nil || len(res) != 0 || len(reports) != 0 {
		t.Fatalf("Run = %v %v, reports %v; want no result", res, err, reports)
	}
	// info, fragment 1, then 3 failed attempts at fragment 2.
	if n := requests.Load(); n != 5 {
		t.Fatalf("%d requests, want 5", n)
	}
	if _, err := os.Stat(filepath.Join(state, info.ID, FragmentName(info.ID, 1))); err != nil {
		t.Fatalf("fragment 1 not kept for the next run: %v", err)
	}
	// Next run, the CDN is back: it goes on from fragment 2.
	f.srv.Config.Handler = files
	if res, _ := w.Run(context.Background(), conf, []Offer{f.offer(info.ID)}); res[info.ID] != Success {
		t.Fatalf("next run: %v", res)
	}
}
