package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func (ts *testServer) postJSON(t *testing.T, path string, body any) (int, ActivationReply) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(ts.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep ActivationReply
	json.NewDecoder(resp.Body).Decode(&rep)
	return resp.StatusCode, rep
}

// The attacks of issue 13 on activation: another client's code moves a
// bound device (rebinding), and a DEVICEID alone deactivates it. Both are
// refused; the device's own secret does either.
func TestActivationRebindAndDeactivateNeedTheSecret(t *testing.T) {
	ts := start(t, Config{ActivationRate: -1})
	ctx := context.Background()
	a, _ := AddClient(ctx, ts.store, "ACME")
	b, _ := AddClient(ctx, ts.store, "BETA")
	dev := "pc1-2026-01-01-00-00-00"
	code, rep := ts.postJSON(t, "/activate", ActivationRequest{Code: a.Code, DeviceID: dev})
	if code != 200 || rep.Client != "ACME" || len(rep.Secret) < 40 {
		t.Fatalf("first activation: %d %+v", code, rep)
	}
	secret := rep.Secret
	if code, rep := ts.postJSON(t, "/activate", ActivationRequest{Code: b.Code, DeviceID: dev}); code != http.StatusConflict || rep.Result != "ACT-5" {
		t.Errorf("rebinding with another client's code: %d %+v", code, rep)
	}
	if code, rep := ts.postJSON(t, "/deactivate", ActivationRequest{DeviceID: dev}); code != http.StatusForbidden || rep.Result != "ACT-6" {
		t.Errorf("deactivation by DEVICEID alone: %d %+v", code, rep)
	}
	if d, _ := ts.store.Device(ctx, dev); d.Client != "ACME" {
		t.Fatalf("the device moved to %q", d.Client)
	}
	code, rep = ts.postJSON(t, "/activate", ActivationRequest{Code: b.Code, DeviceID: dev, Secret: secret})
	if code != 200 || rep.Client != "BETA" || rep.Secret == secret {
		t.Fatalf("a move with the secret: %d %+v", code, rep)
	}
	if code, _ := ts.postJSON(t, "/deactivate", ActivationRequest{DeviceID: dev, Secret: secret}); code != http.StatusForbidden {
		t.Errorf("the old secret still deactivates: %d", code)
	}
	if code, _ := ts.postJSON(t, "/deactivate", ActivationRequest{DeviceID: dev, Secret: rep.Secret}); code != 200 {
		t.Errorf("deactivation with the secret: %d", code)
	}
	if d, _ := ts.store.Device(ctx, dev); d.Client != "" {
		t.Errorf("still under %q", d.Client)
	}
}

// Guessing codes is limited per IP: /activate and /download?code= share
// a bucket (10 a minute by default); refused requests get 429 ACT-7, and
// a minute later the address may try again.
func TestActivationGuessesAreRateLimited(t *testing.T) {
	ts := start(t, Config{})
	ok := 0
	for i := 0; i < 30; i++ {
		code, rep := ts.postJSON(t, "/activate", ActivationRequest{Code: "ZZZZZZZZZZ", DeviceID: "pc1-2026-01-01-00-00-00"})
		switch {
		case code == http.StatusNotFound && rep.Result == "ACT-2":
			ok++
		case code != http.StatusTooManyRequests || rep.Result != "ACT-7":
			t.Fatalf("attempt %d: %d %+v", i, code, rep)
		}
	}
	if ok != DefaultActivationRate {
		t.Errorf("%d guesses answered, want %d", ok, DefaultActivationRate)
	}
	resp, err := http.Get(ts.URL + "/download?id=latest-linux-amd64&code=ZZZZZZZZZZ")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("download?code= while limited: %d", resp.StatusCode)
	}
	ts.now = ts.now.Add(time.Minute)
	if code, _ := ts.postJSON(t, "/activate", ActivationRequest{Code: "ZZZZZZZZZZ", DeviceID: "pc1-2026-01-01-00-00-00"}); code != http.StatusNotFound {
		t.Errorf("a minute later: %d", code)
	}
}
