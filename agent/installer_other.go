//go:build !windows

package agent

// ReadInstalled: only the Windows installer leaves settings.
func ReadInstalled() (Installed, error) { return Installed{}, nil }
