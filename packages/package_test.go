package packages

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBuildFragmentsAndDigests(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755)
	big := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320 kB, barely compressible? no: repeats
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "sub", "data"), big, 0o644)
	d := Dir(t.TempDir())
	var progressed int64
	info, err := Build(d, src, BuildOptions{Label: "demo", Action: "launch", Command: "run.sh", Priority: 5, FragSize: 100,
		Progress: func(n int64) { progressed = n }, Now: func() time.Time { return time.Unix(1700000001, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != "1700000001" || info.Action != Launch || info.Name != "run.sh" {
		t.Fatalf("info = %+v", info)
	}
	var all []byte
	for n := 1; n <= info.Frags; n++ {
		b, err := os.ReadFile(filepath.Join(d.Path(info.ID), FragmentName(info.ID, n)))
		if err != nil {
			t.Fatal(err)
		}
		if n < info.Frags && len(b) != 100 {
			t.Fatalf("fragment %d has %d bytes, want 100", n, len(b))
		}
		all = append(all, b...)
	}
	if int64(len(all)) != info.Size || progressed != info.Size || info.Frags != (len(all)+99)/100 {
		t.Fatalf("size %d, info %d frags %d, progress %d", len(all), info.Size, info.Frags, progressed)
	}
	m, s := md5.Sum(all), sha256.Sum256(all)
	if info.Digest != hex.EncodeToString(m[:]) || info.SHA256 != hex.EncodeToString(s[:]) {
		t.Fatal("digests do not match the fragments")
	}
	// The archive is a tar.gz holding the tree.
	gz, err := gzip.NewReader(bytes.NewReader(all))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	names := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		names[h.Name] = b
	}
	if !bytes.Equal(names["sub/data"], big) || string(names["run.sh"]) != "#!/bin/sh\necho hi\n" {
		t.Fatalf("archive holds %d entries, content differs", len(names))
	}
	// Load reads back what Build wrote; a second build gets the next ID.
	got, err := d.Load(info.ID)
	if err != nil || got.Digest != info.Digest || got.Frags != info.Frags || got.Label != "demo" || got.Size != info.Size {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	info2, err := Build(d, "", BuildOptions{Action: "execute", Command: "true", Now: func() time.Time { return time.Unix(1700000001, 0) }})
	if err != nil || info2.ID != "1700000002" || info2.Frags != 0 {
		t.Fatalf("second build = %+v, %v", info2, err)
	}
	list, _ := d.List()
	if len(list) != 2 {
		t.Fatalf("List = %d packages", len(list))
	}
	if err := d.Delete(info2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Load(info2.ID); err == nil {
		t.Fatal("deleted package still loads")
	}
}

func TestBuildRejectsBadOptionsAndLeavesNothing(t *testing.T) {
	d := Dir(t.TempDir())
	for _, c := range []struct {
		src  string
		o    BuildOptions
		want string
	}{
		{"", BuildOptions{Action: "install", Command: "x"}, "action"},
		{"", BuildOptions{Action: "launch"}, "--command"},
		{"", BuildOptions{Action: "launch", Command: "x"}, "no file"},
		{"/nonexistent/file", BuildOptions{Action: "launch", Command: "x"}, "/nonexistent/file"},
		{"", BuildOptions{Action: "execute", Command: "x", Priority: 11}, "priority"},
	} {
		_, err := Build(d, c.src, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Build(%q, %+v) = %v, want an error naming %q", c.src, c.o, err, c.want)
		}
	}
	entries, _ := os.ReadDir(string(d))
	if len(entries) != 0 {
		t.Fatalf("failed builds left %d entries", len(entries))
	}
}

func TestParseInfo(t *testing.T) {
	stock := `<?xml version="1.0" encoding="UTF-8"?>
<DOWNLOAD ID="1700000001" PRI="5" ACT="LAUNCH" DIGEST="aff786dbfd3fb4700d6b3bbea1480bce"
 PROTO="HTTPS" FRAGS="2" DIGEST_ALGO="MD5" DIGEST_ENCODE="Hexa" NAME="run.sh"
 NOTIFY_USER="0" NOTIFY_TEXT="" NOTIFY_COUNTDOWN="" NOTIFY_CAN_ABORT="0" NOTIFY_CAN_DELAY="0"
 NEED_DONE_ACTION="0" NEED_DONE_ACTION_TEXT="" GARDEFOU="rien" />`
	i, err := ParseInfo([]byte(stock))
	if err != nil || i.ID != "1700000001" || i.Frags != 2 || i.Name != "run.sh" || i.Priority != 5 || i.Proto != "HTTPS" {
		t.Fatalf("ParseInfo(stock) = %+v, %v", i, err)
	}
	for _, c := range []struct{ doc, want string }{
		{`not xml`, "info"},
		{`<INFO ID="1"/>`, "<DOWNLOAD>"},
		{`<DOWNLOAD ID="../1" ACT="LAUNCH" FRAGS="0"/>`, "ID"},
		{`<DOWNLOAD ID="1" ACT="LAUNCH" FRAGS="x"/>`, "FRAGS"},
		{`<DOWNLOAD ID="1" ACT="RUN" FRAGS="0"/>`, "ACT"},
		{`<DOWNLOAD ID="1" ACT="LAUNCH" FRAGS="1"/>`, "digest"},
		{`<DOWNLOAD ID="1" ACT="LAUNCH" FRAGS="1" DIGEST_ALGO="SHA1" DIGEST="x"/>`, "DIGEST_ALGO"},
		{`<DOWNLOAD ID="1" ACT="LAUNCH" FRAGS="0" PRI="12"/>`, "PRI"},
	} {
		if _, err := ParseInfo([]byte(c.doc)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseInfo(%s) = %v, want an error naming %q", c.doc, err, c.want)
		}
	}
}

func FuzzParseInfo(f *testing.F) {
	i := &Info{ID: "1700000001", Priority: 5, Action: Execute, Command: "echo a", Frags: 1, Digest: strings.Repeat("a", 32), Proto: "HTTPS"}
	f.Add(i.Marshal())
	f.Add([]byte(`<DOWNLOAD ID="1" ACT="STORE" PATH="/tmp" FRAGS="0"/>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		i, err := ParseInfo(b)
		if err != nil {
			return
		}
		// What parses survives a round trip.
		j, err := ParseInfo(i.Marshal())
		if err != nil || j.ID != i.ID || j.Frags != i.Frags || j.Action != i.Action || j.Digest != i.Digest {
			t.Fatalf("round trip: %+v → %+v, %v", i, j, err)
		}
	})
}

// fuzzKey signs the seeds of FuzzSignedInfo; fixed, so runs repeat.
var fuzzKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// FuzzSignedInfo: whatever an info file holds, parsing and verifying it
// never panics, a signature verifies only over the fields it was made
// for, and any change to a signed field breaks it.
func FuzzSignedInfo(f *testing.F) {
	i := &Info{ID: "1700000001", Priority: 5, Action: Execute, Command: "echo a", Frags: 1, SHA256: strings.Repeat("b", 64), Size: 10, Proto: "HTTPS"}
	i.Sign(fuzzKey)
	f.Add(i.Marshal())
	f.Add([]byte(`<DOWNLOAD ID="1" ACT="EXECUTE" COMMAND="id" FRAGS="0" SIGNATURE="AAAA"/>`))
	pub := fuzzKey.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		i, err := ParseInfo(b)
		if err != nil {
			return
		}
		if i.Verify(pub) != nil {
			return
		}
		// It verified: a changed command must not.
		j := *i
		j.Command += " x"
		if j.Verify(pub) == nil {
			t.Fatalf("a changed command kept the signature: %+v", i)
		}
		// And it still verifies after a round trip.
		k, err := ParseInfo(i.Marshal())
		if err != nil || k.Verify(pub) != nil {
			t.Fatalf("round trip lost the signature: %v", err)
		}
	})
}

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{{"1MiB", 1 << 20}, {"512KiB", 512 << 10}, {"4M", 4 << 20}, {"1GiB", 1 << 30}, {"2048", 2048}, {"1mb", 1 << 20}} {
		if got, err := ParseSize(c.in); err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "10", "1.5MiB", "-1MiB", "MiB", "1 TiB", "0x10"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}
