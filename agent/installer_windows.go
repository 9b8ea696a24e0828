//go:build windows

package agent

import (
	"errors"

	"golang.org/x/sys/windows/registry"
)

// InstallerKey is where the MSI records its properties (HKLM).
const InstallerKey = `Software\muster\agent`

// ReadInstalled reads what the MSI recorded; a machine without the key
// (the agent was not installed by the MSI) gives a zero Installed.
func ReadInstalled() (Installed, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, InstallerKey, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if errors.Is(err, registry.ErrNotExist) {
		return Installed{}, nil
	}
	if err != nil {
		return Installed{}, err
	}
	defer k.Close()
	var in Installed
	in.Server, _, _ = k.GetStringValue("Server")
	in.Activation, _, _ = k.GetStringValue("Activation")
	in.InstallerPath, _, _ = k.GetStringValue("InstallerPath")
	now, _, _ := k.GetStringValue("RunNow")
	in.RunNow = now == "1"
	in.Version, _, _ = k.GetStringValue("Version")
	in.ProductCode, _, _ = k.GetStringValue("ProductCode")
	return in, nil
}
