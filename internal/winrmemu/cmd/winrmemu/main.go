//go:build unix

// Command winrmemu runs the WinRM emulator, for instance inside a test-bed
// host (testbed.Bed.Start): commands it receives run for real in -dir.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"muster/internal/winrmemu"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5985", "address to listen on")
	user := flag.String("user", "Administrator", "user name")
	password := flag.String("password", "", "password (or $WINRMEMU_PASSWORD)")
	dir := flag.String("dir", ".", "working directory of commands")
	cert := flag.String("tls-cert", "", "TLS certificate (PEM): serve HTTPS")
	key := flag.String("tls-key", "", "TLS key (PEM)")
	maxEnv := flag.Int("max-envelope-kb", 500, "MaxEnvelopeSizekb")
	maxShells := flag.Int("max-shells", 30, "MaxShellsPerUser")
	profile := flag.String("profile", winrmemu.ProfileWindows, "windows (NTLM only, messages sealed over HTTP) or posix (Basic, plaintext)")
	execMode := flag.String("exec", "", "how commands run: windows (muster's PowerShell scripts, modelled) or sh (default: windows for the windows profile)")
	flag.Parse()
	if *password == "" {
		*password = os.Getenv("WINRMEMU_PASSWORD")
	}
	if *password == "" {
		fmt.Fprintln(os.Stderr, "winrmemu: -password is required")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "winrmemu:", err)
		os.Exit(1)
	}
	if *cert != "" {
		pair, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			fmt.Fprintln(os.Stderr, "winrmemu:", err)
			os.Exit(1)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}})
	}
	s := winrmemu.New(winrmemu.Config{Users: map[string]string{*user: *password}, Dir: *dir,
		MaxEnvelopeSize: *maxEnv << 10, MaxShellsPerUser: *maxShells, Profile: *profile, Exec: *execMode, Log: os.Stderr})
	s.Start(ln, *cert != "")
	fmt.Println(s.URL)
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	<-c
	s.Close()
}
