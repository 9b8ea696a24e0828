// Command muster is the network discovery and deployment orchestrator: a
// communication server for OCS Inventory NG agents, and the tools around it.
// This package only wires commands to the packages that do the work.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newApp().root().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "muster:", err)
		os.Exit(1)
	}
}
