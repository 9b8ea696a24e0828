package winrm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// EncryptedContentType is the Content-Type of an MS-WSMV encrypted body
// (2.2.9.1.1), sealed with an NTLM (or Kerberos) session.
const EncryptedContentType = `multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"`

// SOAPContentType is the plain SOAP body that encrypted messages carry.
const SOAPContentType = "application/soap+xml;charset=UTF-8"

const (
	boundary     = "--Encrypted Boundary"
	protocolType = "application/HTTP-SPNEGO-session-encrypted"
	octetStream  = "application/octet-stream"
	// signatureLen is an NTLM message signature: version, checksum, seqnum.
	signatureLen = 16
)

// Sealer is one direction pair of a security context: Wrap seals and signs
// an outgoing message, Unwrap opens and checks an incoming one. Both keep
// state (RC4 handles, sequence numbers), so messages must be wrapped and
// unwrapped in the order they cross the wire.
type Sealer interface {
	Wrap(plain []byte) (sealed, signature []byte, err error)
	Unwrap(sealed, signature []byte) ([]byte, error)
}

// IsEncrypted reports whether a Content-Type names an MS-WSMV encrypted body.
func IsEncrypted(contentType string) bool {
	ct := strings.ToLower(contentType)
	return strings.HasPrefix(ct, "multipart/encrypted") && strings.Contains(ct, strings.ToLower(protocolType))
}

// Seal wraps a SOAP message into an MS-WSMV encrypted body.
func Seal(s Sealer, plain []byte) ([]byte, error) {
	sealed, sig, err := s.Wrap(plain)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if len(sig) != signatureLen {
		return nil, fmt.Errorf("seal: signature of %d bytes, want %d", len(sig), signatureLen)
	}
	var b bytes.Buffer
	b.Grow(len(sealed) + 256)
	b.WriteString(boundary + "\r\n")
	b.WriteString("\tContent-Type: " + protocolType + "\r\n")
	b.WriteString("\tOriginalContent: type=" + SOAPContentType + ";Length=" + strconv.Itoa(len(plain)) + "\r\n")
	b.WriteString(boundary + "\r\n")
	b.WriteString("\tContent-Type: " + octetStream + "\r\n")
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(sig)))
	b.Write(n[:])
	b.Write(sig)
	b.Write(sealed)
	b.WriteString(boundary + "--\r\n")
	return b.Bytes(), nil
}

// ErrNotEncrypted is a body that is not an MS-WSMV encrypted message.
var ErrNotEncrypted = errors.New("the body is not an MS-WSMV encrypted message")

// Open unwraps an MS-WSMV encrypted body: it checks the layout, the
// signature (through s) and the length the sender declared.
func Open(s Sealer, body []byte) ([]byte, error) {
	sig, sealed, length, err := parseEncrypted(body)
	if err != nil {
		return nil, err
	}
	plain, err := s.Unwrap(sealed, sig)
	if err != nil {
		return nil, fmt.Errorf("open encrypted body: %w", err)
	}
	if len(plain) != length {
		return nil, fmt.Errorf("open encrypted body: %d bytes, but OriginalContent says Length=%d", len(plain), length)
	}
	return plain, nil
}

// parseEncrypted splits an encrypted body into its signature, the sealed
// bytes and the declared plaintext length, without any crypto.
func parseEncrypted(body []byte) (sig, sealed []byte, length int, err error) {
	rest, ok := bytes.CutPrefix(body, []byte(boundary+"\r\n"))
	if !ok {
		return nil, nil, 0, fmt.Errorf("%w: no opening boundary", ErrNotEncrypted)
	}
	// First part: headers only, up to the next boundary.
	i := bytes.Index(rest, []byte(boundary+"\r\n"))
	if i < 0 {
		return nil, nil, 0, fmt.Errorf("%w: no second part", ErrNotEncrypted)
	}
	length = -1
	sawProtocol := false
	for _, line := range strings.Split(string(rest[:i]), "\r\n") {
		name, value, found := strings.Cut(strings.TrimSpace(line), ":")
		if !found {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-type":
			sawProtocol = strings.EqualFold(value, protocolType)
		case "originalcontent":
			for _, p := range strings.Split(value, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "Length") {
					n, perr := strconv.Atoi(v)
					if perr != nil || n < 0 {
						return nil, nil, 0, fmt.Errorf("%w: OriginalContent Length %q", ErrNotEncrypted, v)
					}
					length = n
				}
			}
		}
	}
	if !sawProtocol || length < 0 {
		return nil, nil, 0, fmt.Errorf("%w: the first part lacks its Content-Type or OriginalContent Length", ErrNotEncrypted)
	}
	rest = rest[i+len(boundary)+2:]
	// Second part: one header line, then the binary payload up to the
	// closing boundary at the very end.
	nl := bytes.Index(rest, []byte("\r\n"))
	if nl < 0 {
		return nil, nil, 0, fmt.Errorf("%w: no header in the second part", ErrNotEncrypted)
	}
	name, value, _ := strings.Cut(strings.TrimSpace(string(rest[:nl])), ":")
	if !strings.EqualFold(strings.TrimSpace(name), "Content-Type") || !strings.EqualFold(strings.TrimSpace(value), octetStream) {
		return nil, nil, 0, fmt.Errorf("%w: the second part is not %s", ErrNotEncrypted, octetStream)
	}
	payload := rest[nl+2:]
	closing := []byte(boundary + "--")
	payload = bytes.TrimSuffix(payload, []byte("\r\n"))
	payload, ok = bytes.CutSuffix(payload, closing)
	if !ok {
		return nil, nil, 0, fmt.Errorf("%w: no closing boundary", ErrNotEncrypted)
	}
	if len(payload) < 4 {
		return nil, nil, 0, fmt.Errorf("%w: payload too short", ErrNotEncrypted)
	}
	n := binary.LittleEndian.Uint32(payload[:4])
	if n != signatureLen || len(payload) < 4+int(n) {
		return nil, nil, 0, fmt.Errorf("%w: signature length %d", ErrNotEncrypted, n)
	}
	sealed = payload[4+n:]
	if len(sealed) != length {
		return nil, nil, 0, fmt.Errorf("%w: %d sealed bytes, but Length=%d", ErrNotEncrypted, len(sealed), length)
	}
	return payload[4 : 4+n], sealed, length, nil
}
