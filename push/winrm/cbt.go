package winrm

import (
	"crypto"
	"crypto/sha256"
	_ "crypto/sha512" // SHA-384 and SHA-512 certificates
	"crypto/tls"
	"crypto/x509"

	"github.com/bodgit/ntlmssp"
)

// channelBindings binds an NTLM logon over HTTPS to the host's
// certificate (RFC 5929 tls-server-end-point), as hardened hosts require.
func channelBindings(tc *tls.Conn) *ntlmssp.ChannelBindings {
	st := tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return nil
	}
	cert := st.PeerCertificates[0]
	var h crypto.Hash
	switch cert.SignatureAlgorithm {
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		h = crypto.SHA384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		h = crypto.SHA512
	default:
		h = crypto.SHA256
	}
	var sum []byte
	if h == crypto.SHA256 {
		s := sha256.Sum256(cert.Raw)
		sum = s[:]
	} else {
		d := h.New()
		d.Write(cert.Raw)
		sum = d.Sum(nil)
	}
	return &ntlmssp.ChannelBindings{ApplicationData: append([]byte("tls-server-end-point:"), sum...)}
}
