// Package winrmemu is a WinRM (WS-Management Windows Remote Shell) server
// for tests, in the spirit of net/http/httptest: a real HTTP server on a
// real socket that speaks the wire protocol faithfully enough for
// masterzen/winrm and pywinrm — Create, Command, Send, Receive (held until
// output or OperationTimeout, then the WSMan fault), Signal, Delete; Basic
// auth; TLS; the faults for an unknown shell, too many shells and an
// oversized envelope — and runs every command for real through /bin/sh,
// so a test can check that an installer landed and ran. A command may
// report a Windows exit code beyond 255 (msiexec's 1603) by writing it to
// the file named by $WINRMEMU_EXITCODE_FILE.
package winrmemu
