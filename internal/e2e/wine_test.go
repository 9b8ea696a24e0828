package e2e

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"muster/internal/testenv"
	"muster/server/store"
)

// winePrefix builds muster.exe and a throwaway Wine prefix that runs it
// (scripts/wine/prefix.sh), and returns a runner of Windows commands in
// that prefix. The prefix's wineserver is stopped at the end.
type winePrefix struct {
	dir, exe string
}

func newWinePrefix(t *testing.T) *winePrefix {
	t.Helper()
	for _, tool := range []string{"wine", "wineboot", "wineserver", "x86_64-w64-mingw32-gcc"} {
		testenv.Tool(t, tool)
	}
	w := &winePrefix{dir: filepath.Join(t.TempDir(), "prefix")}
	if out, err := exec.Command("../../scripts/wine/prefix.sh", w.dir).CombinedOutput(); err != nil {
		t.Fatalf("wine prefix: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		k := exec.Command("wineserver", "-k")
		k.Env = w.env()
		k.Run()
	})
	w.exe = filepath.Join(w.dir, "drive_c", "muster", "muster.exe")
	os.MkdirAll(filepath.Dir(w.exe), 0o755)
	b := exec.Command("go", "build", "-o", w.exe, "muster/cmd/muster")
	b.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64")
	if out, err := b.CombinedOutput(); err != nil {
		t.Fatalf("build muster.exe: %v\n%s", err, out)
	}
	return w
}

func (w *winePrefix) env() []string {
	return append(os.Environ(), "WINEPREFIX="+w.dir, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=")
}

// run runs a Windows program in the prefix; its output, decoded from
// UTF-16 when it is (wmic's), and its error.
func (w *winePrefix) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("wine", args...)
	cmd.Env = w.env()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	s := decodeWindowsText(out.Bytes())
	if err != nil {
		return s + errb.String(), err
	}
	return s, nil
}

func (w *winePrefix) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := w.run(t, args...)
	if err != nil {
		t.Fatalf("wine %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func decodeWindowsText(b []byte) string {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0xfe {
		u := make([]uint16, 0, len(b)/2)
		for i := 2; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])|uint16(b[i+1])<<8)
		}
		return strings.ReplaceAll(string(utf16.Decode(u)), "\r", "")
	}
	return strings.ReplaceAll(string(b), "\r", "")
}

// wmic runs `wmic ALIAS get PROP` and returns the values, one per row.
func (w *winePrefix) wmic(t *testing.T, alias, prop string) []string {
	t.Helper()
	lines := strings.Split(w.must(t, "wmic", alias, "get", prop), "\n")
	var vals []string
	for _, l := range lines[1:] {
		if l = strings.TrimSpace(l); l != "" {
			vals = append(vals, l)
		}
	}
	if len(vals) == 0 {
		t.Fatalf("wmic %s get %s printed no value", alias, prop)
	}
	return vals
}

// The sections of an inventory this test cross-checks.
type wineInventory struct {
	Content struct {
		Hardware struct {
			OSName    string `xml:"OSNAME"`
			OSVersion string `xml:"OSVERSION"`
			Name      string `xml:"NAME"`
			Memory    int64  `xml:"MEMORY"`
		} `xml:"HARDWARE"`
		BIOS struct {
			BManufacturer string `xml:"BMANUFACTURER"`
			BVersion      string `xml:"BVERSION"`
		} `xml:"BIOS"`
		CPUs []struct {
			Type string `xml:"TYPE"`
		} `xml:"CPUS"`
		Memories []struct {
			Capacity int64 `xml:"CAPACITY"`
		} `xml:"MEMORIES"`
		Drives []struct {
			Letter string `xml:"LETTER"`
		} `xml:"DRIVES"`
		Networks []struct {
			MACAddr string `xml:"MACADDR"`
		} `xml:"NETWORKS"`
		Softwares []struct {
			Name    string `xml:"NAME"`
			Version string `xml:"VERSION"`
		} `xml:"SOFTWARES"`
	} `xml:"CONTENT"`
}

