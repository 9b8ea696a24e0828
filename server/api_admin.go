package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"muster/packages"
	"muster/server/store"
)

// /api/v1: every action of server.Admin, each a route served by the
// LocalAdmin over the server's store, each behind the API token. Bodies are small JSON objects, capped.
func (s *Server) adminRoutes(mux *http.ServeMux) {
	adm := LocalAdmin{Store: s.store, PackagesDir: s.cfg.PackagesDir, Signer: s.cfg.PackageSigner, Now: s.cfg.Now}
	h := func(pattern string, fn func(w http.ResponseWriter, r *http.Request, adm LocalAdmin)) {
		mux.Handle(pattern, s.requireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fn(w, r, adm) })))
	}
	h("GET /api/v1/devices", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		devs, err := adm.Devices(r.Context())
		s.answer(w, "list devices", devs, err)
	})
	h("GET /api/v1/devices/{id}", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		d, err := adm.Device(r.Context(), r.PathValue("id"))
		s.answer(w, "device", d, err)
	})
	h("GET /api/v1/network", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		q := r.URL.Query()
		m, err := adm.Netmap(r.Context(), q.Get("unknown") == "1" || q.Get("unknown") == "true", q.Get("subnet"))
		s.answer(w, "netmap", m, err)
	})
	h("GET /api/v1/subnets", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		sn, err := adm.Subnets(r.Context())
		s.answer(w, "subnets", sn, err)
	})
	h("GET /api/v1/packages", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		list, err := adm.Packages(r.Context())
		s.answer(w, "packages", list, err)
	})
	h("GET /api/v1/packages/{id}/status", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		st, err := adm.PackageStatus(r.Context(), r.PathValue("id"))
		s.answer(w, "package status", st, err)
	})
	h("POST /api/v1/network/elect", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		var req struct{ DeviceID, Standing, Subnet string }
		if !s.readJSON(w, r, &req) {
			return
		}
		s.answer(w, "elect", okBody, adm.Elect(r.Context(), req.DeviceID, req.Standing, req.Subnet))
	})
	h("PUT /api/v1/subnets/{subnet}/schedule", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		var req struct{ Interval string }
		if !s.readJSON(w, r, &req) {
			return
		}
		d, err := time.ParseDuration(req.Interval)
		if err != nil {
			s.answer(w, "schedule", nil, invalid("interval %q: want a duration (4h, 30m) or 0", req.Interval))
			return
		}
		s.answer(w, "schedule", okBody, adm.Schedule(r.Context(), r.PathValue("subnet"), d))
	})
	h("GET /api/v1/options", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		o, err := adm.Options(r.Context())
		s.answer(w, "options", o, err)
	})
	h("PUT /api/v1/options/{name}", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		var req struct{ Value string }
		if !s.readJSON(w, r, &req) {
			return
		}
		s.answer(w, "set option", okBody, adm.SetOption(r.Context(), r.PathValue("name"), req.Value))
	})
	h("GET /api/v1/clients", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		cs, err := adm.Clients(r.Context())
		if cs == nil {
			cs = []store.Client{}
		}
		s.answer(w, "clients", cs, err)
	})
	h("POST /api/v1/clients", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		var req struct{ Name string }
		if !s.readJSON(w, r, &req) {
			return
		}
		c, err := adm.AddClient(r.Context(), req.Name)
		s.answer(w, "add client", c, err)
	})
	h("POST /api/v1/devices/{id}/release", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		s.answer(w, "release", okBody, adm.Release(r.Context(), r.PathValue("id")))
	})
	h("POST /api/v1/token/rotate", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		t, err := adm.RotateToken(r.Context())
		s.answer(w, "rotate token", map[string]string{"api_token": t}, err)
	})
	h("GET /api/v1/packages/{id}", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		i, err := adm.Package(r.Context(), r.PathValue("id"))
		s.answer(w, "package", i, err)
	})
	h("POST /api/v1/packages", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		info, err := s.buildUploaded(w, r, adm)
		s.answer(w, "build package", info, err)
	})
	h("DELETE /api/v1/packages/{id}", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		s.answer(w, "delete package", okBody, adm.DeletePackage(r.Context(), r.PathValue("id")))
	})
	h("POST /api/v1/packages/{id}/assign", func(w http.ResponseWriter, r *http.Request, adm LocalAdmin) {
		var req struct {
			Kind, Value string
			Force       bool
		}
		if !s.readJSON(w, r, &req) {
			return
		}
		n, err := adm.AssignPackage(r.Context(), r.PathValue("id"), store.PackageTarget{Kind: req.Kind, Value: req.Value}, req.Force)
		s.answer(w, "assign package", map[string]int{"devices": n}, err)
	})
}

