//go:build !windows

package agent

import "errors"

// SetOnSystemPath: the system PATH the MSI edits is Windows'.
func SetOnSystemPath(dir string, on bool) (bool, error) {
	return false, errors.New("the system PATH is set here on Windows only (elsewhere, link muster into /usr/local/bin)")
}
