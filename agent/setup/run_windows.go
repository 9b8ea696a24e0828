//go:build windows

package setup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// Embedded reports whether this program carries an MSI: then it is a
// setup program, and main runs Run instead of the command line.
func Embedded() bool {
	f, _, _, err := openMSI()
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// openMSI opens this program and finds the MSI it carries.
func openMSI() (f *os.File, off, size int64, err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, 0, 0, err
	}
	if f, err = os.Open(exe); err != nil {
		return nil, 0, 0, err
	}
	st, err := f.Stat()
	ok := false
	if err == nil {
		off, size, ok, err = Find(f, st.Size())
	}
	if err == nil && !ok {
		err = errors.New("this program carries no MSI")
	}
	if err != nil {
		f.Close()
		return nil, 0, 0, err
	}
	return f, off, size, nil
}

// Run installs the MSI this program carries with the setup's switches,
// writing what it does to out, and returns msiexec's exit code (0, or
// 3010 when Windows must restart) or 1 when it could not start it.
func Run(ctx context.Context, args []string, out io.Writer) int {
	if err := run(ctx, args, out); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 3010 {
			fmt.Fprintln(out, "muster agent setup: installed; Windows must restart to finish")
			return 3010
		}
		if errors.As(err, &exit) {
			fmt.Fprintf(out, "muster agent setup: msiexec failed with %d (log: %s)\n", exit.ExitCode(), logPath())
			return exit.ExitCode()
		}
		fmt.Fprintln(out, "muster agent setup:", err)
		return 1
	}
	return 0
}

func logPath() string { return filepath.Join(os.TempDir(), "muster-agent-setup.log") }

func run(ctx context.Context, args []string, out io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	props, err := Properties(args, filepath.Base(exe))
	if err != nil {
		return err
	}
	f, off, size, err := openMSI()
	if err != nil {
		return err
	}
	defer f.Close()
	dir, err := os.MkdirTemp("", "muster-setup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	msi := filepath.Join(dir, "muster-agent.msi")
	w, err := os.Create(msi)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, io.NewSectionReader(f, off, size))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write the MSI to %s: %w", msi, err)
	}
	line := CommandLine(msi, logPath(), props)
	fmt.Fprintln(out, "muster agent setup:", line)
	cmd := exec.CommandContext(ctx, "msiexec.exe")
	// msiexec reads its own command line: quote it as it expects.
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: line}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return err
	}
	fmt.Fprintln(out, "muster agent setup: installed")
	return nil
}
