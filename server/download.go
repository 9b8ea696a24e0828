package server

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
)

var downloadIDRe = regexp.MustCompile(`^latest-(linux|windows|darwin)-(amd64|arm64|386)$`)

// windowsDownloads are the seed's Windows ids: the MSI (make msi) and the
// agent's exe, each found in InstallersDir under its file name.
var windowsDownloads = map[string]struct{ file, ext string }{
	"latest-win-msi": {"muster-agent.msi", ".msi"},
	"latest-win-exe": {"muster-agent-windows-amd64.exe", ".exe"},
}

// handleDownload serves agent installers: /download?id=latest-OS-ARCH,
// from InstallersDir (muster-agent-OS-ARCH[.exe]) or, for the server's own
// platform, the running binary. With &code=CODE the file is named
// muster-agent_CODE[.exe], so installing it activates the agent.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	path, ext := "", ""
	if wd, ok := windowsDownloads[id]; ok {
		ext = wd.ext
		if s.cfg.InstallersDir != "" {
			if p := filepath.Join(s.cfg.InstallersDir, wd.file); fileExists(p) {
				path = p
			}
		}
		if path == "" {
			writeJSON(w, http.StatusNotFound, apiError{fmt.Sprintf("no %s: put %s (make msi builds bin/muster-agent.msi) in the installers directory %q", id, wd.file, s.cfg.InstallersDir)})
			return
		}
		s.serveInstaller(w, r, path, ext)
		return
	}
	m := downloadIDRe.FindStringSubmatch(id)
	if m == nil {
		writeJSON(w, http.StatusBadRequest, apiError{fmt.Sprintf("id %q: want latest-win-msi, latest-win-exe or latest-OS-ARCH (linux, windows, darwin; amd64, arm64, 386)", id)})
		return
	}
	goos, arch := m[1], m[2]
	if goos == "windows" {
		ext = ".exe"
	}
	if s.cfg.InstallersDir != "" {
		p := filepath.Join(s.cfg.InstallersDir, fmt.Sprintf("muster-agent-%s-%s%s", goos, arch, ext))
		if _, err := os.Stat(p); err == nil {
			path = p
		}
	}
	if path == "" && goos == runtime.GOOS && arch == runtime.GOARCH {
		path, _ = os.Executable()
	}
	if path == "" {
		writeJSON(w, http.StatusNotFound, apiError{fmt.Sprintf("no agent for %s-%s: put muster-agent-%s-%s%s in %s", goos, arch, goos, arch, ext, s.cfg.InstallersDir)})
		return
	}
	s.serveInstaller(w, r, path, ext)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// serveInstaller sends an installer, named muster-agent_CODE.EXT when the
// request has a client's code (so installing it activates the agent).
func (s *Server) serveInstaller(w http.ResponseWriter, r *http.Request, path, ext string) {
	name := "muster-agent" + ext
	if code := r.URL.Query().Get("code"); code != "" {
		if !ActivationCodeRe.MatchString(code) {
			writeJSON(w, http.StatusBadRequest, apiError{"code: want 10 letters A-Z"})
			return
		}
		if !s.codeExists(r, code) {
			writeJSON(w, http.StatusNotFound, apiError{"no client has code " + code})
			return
		}
		name = "muster-agent_" + code + ext
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeFile(w, r, path)
}

func (s *Server) codeExists(r *http.Request, code string) bool {
	cs, err := s.store.Clients(r.Context())
	if err != nil {
		return false
	}
	for _, c := range cs {
		if c.Code == code {
			return true
		}
	}
	return false
}
