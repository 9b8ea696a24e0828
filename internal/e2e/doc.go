// Package e2e holds muster's end-to-end tests: they build the muster binary
// and run it against real peers (the Debian OCS agent, real sockets, a real
// SQLite file), as an admin would.
package e2e