// TestWindowsAgentUnderWine runs muster.exe's agent in Wine 8: it starts
// although Wine's builtin wpcap.dll lacks functions Npcap has, writes an
// inventory whose sections match what Wine's own wmic and reg print, and
// activates and sends that inventory to a muster server.
func TestWindowsAgentUnderWine(t *testing.T) {
	w := newWinePrefix(t)
	if _, err := os.Stat(filepath.Join(w.dir, "drive_c", "windows", "system32", "wpcap.dll")); err != nil {
		t.Fatalf("the prefix has no builtin wpcap.dll, so this test would not show muster.exe starting beside one: %v", err)
	}
	// A program installed the Windows way, in the 64-bit Uninstall key.
	key := `HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\MusterTestApp`
	w.must(t, "reg", "add", key, "/v", "DisplayName", "/d", "Muster Test App", "/f")
	w.must(t, "reg", "add", key, "/v", "DisplayVersion", "/d", "1.2.3", "/f")
	if q := w.must(t, "reg", "query", key); !strings.Contains(q, "Muster Test App") || !strings.Contains(q, "1.2.3") {
		t.Fatalf("reg query: %s", q)
	}
	// And a 32-bit program: the same key in the 32-bit view
	// (Wow6432Node), which a 64-bit reader sees only when it asks.
	key32 := `HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\MusterLegacy32`
	w.must(t, "reg", "add", key32, "/v", "DisplayName", "/d", "Muster Legacy 32", "/f", "/reg:32")
	w.must(t, "reg", "add", key32, "/v", "DisplayVersion", "/d", "0.9", "/f", "/reg:32")
	if q := w.must(t, "reg", "query", key32, "/reg:32"); !strings.Contains(q, "Muster Legacy 32") {
		t.Fatalf("reg query /reg:32: %s", q)
	}
	if q, err := w.run(t, "reg", "query", key32, "/reg:64"); err == nil && strings.Contains(q, "Muster Legacy 32") {
		t.Fatalf("the 32-bit program shows in the 64-bit view too, so this would not test the 32-bit view: %s", q)
	}

	// The inventory, written locally.
	out, err := w.run(t, `C:\muster\muster.exe`, "agent", "run", "--xml", `C:\out`, "--work-dir", `C:\agent`)
	if err != nil {
		t.Fatalf("agent run --xml: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(w.dir, "drive_c", "out", "*.xml"))
	if len(files) != 1 {
		t.Fatalf("inventory files %v; output %s", files, out)
	}
	raw, _ := os.ReadFile(files[0])
	var inv wineInventory
	if err := xml.Unmarshal(raw, &inv); err != nil {
		t.Fatal(err)
	}
	c := inv.Content
	if want := w.wmic(t, "os", "Caption")[0]; c.Hardware.OSName != want {
		t.Errorf("OSNAME %q, wmic os Caption %q", c.Hardware.OSName, want)
	}
	if want := w.wmic(t, "os", "Version")[0]; c.Hardware.OSVersion != want {
		t.Errorf("OSVERSION %q, wmic os Version %q", c.Hardware.OSVersion, want)
	}
	if want := w.wmic(t, "computersystem", "Name")[0]; !strings.EqualFold(c.Hardware.Name, want) {
		t.Errorf("NAME %q, wmic computersystem Name %q", c.Hardware.Name, want)
	}
	if want, _ := strconv.ParseInt(w.wmic(t, "computersystem", "TotalPhysicalMemory")[0], 10, 64); c.Hardware.Memory != want>>20 || want == 0 {
		t.Errorf("MEMORY %d MB, wmic computersystem TotalPhysicalMemory %d bytes", c.Hardware.Memory, want)
	}
	if want := w.wmic(t, "cpu", "Name"); len(c.CPUs) != len(want) || c.CPUs[0].Type != want[0] {
		t.Errorf("CPUS %+v, wmic cpu Name %q", c.CPUs, want)
	}
	if want := w.wmic(t, "bios", "Manufacturer")[0]; c.BIOS.BManufacturer != want {
		t.Errorf("BMANUFACTURER %q, wmic bios Manufacturer %q", c.BIOS.BManufacturer, want)
	}
	if want := w.wmic(t, "bios", "SMBIOSBIOSVersion")[0]; c.BIOS.BVersion != want {
		t.Errorf("BVERSION %q, wmic bios SMBIOSBIOSVersion %q", c.BIOS.BVersion, want)
	}
	if want, _ := strconv.ParseInt(w.wmic(t, "memorychip", "Capacity")[0], 10, 64); len(c.Memories) == 0 || c.Memories[0].Capacity != want>>20 {
		t.Errorf("MEMORIES %+v, wmic memorychip Capacity %d", c.Memories, want)
	}
	letters := w.wmic(t, "logicaldisk", "DeviceID")
	if len(c.Drives) != len(letters) {
		t.Errorf("DRIVES %+v, wmic logicaldisk DeviceID %q", c.Drives, letters)
	}
	for i := range c.Drives {
		if i < len(letters) && c.Drives[i].Letter != letters[i]+"/" {
			t.Errorf("drive %d: %q, wmic %q", i, c.Drives[i].Letter, letters[i])
		}
	}
	macs := strings.ToLower(strings.Join(w.wmic(t, "nicconfig", "MACAddress"), " "))
	if len(c.Networks) == 0 {
		t.Error("no NETWORKS")
	}
	for _, n := range c.Networks {
		if n.MACAddr == "" || !strings.Contains(macs, n.MACAddr) {
			t.Errorf("network MAC %q not among wmic's %q", n.MACAddr, macs)
		}
	}
	found, found32 := false, false
	for _, s := range c.Softwares {
		found = found || (s.Name == "Muster Test App" && s.Version == "1.2.3")
		found32 = found32 || (s.Name == "Muster Legacy 32" && s.Version == "0.9")
	}
	if !found || !found32 {
		t.Errorf("SOFTWARES lack a program reg query shows (64-bit view %v, 32-bit view %v): %+v", found, found32, c.Softwares)
	}

	// Activation and the inventory, sent to a muster server.
	data := t.TempDir()
	srv := startServer(t, data)
	cout, _ := muster(t, false, "-o", "json", "server", "client", "add", "ACME", "--data-dir", data)
	var client store.Client
	if err := json.Unmarshal([]byte(cout), &client); err != nil {
		t.Fatalf("client add: %q %v", cout, err)
	}
	agent := func(args ...string) string {
		t.Helper()
		return w.must(t, append(append([]string{`C:\muster\muster.exe`, "agent"}, args...), "--server", srv.URL, "--work-dir", `C:\agent`)...)
	}
	if o := agent("activate", client.Code); !strings.Contains(o, "activated for client ACME") {
		t.Errorf("activate: %s", o)
	}
	agent("run", "--force")
	var devs []store.Device
	lout, _ := muster(t, false, "inventory", "list", "-o", "json", "--data-dir", data)
	json.Unmarshal([]byte(lout), &devs)
	if len(devs) != 1 || devs[0].Client != "ACME" || devs[0].OSName != c.Hardware.OSName || devs[0].CPUs == 0 || devs[0].MemoryMB == 0 ||
		!strings.HasPrefix(devs[0].UserAgent, "OCS-NG_WINDOWS_AGENT_v") {
		t.Fatalf("devices on the server: %+v", devs)
	}
	show, _ := muster(t, false, "inventory", "show", devs[0].DeviceID, "-o", "json", "--data-dir", data)
	for _, want := range []string{"Muster Test App", c.BIOS.BManufacturer, c.CPUs[0].Type} {
		if !strings.Contains(show, want) {
			t.Errorf("the server's inventory lacks %q", want)
		}
	}
}
