//go:build !windows

package packages

import (
	"os/exec"
	"syscall"
)

// ownGroup puts the action in its own process group and has a timeout
// kill the whole group, so no child of an installer outlives it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
