//go:build windows

package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
)

var productCodeRe = regexp.MustCompile(`^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$`)

// UninstallProduct removes the MSI product the agent came with (msiexec
// /x, quiet, logged to %TEMP%\muster-agent-uninstall.log): the service,
// the program and the installer's registry key go, the work directory
// stays. restart is set when Windows must restart to finish (3010: the
// running muster.exe is deleted then).
func UninstallProduct(ctx context.Context, productCode string) (restart bool, err error) {
	if !productCodeRe.MatchString(productCode) {
		return false, fmt.Errorf("product code %q: not an MSI product code", productCode)
	}
	log := filepath.Join(os.TempDir(), "muster-agent-uninstall.log")
	cmd := exec.CommandContext(ctx, "msiexec.exe")
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: fmt.Sprintf(`msiexec.exe /x %s /qn /norestart /l*v "%s"`, productCode, log)}
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return false, nil
	case errors.As(err, &exit) && (exit.ExitCode() == 3010 || exit.ExitCode() == 1641):
		return true, nil
	case errors.As(err, &exit) && exit.ExitCode() == 1605:
		return false, nil // not installed any more
	case errors.As(err, &exit):
		return false, fmt.Errorf("msiexec /x %s failed with %d (log: %s)", productCode, exit.ExitCode(), log)
	}
	return false, fmt.Errorf("msiexec /x %s: %w", productCode, err)
}
