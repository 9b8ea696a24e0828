//go:build windows

package agent

import (
	"fmt"

	"golang.org/x/sys/windows/registry"
)

const envKey = `SYSTEM\CurrentControlSet\Control\Session Manager\Environment`

// SetOnSystemPath adds dir to (on) or removes it from the machine's PATH,
// so `muster agent …` works from any prompt opened afterwards. It reports
// whether PATH changed.
func SetOnSystemPath(dir string, on bool) (bool, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, envKey, registry.QUERY_VALUE|registry.SET_VALUE)
	if err != nil {
		return false, fmt.Errorf("system PATH: %w", err)
	}
	defer k.Close()
	cur, _, err := k.GetStringValue("Path")
	if err != nil && err != registry.ErrNotExist {
		return false, fmt.Errorf("system PATH: %w", err)
	}
	next, changed := pathWith(cur, dir)
	if !on {
		next, changed = pathWithout(cur, dir)
	}
	if !changed {
		return false, nil
	}
	if err := k.SetExpandStringValue("Path", next); err != nil {
		return false, fmt.Errorf("system PATH: %w", err)
	}
	return true, nil
}
