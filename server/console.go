package server

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/csv"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"muster/internal/textsafe"
	"muster/server/console"
	"muster/server/store"
)

// The web console: pages under /ui/ (one shell page, its assets
// embedded), a login form, and the /api/v1 routes the pages call with the
// session cookie. The console is a client of the API, never a second path
// into the store.

// loginRate bounds the login attempts per minute and IP.
const loginRate = 10

// dummyHash is compared against when a user does not exist, so that a
// login takes as long whether or not the name is known.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("muster-no-such-user"), bcrypt.DefaultCost)

func (s *Server) consoleRoutes(mux *http.ServeMux) {
	s.logins = newLimiter("console logins", loginRate, loginRate, s.log, s.cfg.Now)
	assets, _ := fs.Sub(console.Files, "files")
	mux.Handle("GET /ui/assets/", http.StripPrefix("/ui/assets/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ui/fleet", http.StatusFound) })
	mux.HandleFunc("GET /ui/login", func(w http.ResponseWriter, r *http.Request) { s.loginPage(w, http.StatusOK, "") })
	mux.HandleFunc("POST /ui/login", s.handleLogin)
	mux.HandleFunc("POST /ui/logout", s.handleLogout)
	mux.HandleFunc("GET /ui/", func(w http.ResponseWriter, r *http.Request) {
		if _, ok, err := s.session(r); err != nil || !ok {
			http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
			return
		}
		s.page(w, "app.html", http.StatusOK, nil)
	})
	adm := LocalAdmin{Store: s.store, PackagesDir: s.cfg.PackagesDir, Signer: s.cfg.PackageSigner, Now: s.cfg.Now}
	h := func(pattern string, fn http.HandlerFunc) { mux.Handle(pattern, s.requireAuth(fn)) }
	h("GET /api/v1/me", func(w http.ResponseWriter, r *http.Request) {
		p := caller(r.Context())
		me := map[string]string{"name": p.Name, "role": p.Role}
		if se, ok, _ := s.session(r); ok {
			me["csrf"] = se.CSRF
		}
		writeJSON(w, http.StatusOK, me)
	})
	h("GET /api/v1/devices/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := adm.DeviceStatus(r.Context(), r.PathValue("id"))
		s.answer(w, "device status", st, err)
	})
	h("POST /api/v1/network/identify", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ MAC, Type, Description string }
		if !s.readJSON(w, r, &req) {
			return
		}
		s.answer(w, "identify", okBody, adm.Identify(r.Context(), req.MAC, req.Type, req.Description, caller(r.Context()).Name))
	})
	h("POST /api/v1/network/push", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			MACs      []string
			Transport string
		}
		if !s.readJSON(w, r, &req) {
			return
		}
		hosts, err := adm.RequestPush(r.Context(), req.MACs, req.Transport)
		s.answer(w, "request push", map[string]any{"queued": hosts}, err)
	})
	h("GET /api/v1/duplicates", func(w http.ResponseWriter, r *http.Request) {
		g, err := adm.Duplicates(r.Context(), r.URL.Query().Get("by"))
		s.answer(w, "duplicates", nonNil(g), err)
	})
	h("POST /api/v1/duplicates/merge", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ By string }
		if !s.readJSON(w, r, &req) {
			return
		}
		g, err := adm.MergeDuplicates(r.Context(), req.By)
		s.answer(w, "merge duplicates", nonNil(g), err)
	})
	h("GET /api/v1/find", func(w http.ResponseWriter, r *http.Request) {
		m, err := adm.Find(r.Context(), r.URL.Query().Get("q"))
		s.answer(w, "find", m, err)
	})
	h("GET /api/v1/groups", func(w http.ResponseWriter, r *http.Request) {
		g, err := adm.Groups(r.Context())
		s.answer(w, "groups", g, err)
	})
	h("PUT /api/v1/groups/{name}", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query   string
			Members []string
		}
		if !s.readJSON(w, r, &req) {
			return
		}
		s.answer(w, "put group", okBody, adm.PutGroup(r.Context(), r.PathValue("name"), req.Query, req.Members))
	})
	h("DELETE /api/v1/groups/{name}", func(w http.ResponseWriter, r *http.Request) {
		s.answer(w, "delete group", okBody, adm.DeleteGroup(r.Context(), r.PathValue("name")))
	})
	h("GET /api/v1/groups/{name}/members", func(w http.ResponseWriter, r *http.Request) {
		m, err := adm.GroupMembers(r.Context(), r.PathValue("name"))
		s.answer(w, "group members", m, err)
	})
	h("GET /api/v1/users", func(w http.ResponseWriter, r *http.Request) {
		us, err := adm.Users(r.Context())
		s.answer(w, "users", us, err)
	})
	h("POST /api/v1/users", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name, Role, Password string
			Replace              bool
		}
		if !s.readJSON(w, r, &req) {
			return
		}
		s.answer(w, "add user", okBody, adm.AddUser(r.Context(), req.Name, req.Role, req.Password, req.Replace))
	})
	h("GET /api/v1/audit", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		log, err := adm.AuditLog(r.Context(), n)
		s.answer(w, "audit log", log, err)
	})
	h("GET /api/v1/fleet", func(w http.ResponseWriter, r *http.Request) {
		q, err := fleetQuery(r, 50)
		if err != nil {
			s.answer(w, "fleet", nil, err)
			return
		}
		p, err := adm.Fleet(r.Context(), q)
		s.answer(w, "fleet", p, err)
	})
	h("GET /api/v1/fleet.csv", func(w http.ResponseWriter, r *http.Request) {
		q, err := fleetQuery(r, 0)
		if err == nil {
			q.PerPage, q.Page = 0, 0
		}
		var p FleetPage
		if err == nil {
			p, err = adm.Fleet(r.Context(), q)
		}
		if err != nil {
			s.answer(w, "fleet csv", nil, err)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="fleet.csv"`)
		writeFleetCSV(w, p.Devices)
	})
}

// fleetQuery reads a fleet search from the URL: q, seen (days), sort,
// order (asc, desc), page, per_page.
func fleetQuery(r *http.Request, perPage int) (FleetQuery, error) {
	v := r.URL.Query()
	q := FleetQuery{Q: v.Get("q"), Where: v.Get("where"), Sort: v.Get("sort"), Desc: v.Get("order") == "desc", Page: 1, PerPage: perPage}
	for _, f := range []struct {
		name string
		to   *int
	}{{"seen", &q.SeenDays}, {"page", &q.Page}, {"per_page", &q.PerPage}} {
		if s := v.Get(f.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return q, invalid("%s %q: want a whole number", f.name, s)
			}
			*f.to = n
		}
	}
	return q, nil
}

// writeFleetCSV writes devices as CSV, every field sanitized (no controls,
// and no leading = + - @ that a spreadsheet would run as a formula).
func writeFleetCSV(w io.Writer, devs []store.Device) {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "deviceid", "name", "ip", "os", "osversion", "client", "tag", "last_inventory", "last_contact"})
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	cell := func(s string) string {
		s = textsafe.Sanitize(s)
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			s = "'" + s
		}
		return s
	}
	for _, d := range devs {
		cw.Write([]string{strconv.FormatInt(d.ID, 10), cell(d.DeviceID), cell(d.Name), cell(d.IPAddr), cell(d.OSName), cell(d.OSVersion),
			cell(d.Client), cell(d.Tag), when(d.LastInventory), when(d.LastContact)})
	}
	cw.Flush()
}

// handleLogin checks a name and password from the login form and starts
// a session: an HttpOnly, SameSite=Strict cookie (Secure under TLS).
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !s.logins.allow(clientIP(r)) {
		s.loginPage(w, http.StatusTooManyRequests, "Too many attempts from this address: wait a minute.")
		return
	}
	if !sameOrigin(r) {
		s.loginPage(w, http.StatusForbidden, "Cross-site login refused.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		s.loginPage(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	name, password := r.PostForm.Get("name"), r.PostForm.Get("password")
	u, err := s.store.UserByName(r.Context(), name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("login", "err", err)
		s.loginPage(w, http.StatusInternalServerError, "The server could not check the login.")
		return
	}
	hash := []byte(u.Hash)
	if err != nil {
		hash = dummyHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || err != nil {
		s.audit(r.Context(), textsafe.Sanitize(name), "login refused", clientIP(r))
		s.loginPage(w, http.StatusUnauthorized, "Wrong name or password.")
		return
	}
	value := randomToken()
	se := store.Session{Hash: HashToken(value), Name: u.Name, CSRF: randomToken(), Expires: s.cfg.Now().Add(sessionTTL)}
	if err := s.store.CreateSession(r.Context(), se, s.cfg.Now()); err != nil {
		s.log.Error("login", "err", err)
		s.loginPage(w, http.StatusInternalServerError, "The server could not start a session.")
		return
	}
	s.audit(r.Context(), u.Name, "login", clientIP(r))
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: value, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL / time.Second)})
	http.Redirect(w, r, "/ui/fleet", http.StatusSeeOther)
}

// handleLogout ends the session; it needs the session's CSRF token (form
// field csrf or the header), as every change does.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	se, ok, err := s.session(r)
	if err != nil || !ok {
		http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	r.ParseForm()
	token := cmp.Or(r.Header.Get(CSRFHeader), r.PostForm.Get("csrf"))
	if !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(token), []byte(se.CSRF)) != 1 {
		writeJSON(w, http.StatusForbidden, apiError{"missing or wrong CSRF token"})
		return
	}
	if err := s.store.DeleteSession(context.WithoutCancel(r.Context()), se.Hash); err != nil {
		s.respond(w, "logout", nil, err)
		return
	}
	s.audit(r.Context(), se.Name, "logout", "")
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// loginPage answers with the login form and a message.
func (s *Server) loginPage(w http.ResponseWriter, status int, msg string) {
	s.page(w, "login.html", status, map[string]string{"{{message}}": msg})
}

// page writes one of the console's HTML pages with its placeholders
// replaced by escaped text, under a strict content security policy.
func (s *Server) page(w http.ResponseWriter, name string, status int, vars map[string]string) {
	b, err := console.Files.ReadFile("files/" + name)
	if err != nil {
		http.Error(w, "console page missing", http.StatusInternalServerError)
		return
	}
	out := string(b)
	for k, v := range vars {
		out = strings.ReplaceAll(out, k, htmlEscape(v))
	}
	out = strings.ReplaceAll(out, "{{message}}", "")
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	io.WriteString(w, out)
}

var htmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

func htmlEscape(s string) string { return htmlReplacer.Replace(s) }

// nonNil is an empty list for none, so JSON says [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
