// Package testbed builds LANs of real hosts in Linux network namespaces, for
// the end-to-end tests and benchmarks of discovery, push and the agent.
//
// A bed has one bridge namespace (a Linux bridge per LAN), one operator
// namespace (where muster runs; it has an address on every LAN) and its
// hosts, either one namespace per host (ModeNS: own MAC, own stack, real
// services) or, for thousands of hosts, one responder namespace holding
// every address while an nftables table on the bridge rewrites MACs per IP
// (ModeRewrite). Nothing touches the root namespace's interfaces, addresses,
// routes or firewall: every interface and nft table lives inside the bed's
// namespaces and goes with them.
//
// The bed reports the ground truth (IP, MAC, name of every host), switches
// faults on and off at run time, and runs sshd or any command inside a host.
package testbed
