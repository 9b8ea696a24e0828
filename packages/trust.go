package packages

import (
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Refusal codes: a package refused for where it came from or what it
// lacks. The agent reports them as results, logs them and journals them in
// download/refused.
const (
	ErrUntrustedInfo = "ERR_UNTRUSTED_INFO" // not over verified HTTPS, or from a host not trusted
	ErrNoDigest      = "ERR_NO_DIGEST"      // nothing ties the package's content to its info
	ErrUnsigned      = "ERR_UNSIGNED"       // a key is pinned and the package carries no signature
	ErrBadSig        = "ERR_BAD_SIGNATURE"  // a signature that does not verify
	ErrTooBig        = "ERR_TOO_BIG"        // fragments or unpacked content beyond the package's SIZE
)

// Trust is what a package must show before the worker runs it:
//   - its info came over HTTPS with the certificate verified (Verified),
//     from one of Hosts (the server's own and an allowlist);
//   - it has a digest (fragments) — a package with none runs only signed;
//   - where Key is pinned, the server's valid signature.
type Trust struct {
	Verified bool
	Hosts    []string
	Key      ed25519.PublicKey
}

// infoSource refuses an info location the worker may not fetch from.
func (t Trust) infoSource(loc string) error {
	if !t.Verified {
		return errors.New("info files are fetched only over HTTPS with a verified certificate, and this agent skips the check (--ssl=false)")
	}
	host := loc
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	for _, h := range t.Hosts {
		if strings.EqualFold(strings.Trim(h, "[]"), host) {
			return nil
		}
	}
	return fmt.Errorf("info location %q: host %q is neither the server's nor in the allowlist (%s)", loc, host, strings.Join(t.Hosts, ", "))
}

// untrustedTLS says a fetch failed because the host could not prove who
// it is over TLS (no HTTPS, a certificate not trusted or for another
// name): a refusal, not a network hiccup to retry.
func untrustedTLS(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
	)
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &record) ||
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// admit checks a parsed info; it returns a refusal code and why, or "".
func (t Trust) admit(i *Info) (string, error) {
	if i.Frags > 0 && len(i.SHA256) != 64 && len(i.Digest) != 32 {
		return ErrNoDigest, errors.New("the info has no digest for its fragments")
	}
	if t.Key != nil {
		if err := i.Verify(t.Key); errors.Is(err, ErrNoSignature) {
			return ErrUnsigned, err
		} else if err != nil {
			return ErrBadSig, err
		}
		return "", nil
	}
	if i.Frags == 0 {
		return ErrNoDigest, errors.New("a package without fragments has no digest: it runs only signed by a pinned key")
	}
	return "", nil
}

// MaxUnknownSize bounds a package whose info gives no SIZE (stock OCS
// packages): its fragments together, and what it unpacks to.
const MaxUnknownSize = 4 << 30

// MaxExpansion bounds what an archive unpacks to, as a multiple of its
// SIZE (with a floor of MinUnpacked), so a small archive cannot fill the
// disk.
const (
	MaxExpansion = 32
	MinUnpacked  = 64 << 20
)

// sizeCap is how much the fragments of i may hold together.
func (i *Info) sizeCap() int64 {
	if i.Size > 0 {
		return i.Size
	}
	return MaxUnknownSize
}

// unpackCap is how much i's archive may unpack to.
func (i *Info) unpackCap() int64 {
	if i.Size <= 0 {
		return MaxUnknownSize
	}
	return max(i.Size*MaxExpansion, MinUnpacked)
}

// maxJournal bounds download/refused.
const maxJournal = 1 << 20

// refused journals a refusal in the worker's download/refused.
func (w *Worker) refused(id, code string, why error) {
	w.Log.Warn("package refused", "id", id, "result", code, "why", why)
	path := filepath.Join(w.Dir, "refused")
	// Offers come from the network: the journal keeps its last
	// maxJournal bytes' worth, started afresh when it outgrows them.
	if st, err := os.Stat(path); err == nil && st.Size() > maxJournal {
		os.Remove(path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s %s %.500s\n", w.Now().UTC().Format(time.RFC3339), id, code, strings.ReplaceAll(why.Error(), "\n", " "))
}
