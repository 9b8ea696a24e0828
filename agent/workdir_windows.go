//go:build windows

package agent

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// programData is the machine's ProgramData folder, asked of the shell
// (the known folder), not of the environment: a service and an admin's
// console must agree on it, and under Wine their environments do not.
func programData() string {
	if p, err := windows.KnownFolderPath(windows.FOLDERID_ProgramData, 0); err == nil && p != "" {
		return p
	}
	return os.Getenv("ProgramData")
}

// DefaultWorkDir is where the agent keeps its identity, state and
// settings: ProgramData\muster\agent.
func DefaultWorkDir() string {
	if pd := programData(); pd != "" {
		return filepath.Join(pd, "muster", "agent")
	}
	return `C:\ProgramData\muster\agent`
}
