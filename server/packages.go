package server

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"muster/inventories/ocsxml"
	"muster/packages"
	"muster/server/store"
)

// downloadDefaults are the DOWNLOAD options as OCS ships them, except
// DOWNLOAD (deployment allowed at all), which is on.
var downloadDefaults = []struct{ option, attr, def string }{
	{"DOWNLOAD", "ON", "1"},
	{"DOWNLOAD_FRAG_LATENCY", "FRAG_LATENCY", "60"},
	{"DOWNLOAD_CYCLE_LATENCY", "CYCLE_LATENCY", "60"},
	{"DOWNLOAD_PERIOD_LATENCY", "PERIOD_LATENCY", "60"},
	{"DOWNLOAD_PERIOD_LENGTH", "PERIOD_LENGTH", "10"},
	{"DOWNLOAD_TIMEOUT", "TIMEOUT", "7"},
	{"DOWNLOAD_EXECUTION_TIMEOUT", "EXECUTION_TIMEOUT", "120"},
}

// downloadOption is the DOWNLOAD option of a PROLOG reply: the worker's
// configuration and, for a known device, the packages assigned to it and
// not answered yet. ON is 1 only while the device has packages to work
// on: a stock agent starts a worker process for ON=1, and a package it
// works on stays offered (NOTIFIED) until its result, so ON=0 never stops
// a worker mid-package. Packages are never offered after a result, so a
// stock agent never sees one of its history unless assigned again.
func (s *Server) downloadOption(ctx context.Context, r *http.Request, deviceID string, known bool, now time.Time) (ocsxml.Option, error) {
	opts, err := s.store.Options(ctx)
	if err != nil {
		return ocsxml.Option{}, err
	}
	var offers []store.PackageOffer
	if enabled := opts["DOWNLOAD"] != "0"; enabled && known && s.cfg.PackagesDir != "" {
		if offers, err = s.store.PackageOffers(ctx, deviceID, now); err != nil {
			return ocsxml.Option{}, err
		}
		s.metrics.offers.Add(float64(len(offers)))
	}
	conf := []ocsxml.Attr{{Name: "TYPE", Value: "CONF"}}
	for _, d := range downloadDefaults {
		v := opts[d.option]
		if v == "" {
			v = d.def
		}
		if d.attr == "ON" && len(offers) == 0 {
			v = "0"
		}
		conf = append(conf, ocsxml.Attr{Name: d.attr, Value: v})
	}
	opt := ocsxml.Option{Name: "DOWNLOAD", Params: []ocsxml.Param{{Attrs: conf}}}
	if len(offers) == 0 {
		return opt, nil
	}
	info, pack := s.packageLocations(r)
	for _, o := range offers {
		force := "0"
		if o.Force {
			force = "1"
		}
		opt.Params = append(opt.Params, ocsxml.Param{Attrs: []ocsxml.Attr{
			{Name: "TYPE", Value: "PACK"}, {Name: "ID", Value: o.ID},
			{Name: "INFO_LOC", Value: info}, {Name: "PACK_LOC", Value: pack},
			{Name: "CERT_PATH", Value: "INSTALL_PATH"}, {Name: "CERT_FILE", Value: "INSTALL_PATH/cacert.pem"},
			{Name: "FORCE", Value: force}, {Name: "SCHEDULE", Value: ""}, {Name: "POSTCMD", Value: ""},
		}})
	}
	s.log.Info("packages offered", "deviceid", deviceID, "count", len(offers), "info_loc", info, "pack_loc", pack)
	return opt, nil
}

// packageLocations are INFO_LOC and PACK_LOC (host[:port]/path, no
// scheme): the configured ones, or this server as the agent reached it.
func (s *Server) packageLocations(r *http.Request) (info, pack string) {
	info, pack = s.cfg.PackageInfoLoc, s.cfg.PackagePackLoc
	if info == "" {
		info = r.Host + "/download"
	}
	if pack == "" {
		pack = info
	}
	return info, pack
}

// handlePackageFile serves a package's info and fragments,
// /download/ID/info and /download/ID/ID-n, with Range and
// If-Modified-Since (stock agents mirror; muster's agent resumes).
func (s *Server) handlePackageFile(w http.ResponseWriter, r *http.Request) {
	id, file := r.PathValue("id"), r.PathValue("file")
	if s.cfg.PackagesDir == "" || !packageFileName(id, file) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeFile(w, r, filepath.Join(packages.Dir(s.cfg.PackagesDir).Path(id), file))
}

// packageFileName admits info and ID-n only: nothing else of the store
// (and nothing outside it) is served.
func packageFileName(id, file string) bool {
	if id == "" || strings.Trim(id, "0123456789") != "" {
		return false
	}
	if file == "info" {
		return true
	}
	n, ok := strings.CutPrefix(file, id+"-")
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}
