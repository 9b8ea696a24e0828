package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"muster/internal/fleet"
	"muster/server/store"
)

// TestSIGKILLLosesNoAcknowledgedInventory kills the server while
// inventories are being posted; after a restart every inventory that got a
// 200 must be there, whole.
func TestSIGKILLLosesNoAcknowledgedInventory(t *testing.T) {
	tmpl, err := fleet.Load("../../inventories/testdata/inventory.xml")
	if err != nil {
		t.Fatal(err)
	}
	const machines = 400
	bodies := make([][]byte, machines)
	for i := range bodies {
		bodies[i] = tmpl.Body("kill", i)
	}
	data := t.TempDir()
	srv := startServer(t, data)
	token := srv.Token

	var (
		mu    sync.Mutex
		acked []int
		next  = make(chan int)
		wg    sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				resp, err := client.Post(srv.URL, "application/x-compress", bytes.NewReader(bodies[i]))
				if err != nil {
					continue // the server died under this request
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					acked = append(acked, i)
					mu.Unlock()
				}
			}
		}()
	}
	// Feed requests until a good number are acknowledged, then kill the
	// server in the middle of the stream.
	killed := false
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; i < machines && time.Now().Before(deadline); i++ {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 {
			srv.Kill() // four requests are in flight
			killed = true
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if !killed {
		t.Fatalf("only %d inventories acknowledged before the deadline", len(acked))
	}
	t.Logf("%d inventories acknowledged before SIGKILL", len(acked))

	srv2 := startServer(t, data)
	if srv2.Token != "" {
		t.Fatal("restart generated a new API token: the first one was lost")
	}
	var devs []store.Device
	if code := srv2.api(t, token, "/api/v1/devices", &devs); code != 200 {
		t.Fatalf("api after restart: %d", code)
	}
	present := map[string]bool{}
	for _, d := range devs {
		present[d.DeviceID] = true
	}
	for _, i := range acked {
		id := fleet.DeviceID("kill", i)
		if !present[id] {
			t.Errorf("%s was acknowledged but is missing after restart", id)
		}
	}
	// Whatever is there is whole: one transaction per inventory.
	for _, d := range devs {
		var det store.DeviceDetail
		srv2.api(t, token, "/api/v1/devices/"+fmt.Sprint(d.ID), &det)
		if len(det.Inventory.Softwares) != 843 || len(det.Inventory.Networks) != 4 {
			t.Errorf("%s is partial: %d software, %d networks", d.DeviceID, len(det.Inventory.Softwares), len(det.Inventory.Networks))
		}
	}
}
