// Package setup is the agent's Windows setup program, served as
// latest-win-exe: muster.exe with the agent's MSI appended. Started with
// the OCS setup's switches, it installs that MSI; the codec of the
// appended MSI and the switches' meaning live here, shared by the server
// that writes the file and the program that reads it.
package setup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
)

// magic ends a setup program: after it the MSI's size, before it the MSI.
const magic = "MUSTRMSI"

// TrailerSize is the bytes after the MSI: its size (8, little-endian) and
// the magic.
const TrailerSize = 16

// MaxMSI bounds the MSI a setup program may carry.
const MaxMSI = 1 << 30

// Trailer returns what follows an MSI of msiSize bytes appended to the
// program.
func Trailer(msiSize int64) []byte {
	b := make([]byte, TrailerSize)
	binary.LittleEndian.PutUint64(b, uint64(msiSize))
	copy(b[8:], magic)
	return b
}

// Find locates the MSI in a file of size n: its offset and size, ok false
// for a program that carries none. A trailer whose size does not fit the
// file is an error.
func Find(r io.ReaderAt, n int64) (off, size int64, ok bool, err error) {
	if n < TrailerSize {
		return 0, 0, false, nil
	}
	var t [TrailerSize]byte
	if _, err := r.ReadAt(t[:], n-TrailerSize); err != nil {
		return 0, 0, false, err
	}
	if string(t[8:]) != magic {
		return 0, 0, false, nil
	}
	s := binary.LittleEndian.Uint64(t[:8])
	if s == 0 || s > MaxMSI || int64(s) > n-TrailerSize {
		return 0, 0, false, fmt.Errorf("setup: the appended MSI's size %d does not fit this %d-byte program", s, n)
	}
	return n - TrailerSize - int64(s), int64(s), true, nil
}

var (
	switchRe = regexp.MustCompile(`^/([A-Za-z_]+)(?:=(.*))?$`)
	codeRe   = regexp.MustCompile(`_([A-Za-z]{10})\.exe$`)
)

// Properties turns the OCS setup's switches into the MSI's properties:
// /SERVER=URL → SERVER, /NOW → NOW=1, /D=DIR → INSTALLDIR, and the code
// in the program's name (…_ABCDEFGHIJ.exe) → ACTIVATION. /S, /NOSPLASH
// and /UPGRADE are taken (the install is always quiet); /NO_SERVICE and
// the agent's own switches are errors that say what to use instead.
func Properties(args []string, exeName string) ([]string, error) {
	var props []string
	for _, a := range args {
		m := switchRe.FindStringSubmatch(a)
		if m == nil {
			return nil, fmt.Errorf("setup: %q is not a setup switch (/S /SERVER=URL /NOW /D=DIR)", a)
		}
		name, val := strings.ToUpper(m[1]), m[2]
		switch name {
		case "S", "NOSPLASH", "UPGRADE":
		case "NOW":
			props = append(props, "NOW=1")
		case "SERVER":
			u, err := url.Parse(val)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(val, "\" \t\r\n") {
				return nil, fmt.Errorf("setup: /SERVER=%q: want an http(s) URL without quotes or spaces", val)
			}
			props = append(props, "SERVER="+val)
		case "D":
			if !filepath.IsAbs(val) && !(len(val) > 2 && val[1] == ':' && (val[2] == '\\' || val[2] == '/')) {
				return nil, fmt.Errorf("setup: /D=%q: want an absolute folder (C:\\...)", val)
			}
			if strings.ContainsAny(val, "\"\r\n") {
				return nil, fmt.Errorf("setup: /D=%q: no quotes in the folder", val)
			}
			props = append(props, "INSTALLDIR="+strings.TrimRight(val, `\/`))
		case "NO_SERVICE":
			return nil, errors.New("setup: /NO_SERVICE: the MSI always installs the service; for none, run muster agent install-service --no-service")
		default:
			return nil, fmt.Errorf("setup: /%s is not a setup switch: the setup takes /S /SERVER=URL /NOW /D=DIR; set the agent's own with muster agent (after install) or its ocsinventory.ini", name)
		}
	}
	if m := codeRe.FindStringSubmatch(exeName); m != nil {
		props = append(props, "ACTIVATION="+strings.ToUpper(m[1]))
	}
	return props, nil
}

// CommandLine is msiexec's command line for msi, quiet, logging to log,
// with the properties quoted as msiexec reads them.
func CommandLine(msi, log string, props []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `msiexec.exe /i "%s" /qn /norestart /l*v "%s"`, msi, log)
	for _, p := range props {
		k, v, _ := strings.Cut(p, "=")
		fmt.Fprintf(&b, ` %s="%s"`, k, v)
	}
	return b.String()
}
