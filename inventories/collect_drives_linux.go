//go:build linux

package inventories

import (
	"context"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func init() { Register("filesystems", CollectorFunc(collectDrives)) }

// virtualFS are file systems without storage of their own.
var virtualFS = map[string]bool{"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true, "tmpfs": true,
	"cgroup": true, "cgroup2": true, "pstore": true, "bpf": true, "debugfs": true, "tracefs": true, "securityfs": true,
	"mqueue": true, "hugetlbfs": true, "fusectl": true, "configfs": true, "autofs": true, "binfmt_misc": true,
	"rpc_pipefs": true, "nsfs": true, "overlay": true, "squashfs": true, "efivarfs": true, "ramfs": true}

// collectDrives lists mounted file systems with their size (DRIVES; TYPE
// holds the mount point on Unix, as the OCS agent writes it).
func collectDrives(ctx context.Context, inv *Inventory) error {
	seen := map[string]bool{}
	for _, m := range ParseMounts(readSys("proc/mounts")) {
		if virtualFS[m.FSType] || !strings.HasPrefix(m.Device, "/") || seen[m.Point] {
			continue
		}
		seen[m.Point] = true
		var st unix.Statfs_t
		if err := unix.Statfs(m.Point, &st); err != nil {
			continue
		}
		bs := uint64(st.Bsize)
		inv.Drives = append(inv.Drives, Drive{Type: m.Point, FileSystem: m.FSType, Volume: m.Device,
			Total: strconv.FormatUint(st.Blocks*bs/(1<<20), 10), Free: strconv.FormatUint(st.Bavail*bs/(1<<20), 10),
			NumFiles: strconv.FormatUint(st.Files-st.Ffree, 10)})
	}
	return nil
}
