//go:build windows

package inventories

import (
	"context"
	"strconv"

	"golang.org/x/sys/windows/registry"
)

func init() { Register("software", CollectorFunc(collectWinSoftware)) }

const uninstallKey = `SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`

// collectWinSoftware reads the Uninstall keys of both registry views.
func collectWinSoftware(ctx context.Context, inv *Inventory) error {
	var entries []map[string]string
	for _, view := range []struct {
		access uint32
		bits   string
	}{{registry.WOW64_64KEY, "64"}, {registry.WOW64_32KEY, "32"}} {
		k, err := registry.OpenKey(registry.LOCAL_MACHINE, uninstallKey, registry.ENUMERATE_SUB_KEYS|view.access)
		if err != nil {
			continue
		}
		names, _ := k.ReadSubKeyNames(-1)
		k.Close()
		for _, n := range names {
			sk, err := registry.OpenKey(registry.LOCAL_MACHINE, uninstallKey+`\`+n, registry.QUERY_VALUE|view.access)
			if err != nil {
				continue
			}
			e := map[string]string{"KeyName": n, "BitsWidth": view.bits}
			for _, v := range []string{"DisplayName", "DisplayVersion", "Publisher", "InstallLocation", "InstallDate", "Comments", "ParentKeyName"} {
				if s, _, err := sk.GetStringValue(v); err == nil {
					e[v] = s
				}
			}
			for _, v := range []string{"EstimatedSize", "SystemComponent"} {
				if d, _, err := sk.GetIntegerValue(v); err == nil {
					e[v] = strconv.FormatUint(d, 10)
				}
			}
			sk.Close()
			entries = append(entries, e)
		}
	}
	MapWindowsSoftware(entries, inv)
	return nil
}
