// Command muster is the network discovery and deployment orchestrator: a
// communication server for OCS Inventory NG agents, and the tools around it.
// This package only wires commands to the packages that do the work.
package main

import (
	"muster/agent"

	"fmt"
	"os"
)

func main() {
	root := newApp().root()
	// `muster agent …` takes the OCS Windows agent's switches too.
	if len(os.Args) > 1 && os.Args[1] == "agent" {
		args, err := agent.TranslateOCSSwitches(os.Args[2:])
		if err != nil {
			fmt.Fprintln(os.Stderr, "muster agent:", err)
			os.Exit(2)
		}
		root.SetArgs(append([]string{"agent"}, args...))
	}
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "muster:", err)
		os.Exit(1)
	}
}
