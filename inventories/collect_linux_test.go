//go:build linux

package inventories

import (
	"context"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLinuxCollectorsAgreeWithTheSystem compares the collected inventory
// with what the system itself reports.
func TestLinuxCollectorsAgreeWithTheSystem(t *testing.T) {
	inv, reports := CollectAll(context.Background(), nil)
	for _, r := range reports {
		if r.Err != nil && !strings.HasPrefix(r.Name, "test-") {
			t.Errorf("collector %s: %v", r.Name, r.Err)
		}
	}
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	if inv.Hardware.Name != host {
		t.Errorf("hostname %q, system %q", inv.Hardware.Name, host)
	}
	if int(inv.LogicalCPUs()) != runtime.NumCPU() {
		t.Errorf("%d logical CPUs, system %d", inv.LogicalCPUs(), runtime.NumCPU())
	}
	var si unix.Sysinfo_t
	unix.Sysinfo(&si)
	sysMB := int64(si.Totalram) * int64(si.Unit) / (1 << 20)
	if d := inv.Hardware.MemoryMB() - sysMB; d < -2 || d > 2 {
		t.Errorf("memory %d MB, system %d MB", inv.Hardware.MemoryMB(), sysMB)
	}
	ifs, _ := net.Interfaces()
	var want, got []string
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 {
			want = append(want, i.Name+"="+i.HardwareAddr.String())
		}
	}
	seen := map[string]bool{}
	for _, n := range inv.Networks {
		if k := n.Description + "=" + n.MACAddr; !seen[k] {
			seen[k] = true
			got = append(got, k)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(want, " ") != strings.Join(got, " ") {
		t.Errorf("interfaces\n got %v\nwant %v", got, want)
	}
	if _, err := exec.LookPath("dpkg-query"); err == nil {
		out, err := exec.Command("dpkg-query", "-W", "-f", "${db:Status-Abbrev}\n").Output()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "ii") {
				n++
			}
		}
		debs := 0
		for _, s := range inv.Softwares {
			if s.From == "deb" {
				debs++
			}
		}
		if debs != n {
			t.Errorf("%d packages, dpkg-query says %d installed", debs, n)
		}
	}
}
