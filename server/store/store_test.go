package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"muster/inventories"
)

func openSQLite(t *testing.T) *DB {
	t.Helper()
	s, err := Open(t.TempDir()+"/"+FileName, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sample(t *testing.T) *inventories.Document {
	t.Helper()
	doc, err := inventories.ReadFile("../../inventories/testdata/inventory.xml")
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func testSaveAndReadBack(t *testing.T, openTemp func(*testing.T) *DB) {
	s := openTemp(t)
	ctx := context.Background()
	doc := sample(t)
	now := time.Unix(1_800_000_000, 0)
	res, err := s.SaveInventory(ctx, doc.DeviceID, doc.Inventory, Meta{ClientIP: "192.0.2.2", UserAgent: "ua", Received: now})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.AccountUpdate {
		t.Fatalf("first save: %+v", res)
	}
	got, err := s.Device(ctx, doc.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	// The agent sent no ACCOUNTINFO: the server gives it TAG=NA.
	want := *doc.Inventory
	want.AccountInfo = []inventories.AccountInfo{{KeyName: "TAG", KeyValue: "NA"}}
	if !reflect.DeepEqual(got.Inventory, &want) {
		t.Fatalf("stored inventory differs from the one sent")
	}
	if got.Name != "vm" || got.IPAddr != "192.0.2.2" || got.CPUs != 2 || got.MemoryMB != 24105 || got.Tag != "NA" {
		t.Fatalf("summary = %+v", got.Device)
	}
	byID, err := s.Device(ctx, "1")
	if err != nil || byID.DeviceID != doc.DeviceID {
		t.Fatalf("by id: %v %+v", err, byID)
	}
	if _, err := s.Device(ctx, "nope-2020-01-01-00-00-00"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing device: %v", err)
	}
}

func testChecksumDelta(t *testing.T, openTemp func(*testing.T) *DB) {
	s := openTemp(t)
	ctx := context.Background()
	doc := sample(t)
	if _, err := s.SaveInventory(ctx, doc.DeviceID, doc.Inventory, Meta{Received: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// Second run: only HARDWARE and DRIVES changed (513); the agent still
	// sends everything. A software entry differs but its bit is clear, so
	// the stored software list must stay; the drive must change.
	inv := *doc.Inventory
	inv.Hardware.Checksum = "513"
	inv.Softwares = append([]inventories.Software(nil), inv.Softwares[1:]...)
	inv.Drives = []inventories.Drive{{Type: "/", Free: "1"}}
	inv.AccountInfo = []inventories.AccountInfo{{KeyName: "TAG", KeyValue: "NA"}}
	res, err := s.SaveInventory(ctx, doc.DeviceID, &inv, Meta{Received: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || res.AccountUpdate {
		t.Fatalf("second save: %+v", res)
	}
	got, err := s.Device(ctx, doc.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Inventory.Softwares) != 843 {
		t.Errorf("software rewritten although its bit was clear: %d", len(got.Inventory.Softwares))
	}
	if len(got.Inventory.Drives) != 1 || got.Inventory.Drives[0].Free != "1" {
		t.Errorf("drives not rewritten: %+v", got.Inventory.Drives)
	}
	if got.Checksum&(1|512|65536) != 1|512|65536 {
		t.Errorf("checksum does not accumulate: %d", got.Checksum)
	}
}

func testAccountInfoRules(t *testing.T, openTemp func(*testing.T) *DB) {
	s := openTemp(t)
	ctx := context.Background()
	doc := sample(t)
	doc.Inventory.AccountInfo = []inventories.AccountInfo{{KeyName: "TAG", KeyValue: "CLITAG"}}
	if _, err := s.SaveInventory(ctx, doc.DeviceID, doc.Inventory, Meta{Received: time.Now()}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		sent   []inventories.AccountInfo
		update bool
	}{
		{"same values", []inventories.AccountInfo{{KeyName: "TAG", KeyValue: "CLITAG"}}, false},
		{"agent changed its tag", []inventories.AccountInfo{{KeyName: "TAG", KeyValue: "OTHER"}}, true},
		{"agent sent nothing", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc.Inventory.AccountInfo = c.sent
			res, err := s.SaveInventory(ctx, doc.DeviceID, doc.Inventory, Meta{Received: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if res.AccountUpdate != c.update {
				t.Fatalf("AccountUpdate = %v", res.AccountUpdate)
			}
			// The server's value always wins for a known device.
			d, _ := s.Device(ctx, doc.DeviceID)
			if d.Tag != "CLITAG" {
				t.Fatalf("tag = %q", d.Tag)
			}
			if c.update && (len(res.AccountInfo) != 1 || res.AccountInfo[0].Value != "CLITAG") {
				t.Fatalf("account info = %+v", res.AccountInfo)
			}
		})
	}
}

func testContactStatistics(t *testing.T, openTemp func(*testing.T) *DB) {
	s := openTemp(t)
	ctx := context.Background()
	doc := sample(t)
	t0 := time.Unix(1_800_000_000, 0)
	st, err := s.Contact(ctx, doc.DeviceID, "ua", t0)
	if err != nil || st.Known {
		t.Fatalf("unknown device: %+v %v", st, err)
	}
	if _, err := s.SaveInventory(ctx, doc.DeviceID, doc.Inventory, Meta{Received: t0}); err != nil {
		t.Fatal(err)
	}
	// Two contacts, one and three days later: fidelity 3, quality the mean
	// of the gaps as OCS computes it: first 1 day, then (2 + 1*2)/3.
	for _, d := range []int{1, 3} {
		st, err := s.Contact(ctx, doc.DeviceID, "ua2", t0.Add(time.Duration(d)*24*time.Hour))
		if err != nil || !st.Known || st.LastInventory.Unix() != t0.Unix() {
			t.Fatalf("contact: %+v %v", st, err)
		}
		s.flush()
	}
	d, _ := s.Device(ctx, doc.DeviceID)
	if d.Fidelity != 3 || d.UserAgent != "ua2" {
		t.Fatalf("fidelity %d ua %q", d.Fidelity, d.UserAgent)
	}
	if want := (2.0 + 1.0*2) / 3; d.Quality < want-1e-9 || d.Quality > want+1e-9 {
		t.Fatalf("quality = %v, want %v", d.Quality, want)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	p := t.TempDir() + "/" + FileName
	for i := 0; i < 2; i++ {
		s, err := Open(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RotateAPIToken(context.Background(), "h"); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

// A contact is in the database when Contact returns (group commit: no
// flush needed for another connection to read it), and a contact older
// than the last one, as a second replica's may be, moves neither the last
// contact back nor the user agent.
func testContactsAreDurableAndMonotonic(t *testing.T, openTemp func(*testing.T) *DB) {
	s := openTemp(t)
	ctx := context.Background()
	doc := sample(t)
	t0 := time.Unix(1_800_000_000, 0)
	if _, err := s.SaveInventory(ctx, doc.DeviceID, doc.Inventory, Meta{Received: t0}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := s.Contact(ctx, doc.DeviceID, "ua", t0.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
		d, err := s.Device(ctx, doc.DeviceID)
		if err != nil || d.Fidelity != int64(1+i) || d.LastContact.Unix() != t0.Add(time.Duration(i)*time.Hour).Unix() {
			t.Fatalf("after contact %d: fidelity %d, last contact %v (%v)", i, d.Fidelity, d.LastContact, err)
		}
	}
	before, _ := s.Device(ctx, doc.DeviceID)
	if _, err := s.Contact(ctx, doc.DeviceID, "old-ua", t0.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	d, _ := s.Device(ctx, doc.DeviceID)
	if d.Fidelity != before.Fidelity+1 || !d.LastContact.Equal(before.LastContact) || d.UserAgent != "ua" || d.Quality != before.Quality {
		t.Fatalf("an older contact: fidelity %d→%d, last %v→%v, ua %q, quality %v→%v",
			before.Fidelity, d.Fidelity, before.LastContact, d.LastContact, d.UserAgent, before.Quality, d.Quality)
	}
	// Many at once share commits and each returns once durable.
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Contact(ctx, doc.DeviceID, "ua", t0.Add(4*time.Hour)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if d, _ := s.Device(ctx, doc.DeviceID); d.Fidelity != before.Fidelity+201 {
		t.Fatalf("after 200 concurrent contacts: fidelity %d, want %d", d.Fidelity, before.Fidelity+201)
	}
}

// A batch larger than one transaction takes is committed in several, and
// every PROLOG in it returns only once its own contact is in.
func TestContactBatchOverflowCommitsAllBeforeAnswering(t *testing.T) {
	old := maxBatch
	maxBatch = 3
	defer func() { maxBatch = old }()
	s := openSQLite(t)
	ctx := context.Background()
	doc := sample(t)
	t0 := time.Unix(1_800_000_000, 0)
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fmt.Sprintf("dev%02d-2026-01-01-00-00-00", i)
		if _, err := s.SaveInventory(ctx, ids[i], doc.Inventory, Meta{Received: t0}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Contact(ctx, id, "ua", t0.Add(time.Hour)); err != nil {
				t.Error(err)
				return
			}
			// What this PROLOG's answer promised must be readable now.
			if d, err := s.Device(ctx, id); err != nil || d.Fidelity != 2 {
				t.Errorf("%s answered before its contact was committed: fidelity %d (%v)", id, d.Fidelity, err)
			}
		}()
	}
	wg.Wait()
}
