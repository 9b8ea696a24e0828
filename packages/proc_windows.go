package packages

import "os/exec"

// ownGroup is a no-op on Windows: the timeout kills the process itself.
func ownGroup(cmd *exec.Cmd) {}
