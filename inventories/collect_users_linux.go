//go:build linux

package inventories

import (
	"context"
	"os/exec"
	"sort"
	"strings"
)

func init() { Register("users", CollectorFunc(collectUsers)) }

// collectUsers lists local accounts and groups (/etc/passwd, /etc/group)
// and who is logged in (who).
func collectUsers(ctx context.Context, inv *Inventory) error {
	inv.LocalUsers = ParsePasswd(readSys("etc/passwd"))
	inv.LocalGroups = ParseGroup(readSys("etc/group"))
	if out, err := exec.CommandContext(ctx, "who").Output(); err == nil {
		seen := map[string]bool{}
		var users []string
		for _, line := range splitLines(string(out)) {
			if f := strings.Fields(line); len(f) > 0 && !seen[f[0]] {
				seen[f[0]] = true
				users = append(users, f[0])
			}
		}
		sort.Strings(users)
		inv.Hardware.UserID = strings.Join(users, "/")
		if len(users) > 0 {
			inv.Hardware.LastLoggedUser = users[0]
		}
	}
	return nil
}
