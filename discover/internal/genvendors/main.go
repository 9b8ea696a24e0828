// Command genvendors writes discover's built-in vendor table from Debian's
// ieee-data registries (go generate ./discover).
package main

import (
	"flag"
	"fmt"
	"os"

	"muster/discover"
)

func main() {
	from := flag.String("from", "/usr/share/ieee-data", "ieee-data directory")
	out := flag.String("out", "vendors.tsv.gz", "output file")
	flag.Parse()
	v, err := discover.LoadIEEEDir(*from)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genvendors:", err)
		os.Exit(1)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genvendors:", err)
		os.Exit(1)
	}
	if err := v.WriteTSV(f); err != nil {
		fmt.Fprintln(os.Stderr, "genvendors:", err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "genvendors:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "genvendors: %d prefixes from %s\n", v.Len(), *from)
}
