package agent_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"muster/agent"
	"muster/inventories"
	"muster/server"
	"muster/server/store"
)

func musterServer(t *testing.T, cfg server.Config) (*httptest.Server, *store.DB) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), store.FileName), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); st.Close() })
	return ts, st
}

func newAgent(t *testing.T, url, work string) *agent.Agent {
	t.Helper()
	c, err := agent.NewClient(agent.Config{Server: url + "/ocsinventory", SSL: true})
	if err != nil {
		t.Fatal(err)
	}
	return &agent.Agent{Client: c, WorkDir: work, Tag: "SITE-A"}
}

func TestAgentAgainstMusterServer(t *testing.T) {
	ts, st := musterServer(t, server.Config{})
	work := t.TempDir()
	a := newAgent(t, ts.URL, work)
	ctx := context.Background()
	// The real collectors, with one file system whose free space changes
	// every run, as a busy disk's does.
	runs := 0
	a.Collect = func(ctx context.Context) *inventories.Inventory {
		inv, _ := inventories.CollectAll(ctx, nil)
		runs++
		inv.Drives = append(inv.Drives, inventories.Drive{Type: "/data", FileSystem: "ext4", Free: strconv.Itoa(1000 - runs)})
		return inv
	}

	first, err := a.Run(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Sent || first.Response != "SEND" || first.Checksum != inventories.AllChecksumBits {
		t.Fatalf("first run %+v", first)
	}
	d, err := st.Device(ctx, first.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name == "" || d.CPUs == 0 || d.MemoryMB == 0 || len(d.Inventory.Networks) == 0 || d.Tag != "SITE-A" {
		t.Fatalf("stored device %+v", d.Device)
	}
	// Second run: the same machine, a delta only: DRIVES changed (and
	// HARDWARE if the uptime ticked over a second); software, CPUs and the
	// rest did not.
	second, err := a.Run(ctx, false)
	if err != nil || !second.Sent {
		t.Fatalf("second run %+v %v", second, err)
	}
	if second.DeviceID != first.DeviceID || second.Checksum&512 == 0 || second.Checksum&^(512|1) != 0 {
		t.Fatalf("second checksum %d (first %d): want DRIVES (512), perhaps HARDWARE (1), nothing else", second.Checksum, first.Checksum)
	}
	d2, _ := st.Device(ctx, first.DeviceID)
	if len(d2.Inventory.Softwares) != len(d.Inventory.Softwares) || d2.Checksum&1 == 0 {
		t.Fatalf("after the delta: %d software (was %d)", len(d2.Inventory.Softwares), len(d.Inventory.Softwares))
	}
	// --local writes the same device, which imports as an update.
	for _, plain := range []bool{false, true} {
		res, err := a.WriteLocal(ctx, t.TempDir(), plain)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := inventories.ReadFile(res.File)
		if err != nil {
			t.Fatal(err)
		}
		r, err := st.SaveInventory(ctx, doc.DeviceID, doc.Inventory, store.Meta{Received: time.Now()})
		if err != nil || r.Created || doc.DeviceID != first.DeviceID {
			t.Fatalf("local %s: %v created=%v id=%s", res.File, err, r.Created, doc.DeviceID)
		}
	}
}

func TestAgentHonoursStop(t *testing.T) {
	ts, _ := musterServer(t, server.Config{Frequency: 1, PrologFreq: 6})
	a := newAgent(t, ts.URL, t.TempDir())
	if r, err := a.Run(context.Background(), false); err != nil || !r.Sent {
		t.Fatalf("first: %+v %v", r, err)
	}
	r, err := a.Run(context.Background(), false)
	if err != nil || r.Sent || r.Response != "STOP" || r.PrologFreq != 6 {
		t.Fatalf("second: %+v %v", r, err)
	}
	// --force sends whatever the server would say.
	if r, err := a.Run(context.Background(), true); err != nil || !r.Sent {
		t.Fatalf("forced: %+v %v", r, err)
	}
	s, _ := agent.LoadState(a.WorkDir)
	if s.PrologFreq != 6 {
		t.Fatalf("PROLOG_FREQ not kept: %d", s.PrologFreq)
	}
}

func TestDeviceID(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 26, 56, 0, time.Local)
	s := &agent.State{}
	if !s.EnsureDeviceID("vm.corp.example", now, false) || s.DeviceID != "vm-2026-11-21-10-26-56" || s.OldDeviceID != "" {
		t.Fatalf("%q (old %q)", s.DeviceID, s.OldDeviceID)
	}
	if s.EnsureDeviceID("vm", now.Add(time.Hour), false) {
		t.Fatal("a new id for the same host")
	}
	if !s.EnsureDeviceID("renamed", now.Add(time.Hour), false) || s.DeviceID != "renamed-2026-11-21-11-26-56" || s.OldDeviceID != "vm-2026-11-21-10-26-56" {
		t.Fatalf("after rename: %q (old %q)", s.DeviceID, s.OldDeviceID)
	}
	// Renewed again before any inventory went: OLD_DEVICEID still names
	// the record the server knows.
	if !s.EnsureDeviceID("renamed", now.Add(2*time.Hour), true) || s.DeviceID != "renamed-2026-11-21-12-26-56" || s.OldDeviceID != "vm-2026-11-21-10-26-56" {
		t.Fatalf("--uid: %q (old %q)", s.DeviceID, s.OldDeviceID)
	}
}
