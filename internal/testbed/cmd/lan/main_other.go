//go:build !linux

// Command lan builds muster's test LANs; it needs Linux network namespaces.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "lan: the test bed needs Linux (network namespaces)")
	os.Exit(1)
}
