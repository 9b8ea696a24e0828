package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"muster/server/store"
)

// metrics are the server's Prometheus metrics, on a registry of its own
// (so several servers in one process, as in tests, keep theirs apart),
// served at /metrics to holders of the API token.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec   // query, outcome
	latency   *prometheus.HistogramVec // query
	errors    *prometheus.CounterVec   // where
	elections *prometheus.CounterVec   // action
	offers    prometheus.Counter
	results   *prometheus.CounterVec // result
}

// queries are the QUERY label values; anything else is "other", so an
// agent cannot grow the label set.
var queries = map[string]bool{"PROLOG": true, "INVENTORY": true, "UPDATE": true, "NOTIFY": true, "DOWNLOAD": true, "SNMP": true}

func queryLabel(q string) string {
	if queries[q] {
		return q
	}
	if q == "" {
		return "none"
	}
	return "other"
}

// resultLabel keeps a package result to its family (SUCCESS, ERR_…,
// EXIT_CODE_…), within a bounded set.
func resultLabel(code string) string {
	switch {
	case code == "SUCCESS" || strings.HasPrefix(code, "SUCCESS_"):
		return "success"
	case strings.HasPrefix(code, "EXIT_CODE_"):
		return "exit_code"
	case strings.HasPrefix(code, "ERR_"):
		return "error"
	}
	return "other"
}

func newMetrics(st store.Store) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_ocs_requests_total", Help: "OCS agent requests by QUERY and outcome (ok, refused, error).",
		}, []string{"query", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "muster_ocs_request_seconds", Help: "Time to answer an OCS agent request, by QUERY.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"query"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_errors_total", Help: "Server-side failures (mostly the store's), by where they happened.",
		}, []string{"where"}),
		elections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_elections_total", Help: "IPDISCOVER election changes, by action.",
		}, []string{"action"}),
		offers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "muster_package_offers_total", Help: "Packages offered in PROLOG replies.",
		}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_package_results_total", Help: "Package results reported by agents, by family.",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.errors, m.elections, m.offers, m.results,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&storeCollector{st: st})
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, Timeout: 30 * time.Second})
}

// storeCollector reads the fleet's gauges from the store at each scrape.
type storeCollector struct{ st store.Store }

var (
	descQueue   = prometheus.NewDesc("muster_push_queue_hosts", "Hosts in the push retry queue (due: seen by discovery since they failed).", []string{"state"}, nil)
	descDevices = prometheus.NewDesc("muster_devices", "Devices known to the server.", nil, nil)
	descLive    = prometheus.NewDesc("muster_agents_live", "Devices whose agent contacted the server in the last 24 hours.", nil, nil)
	descSubnet  = prometheus.NewDesc("muster_subnet_devices", "Devices seen on each subnet by its elected agents (kind: seen, unknown) and agents elected there.", []string{"subnet", "kind"}, nil)
	descScrape  = prometheus.NewDesc("muster_store_scrape_errors", "1 when reading the store for these gauges failed.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueue, descDevices, descLive, descSubnet, descScrape} {
		ch <- d
	}
}

// maxSubnets bounds the per-subnet series of one scrape.
const maxSubnets = 4096

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	failed := 0.0
	if q, err := c.st.PushQueue(ctx, false); err == nil {
		due := 0
		for _, h := range q {
			if h.Due {
				due++
			}
		}
		ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(len(q)-due), "waiting")
		ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(due), "due")
	} else {
		failed = 1
	}
	if total, live, err := c.st.DeviceCounts(ctx, time.Now().Add(-24*time.Hour)); err == nil {
		ch <- prometheus.MustNewConstMetric(descDevices, prometheus.GaugeValue, float64(total))
		ch <- prometheus.MustNewConstMetric(descLive, prometheus.GaugeValue, float64(live))
	} else {
		failed = 1
	}
	if subs, err := c.st.Subnets(ctx); err == nil {
		for i, s := range subs {
			if i >= maxSubnets {
				break
			}
			ch <- prometheus.MustNewConstMetric(descSubnet, prometheus.GaugeValue, float64(s.Live), s.Subnet, "seen")
			ch <- prometheus.MustNewConstMetric(descSubnet, prometheus.GaugeValue, float64(s.Unknown), s.Subnet, "unknown")
			ch <- prometheus.MustNewConstMetric(descSubnet, prometheus.GaugeValue, float64(len(s.Elected)), s.Subnet, "elected")
		}
	} else {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(descScrape, prometheus.GaugeValue, failed)
}
