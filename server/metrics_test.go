package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// /metrics, behind the API token, counts what agents sent and reads the
// fleet's gauges from the store.
func TestMetrics(t *testing.T) {
	ts := start(t, Config{})
	ts.reply(t, "OCS-NG_unified_unix_agent_v2.10.0", sampleBody(t))
	ts.reply(t, "OCS-NG_unified_unix_agent_v2.10.0", prolog(sampleID))
	if code, _ := ts.post(t, "curl/8", []byte("not an agent message")); code != 400 {
		t.Fatalf("garbage: %d, want 400", code)
	}
	get := func(auth string) (int, string) {
		req, _ := http.NewRequest("GET", ts.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(""); code != 401 {
		t.Fatalf("/metrics without the token: %d, want 401", code)
	}
	code, body := get(ts.token)
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`muster_ocs_requests_total{outcome="ok",query="INVENTORY"} 1`,
		`muster_ocs_requests_total{outcome="ok",query="PROLOG"} 1`,
		`muster_ocs_requests_total{outcome="refused",query="none"} 1`,
		`muster_ocs_request_seconds_count{query="INVENTORY"} 1`,
		"muster_devices 1",
		`muster_push_queue_hosts{state="due"} 0`,
		"muster_store_scrape_errors 0",
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
