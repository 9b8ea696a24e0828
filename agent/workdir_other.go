//go:build !windows

package agent

import (
	"os"
	"path/filepath"
)

// DefaultWorkDir is where the agent keeps its identity, state and
// settings: /var/lib/muster-agent as root, else under the user's home.
func DefaultWorkDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/muster-agent"
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "muster-agent")
	}
	return "muster-agent"
}
