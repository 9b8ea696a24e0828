//go:build linux

package inventories

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func init() { Register("software", CollectorFunc(collectSoftware)) }

// collectSoftware lists installed packages from dpkg's status file and,
// where rpm is installed, from the rpm database.
func collectSoftware(ctx context.Context, inv *Inventory) error {
	found := false
	if b, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/status")); err == nil {
		inv.Softwares = append(inv.Softwares, ParseDpkgStatus(string(b))...)
		found = true
	}
	if rpm, err := exec.LookPath("rpm"); err == nil {
		out, err := exec.CommandContext(ctx, rpm, "-qa", "--queryformat",
			`%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\t%{VENDOR}\t%{SIZE}\t%{SUMMARY}\n`).Output()
		if err == nil {
			for _, line := range splitLines(string(out)) {
				f := strings.SplitN(line, "\t", 6)
				if len(f) == 6 {
					inv.Softwares = append(inv.Softwares, Software{Name: f[0], Version: f[1], Architecture: f[2],
						Publisher: f[3], FileSize: f[4], Comments: f[5], From: "rpm"})
				}
			}
			found = true
		}
	}
	if !found {
		return errors.New("no package database (dpkg or rpm) found")
	}
	return nil
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
