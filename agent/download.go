package agent

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"muster/inventories/ocsxml"
	"muster/packages"
)

// HTTP returns the client's HTTP client (its TLS settings and proxy), for
// package downloads.
func (c *Client) HTTP() *http.Client { return c.http }

// downloadRequest reads the DOWNLOAD option of a PROLOG reply: the
// worker's pacing and the packages offered.
func downloadRequest(pr *ocsxml.PrologReply) (packages.Conf, []packages.Offer) {
	var conf packages.Conf
	var offers []packages.Offer
	secs := func(p ocsxml.Param, name string, def int) time.Duration {
		n, err := strconv.Atoi(p.Get(name))
		if err != nil || n < 0 {
			n = def
		}
		return time.Duration(n) * time.Second
	}
	for _, o := range pr.Options {
		if o.Name != "DOWNLOAD" {
			continue
		}
		for _, p := range o.Params {
			switch strings.ToUpper(p.Get("TYPE")) {
			case "CONF":
				conf.On = p.Get("ON") == "1"
				// Agent-side defaults of OCS agents when a value is absent.
				conf.FragLatency = secs(p, "FRAG_LATENCY", 10)
				conf.CycleLatency = secs(p, "CYCLE_LATENCY", 10)
				conf.PeriodLatency = secs(p, "PERIOD_LATENCY", 0)
				conf.PeriodLength, _ = strconv.Atoi(p.Get("PERIOD_LENGTH"))
				conf.Timeout = secs(p, "TIMEOUT", 7) * 24 * 3600
				conf.ExecTimeout = secs(p, "EXECUTION_TIMEOUT", 120) * 60
			case "PACK":
				offers = append(offers, packages.Offer{ID: p.Get("ID"), InfoLoc: p.Get("INFO_LOC"),
					PackLoc: p.Get("PACK_LOC"), Force: p.Get("FORCE") == "1"})
			}
		}
	}
	return conf, offers
}

// downloadDir holds the package worker's history and packages in progress.
func (a *Agent) downloadDir() string { return filepath.Join(a.WorkDir, "download") }

// trust is what this agent's packages must show: info over verified
// HTTPS from the server's host (or PackageHosts), a digest, and where a
// key is pinned (PackageKey, else the one pinned at activation) its
// signature.
func (a *Agent) trust() (packages.Trust, error) {
	t := packages.Trust{Verified: a.Client.cfg.SSL, Hosts: append([]string{a.Client.Host()}, a.PackageHosts...)}
	key := a.PackageKey
	if key == "" {
		if st, err := LoadState(a.WorkDir); err == nil {
			key = st.PackageKey
		}
	}
	if key != "" {
		pub, err := packages.ParsePublicKey(key)
		if err != nil {
			return t, err
		}
		t.Key = pub
	}
	return t, nil
}

// worker is the package worker of this agent.
func (a *Agent) worker(deviceID string, trust packages.Trust) *packages.Worker {
	return &packages.Worker{
		Dir: a.downloadDir(), HTTP: a.Client.HTTP(), UserAgent: UserAgent, Trust: trust,
		Log: a.Log, Now: a.Now,
		Report: func(ctx context.Context, id, code string) error {
			req := &ocsxml.Node{Name: "REQUEST", Attrs: []ocsxml.Attr{
				{Name: "DEVICEID", Value: deviceID}, {Name: "ERR", Value: code}, {Name: "ID", Value: id}, {Name: "QUERY", Value: ocsxml.QueryDownload}}}
			_, err := a.Client.Post(ctx, ocsxml.Marshal(ocsxml.RequestDecl, req))
			return err
		},
	}
}

// downloads runs the packages the PROLOG offered, after the inventory.
func (a *Agent) downloads(ctx context.Context, deviceID string, conf packages.Conf, offers []packages.Offer) map[string]string {
	if !conf.On || a.NoDownload {
		return nil
	}
	trust, err := a.trust()
	if err != nil {
		a.Log.Warn("packages left alone: the pinned package key", "err", err)
		return nil
	}
	res, err := a.worker(deviceID, trust).Run(ctx, conf, offers)
	if err != nil {
		a.Log.Warn("package downloads stopped", "err", err)
	}
	return res
}
