//go:build windows

package agent

// UserAgent is what the agent calls itself: on Windows, as the OCS
// Windows agent 2.10 does (see useragent_other.go).
const UserAgent = "OCS-NG_WINDOWS_AGENT_v2.10.0.0"
