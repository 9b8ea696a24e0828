package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"

	"muster/agent/setup"
)

var downloadIDRe = regexp.MustCompile(`^latest-(linux|windows|darwin)-(amd64|arm64|386)$`)

// windowsDownloads are the seed's Windows ids, found in InstallersDir:
// the MSI (make msi), and the setup program, which the server makes by
// appending that MSI to the agent's exe (see package setup).
var windowsDownloads = map[string]struct{ file, ext string }{
	"latest-win-msi": {"muster-agent.msi", ".msi"},
	"latest-win-exe": {"muster-agent.msi", ".exe"},
}

// windowsExe is the agent's exe that carries the MSI in latest-win-exe.
const windowsExe = "muster-agent-windows-amd64.exe"

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
		if id == "latest-win-exe" {
			exe := filepath.Join(s.cfg.InstallersDir, windowsExe)
			if !fileExists(exe) {
				writeJSON(w, http.StatusNotFound, apiError{fmt.Sprintf("no %s: it is %s with the MSI appended: put %s (GOOS=windows go build ./cmd/muster) in the installers directory %q", id, windowsExe, windowsExe, s.cfg.InstallersDir)})
				return
			}
			s.serveSetup(w, r, exe, path)
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

// serveSetup sends the setup program: exe, then msi, then the trailer
// that tells the program where the MSI is.
func (s *Server) serveSetup(w http.ResponseWriter, r *http.Request, exe, msi string) {
	name, ok := s.installerName(w, r, ".exe")
	if !ok {
		return
	}
	fe, err := os.Open(exe)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{err.Error()})
		return
	}
	defer fe.Close()
	fm, err := os.Open(msi)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{err.Error()})
		return
	}
	defer fm.Close()
	se, err1 := fe.Stat()
	sm, err2 := fm.Stat()
	if err1 != nil || err2 != nil || sm.Size() > setup.MaxMSI {
		writeJSON(w, http.StatusInternalServerError, apiError{fmt.Sprintf("%s: not a usable MSI", msi)})
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(se.Size()+sm.Size()+setup.TrailerSize, 10))
	if r.Method == http.MethodHead {
		return
	}
	body := io.MultiReader(io.LimitReader(fe, se.Size()), io.LimitReader(fm, sm.Size()), bytes.NewReader(setup.Trailer(sm.Size())))
	if _, err := io.Copy(w, body); err != nil {
		s.log.Debug("download cut", "id", "latest-win-exe", "err", err)
	}
}

// installerName is the download's file name, muster-agent_CODE.EXT when
// the request names a client's code; a bad or unknown code is answered
// here, and ok is false.
func (s *Server) installerName(w http.ResponseWriter, r *http.Request, ext string) (string, bool) {
	code := r.URL.Query().Get("code")
	if code == "" {
		return "muster-agent" + ext, true
	}
	if !s.codes.allow(clientIP(r)) {
		s.rateLimited(w)
		return "", false
	}
	if !ActivationCodeRe.MatchString(code) {
		writeJSON(w, http.StatusBadRequest, apiError{"code: want 10 letters A-Z"})
		return "", false
	}
	if !s.codeExists(r, code) {
		writeJSON(w, http.StatusNotFound, apiError{"no client has code " + code})
		return "", false
	}
	return "muster-agent_" + code + ext, true
}

// serveInstaller sends an installer, named muster-agent_CODE.EXT when the
// request has a client's code (so installing it activates the agent).
func (s *Server) serveInstaller(w http.ResponseWriter, r *http.Request, path, ext string) {
	name, ok := s.installerName(w, r, ext)
	if !ok {
		return
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
