// Command muster is the network discovery and deployment orchestrator: a
// communication server for OCS Inventory NG agents, and the tools around it.
// This package only wires commands to the packages that do the work.
package main

import (
	"muster/agent"
	"muster/agent/setup"
	"muster/internal/textsafe"
	"runtime/pprof"

	"context"
	"fmt"
	"os"
	"strings"
)

func main() {
	// The setup program served as latest-win-exe: this program with the
	// agent's MSI appended, run with the OCS setup's switches.
	if setup.Embedded() {
		os.Exit(setup.Run(context.Background(), os.Args[1:], os.Stdout))
	}
	// MUSTER_CPUPROFILE=FILE writes a CPU profile of the command (go tool
	// pprof), for finding where a benchmark's time goes.
	if p := os.Getenv("MUSTER_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	root := newApp().root()
	// `muster … agent …` takes the OCS Windows agent's switches too,
	// wherever the global flags put the word agent.
	if cmd, _, err := root.Find(os.Args[1:]); err == nil && cmd != root && strings.HasPrefix(cmd.CommandPath(), "muster agent") {
		args, err := agent.TranslateOCSSwitches(os.Args[1:])
		if err != nil {
			fmt.Fprintln(os.Stderr, "muster agent:", err)
			os.Exit(2)
		}
		root.SetArgs(args)
	}
	if err := root.Execute(); err != nil {
		// Errors can carry a server's or host's words: sanitized too.
		fmt.Fprintln(os.Stderr, "muster:", textsafe.Sanitize(err.Error()))
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}
