//go:build !windows

package agent

// UserAgent is what the agent calls itself. Real OCS servers accept a
// PROLOG only from agent names they know, with a version no newer than
// theirs (ocs-protocol.md §1.5), so the agent introduces itself as the
// Unix agent 2.10 (as the Windows agent 2.10 on Windows); muster's server
// knows both.
const UserAgent = "OCS-NG_unified_unix_agent_v2.10.0"
