//go:build !windows

package setup

import (
	"context"
	"fmt"
	"io"
)

// Embedded: only a Windows program is a setup program.
func Embedded() bool { return false }

// Run: the setup installs an MSI, which only Windows can.
func Run(ctx context.Context, args []string, out io.Writer) int {
	fmt.Fprintln(out, "muster agent setup: runs on Windows only")
	return 1
}
