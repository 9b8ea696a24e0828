//go:build !windows

package agent

import (
	"context"
	"errors"
)

// RunService is for the Windows service manager only.
func RunService(name string, loop func(ctx context.Context) error) error {
	return errors.New("--scm: the Windows service manager exists only on Windows")
}

// RemoveService is for the Windows service manager only.
func RemoveService(name string) (bool, error) {
	return false, errors.New("the Windows service manager exists only on Windows")
}
