//go:build !unix

// Command winrmemu runs the WinRM emulator (Unix only: it runs commands
// through /bin/sh).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "winrmemu: runs on Unix only")
	os.Exit(1)
}