// okBody is the body of an action that returns nothing.
var okBody = map[string]string{"status": "ok"}

// maxAdminBody caps an admin request's JSON body.
const maxAdminBody = 64 << 10

func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{"request body: " + err.Error()})
		return false
	}
	return true
}

// answer is respond with the admin errors mapped to their statuses.
func (s *Server) answer(w http.ResponseWriter, what string, v any, err error) {
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, v)
	case errors.Is(err, ErrInvalid):
		writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
	case errors.Is(err, store.ErrNotFound), errors.Is(err, packages.ErrNoPackage):
		writeJSON(w, http.StatusNotFound, apiError{err.Error()})
	case errors.Is(err, store.ErrExists):
		writeJSON(w, http.StatusConflict, apiError{err.Error()})
	default:
		s.respond(w, what, v, err)
	}
}

// DefaultMaxUpload bounds an uploaded package archive.
const DefaultMaxUpload = 8 << 30

// uploadTime is how long an upload may take to arrive.
const uploadTime = time.Hour

// buildUploaded builds a package from the archive in the request body (a
// tar.gz or zip, ?archive=tar.gz|zip|none), with the build options in the
// query: name, action, command, priority, frag-size, proto, notify,
// notify-countdown. The upload lands in a temporary file in the package
// store, capped at Limits.MaxUpload, and is removed after the build.
func (s *Server) buildUploaded(w http.ResponseWriter, r *http.Request, adm LocalAdmin) (*packages.Info, error) {
	if s.cfg.PackagesDir == "" {
		return nil, invalid("this server has no package store")
	}
	q := r.URL.Query()
	o := packages.BuildOptions{Label: q.Get("name"), Action: q.Get("action"), Command: q.Get("command"), Proto: q.Get("proto")}
	var err error
	if v := q.Get("priority"); v != "" {
		if o.Priority, err = strconv.Atoi(v); err != nil {
			return nil, invalid("priority %q: want a number", v)
		}
	} else {
		o.Priority = 5
	}
	if v := q.Get("frag-size"); v != "" {
		if o.FragSize, err = packages.ParseSize(v); err != nil {
			return nil, invalid("frag-size %q: %v", v, err)
		}
	}
	o.Notify.Text = q.Get("notify")
	o.Notify.User = o.Notify.Text != ""
	if v := q.Get("notify-countdown"); v != "" {
		if o.Notify.Countdown, err = strconv.Atoi(v); err != nil {
			return nil, invalid("notify-countdown %q: want seconds", v)
		}
	}
	kind := q.Get("archive")
	if kind == "none" {
		return adm.BuildPackage(r.Context(), "", o)
	}
	fileName := ""
	switch kind {
	case "tar.gz", "zip":
	case "file":
		// One file (an installer, say), packed as it is with its name.
		fileName = q.Get("filename")
		if !safeFileName(fileName) {
			return nil, invalid("filename %q: want a plain file name (no directory, no control characters, at most 255 bytes)", fileName)
		}
	default:
		return nil, invalid("archive %q: want tar.gz, zip, file (with filename) or none", kind)
	}
	if err := os.MkdirAll(s.cfg.PackagesDir, 0o755); err != nil {
		return nil, err
	}
	// An archive of gigabytes takes longer than the server's 5-minute read
	// timeout: an upload gets an hour to arrive, and the build after it.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(uploadTime))
	rc.SetWriteDeadline(time.Now().Add(2 * uploadTime))
	var tmp *os.File
	if fileName != "" {
		dir, derr := os.MkdirTemp(s.cfg.PackagesDir, ".upload-*")
		if derr != nil {
			return nil, derr
		}
		defer os.RemoveAll(dir)
		tmp, err = os.OpenFile(filepath.Join(dir, fileName), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	} else {
		tmp, err = os.CreateTemp(s.cfg.PackagesDir, ".upload-*."+kind)
	}
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	limit := s.cfg.Limits.MaxUpload
	if limit <= 0 {
		limit = DefaultMaxUpload
	}
	n, err := io.Copy(tmp, http.MaxBytesReader(w, r.Body, limit))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, invalid("the archive is over %s (the server's --max-upload)", sizeText(limit))
	}
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	if n == 0 {
		return nil, invalid("the upload is empty")
	}
	return adm.BuildPackage(r.Context(), tmp.Name(), o)
}

// safeFileName reports whether name is a plain file name an upload may
// take: no directory part, no dot names, no control characters.
func safeFileName(name string) bool {
	if name == "" || name == "." || name == ".." || len(name) > 255 || strings.ContainsAny(name, `/\`) {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// sizeText says a byte count the way a person reads it.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
