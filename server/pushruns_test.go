package server

import (
	"strings"
	"testing"
)

// A run's events stream as SSE: every outcome with its id, the counts,
// and "end" once the run finished; Last-Event-ID resumes after an event.
func TestPushRunEventStream(t *testing.T) {
	ts := start(t, Config{})
	call := func(method, path, body string, hdr ...string) (int, string) {
		return ts.call(t, method, path, body, hdr...)
	}
	if code, body := call("POST", "/api/v1/push/runs", `{"id":"bad id!","hosts":2}`); code != 400 {
		t.Errorf("a bad run id: %d %s", code, body)
	}
	if code, body := call("POST", "/api/v1/push/runs", `{"id":"r1","hosts":2,"label":"agent.msi"}`); code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	for _, h := range []string{"a", "b"} {
		if code, body := call("POST", "/api/v1/push/records", `[{"host":"winrm://`+h+`","name":"`+h+`","outcome":"ok","attempts":1,"run":"r1"}]`); code != 200 {
			t.Fatalf("record: %d %s", code, body)
		}
	}
	if code, _ := call("GET", "/api/v1/push/runs/nope/events", ""); code != 404 {
		t.Errorf("events of an unknown run: %d", code)
	}
	if code, _ := call("POST", "/api/v1/push/runs/r1/finish", ""); code != 200 {
		t.Fatal("finish")
	}
	code, body := call("GET", "/api/v1/push/runs/r1/events", "")
	if code != 200 || strings.Count(body, "event: outcome") != 2 || !strings.Contains(body, "event: end") || !strings.Contains(body, `"ok":2`) {
		t.Fatalf("stream: %d\n%s", code, body)
	}
	first := strings.TrimSpace(strings.SplitN(strings.SplitN(body, "id: ", 2)[1], "\n", 2)[0])
	_, body = call("GET", "/api/v1/push/runs/r1/events", "", "Last-Event-ID", first)
	if strings.Count(body, "event: outcome") != 1 || !strings.Contains(body, "winrm://b") || strings.Contains(body, `"host":"winrm://a"`) {
		t.Errorf("resumed after %s:\n%s", first, body)
	}
	// The run was started with the token: the audit log and the run say so.
	if _, body := call("GET", "/api/v1/push/runs", ""); !strings.Contains(body, `"who": "api-token"`) {
		t.Errorf("runs: %s", body)
	}
}
