//go:build linux

package inventories

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func init() { Register("os", CollectorFunc(collectOS)) }

// collectOS fills HARDWARE's OS, host and kernel fields.
func collectOS(ctx context.Context, inv *Inventory) error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return fmt.Errorf("uname: %w", err)
	}
	h := &inv.Hardware
	host := unix.ByteSliceToString(u.Nodename[:])
	h.Name, _, _ = strings.Cut(host, ".")
	h.Workgroup = "WORKGROUP"
	if _, dom, ok := strings.Cut(host, "."); ok {
		h.Workgroup = dom
	}
	h.Arch = unix.ByteSliceToString(u.Machine[:])
	rel := ParseOSRelease(readSys("etc/os-release"))
	h.OSName = rel["PRETTY_NAME"]
	if name, ver := rel["NAME"], rel["VERSION_ID"]; name != "" {
		h.OSName = strings.TrimSpace(name + " " + ver)
	}
	// As the OCS Unix agent: OSVERSION is the release number; the kernel
	// goes with the pretty name.
	h.OSVersion = rel["VERSION_ID"]
	h.OSComments = strings.TrimSpace(rel["PRETTY_NAME"] + " kernel " + unix.ByteSliceToString(u.Release[:]))
	if h.OSName == "" {
		h.OSName = unix.ByteSliceToString(u.Sysname[:])
	}
	if up := strings.Fields(readSys("proc/uptime")); len(up) > 0 {
		if s, err := strconv.ParseFloat(up[0], 64); err == nil {
			h.Description = fmt.Sprintf("%s/%s", h.Arch, formatUptime(int64(s)))
		}
	}
	var dns []string
	for _, line := range strings.Split(readSys("etc/resolv.conf"), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "nameserver" {
			dns = append(dns, f[1])
		}
	}
	h.DNS = strings.Join(dns, "/")
	h.UUID = readSys("sys/class/dmi/id/product_uuid")
	if _, err := os.Stat(root + "proc/xen"); err == nil {
		h.VMSystem = "Xen"
	} else {
		h.VMSystem = "Physical"
	}
	return nil
}

func formatUptime(secs int64) string {
	d := secs / 86400
	secs %= 86400
	return fmt.Sprintf("%02d-%02d-%02d %02d:%02d:%02d", 0, 0, d, secs/3600, secs/60%60, secs%60)
}
