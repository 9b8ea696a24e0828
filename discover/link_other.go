//go:build !linux && !windows

package discover

import "errors"

// ErrNoRawSocket says this platform has no raw link yet.
var ErrNoRawSocket = errors.New("ARP scanning is supported on Linux and Windows only")

// OpenLink is not available on this platform.
func OpenLink(ifc *Interface) (Link, error) { return nil, ErrNoRawSocket }
