package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"muster/agent/setup"
)

// TestWindowsDownloadIDs: the seed's latest-win-msi and latest-win-exe ids
// serve the files in the installers directory, named with a code when one
// is given; a missing file and an unknown id are clear 4xx.
func TestWindowsDownloadIDs(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "muster-agent.msi"), []byte("MSI"), 0o644)
	s := &Server{cfg: Config{InstallersDir: dir}}
	for _, tc := range []struct {
		query, disposition string
		status             int
	}{
		{"id=latest-win-msi", `attachment; filename="muster-agent.msi"`, 200},
		{"id=latest-win-exe", "", 404},
		{"id=latest-win-zip", "", 400},
		{"id=latest-win-msi&code=abc", "", 400},
	} {
		rec := httptest.NewRecorder()
		s.handleDownload(rec, httptest.NewRequest(http.MethodGet, "/download?"+tc.query, nil))
		if rec.Code != tc.status || rec.Header().Get("Content-Disposition") != tc.disposition {
			t.Errorf("%s: %d %q %s", tc.query, rec.Code, rec.Header().Get("Content-Disposition"), rec.Body)
		}
		if tc.status == 200 && rec.Body.String() != "MSI" {
			t.Errorf("%s: body %q", tc.query, rec.Body)
		}
	}
	// With the agent's exe there, latest-win-exe is that exe carrying the
	// MSI, which the setup program finds.
	os.WriteFile(filepath.Join(dir, "muster-agent-windows-amd64.exe"), []byte("MZ-EXE"), 0o644)
	rec := httptest.NewRecorder()
	s.handleDownload(rec, httptest.NewRequest(http.MethodGet, "/download?id=latest-win-exe", nil))
	body := rec.Body.Bytes()
	off, size, ok, err := setup.Find(bytes.NewReader(body), int64(len(body)))
	if rec.Code != 200 || !ok || err != nil || string(body[:off]) != "MZ-EXE" || string(body[off:off+size]) != "MSI" ||
		rec.Header().Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("latest-win-exe: %d %q, MSI found %v at %d (%v)", rec.Code, rec.Header(), ok, off, err)
	}
}
