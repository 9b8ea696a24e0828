package winrmemu

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/md4"
)

// The server side of NTLMv2 (MS-NLMP) as a Windows host's WinRM service
// runs it under Negotiate: it answers NEGOTIATE with a CHALLENGE, checks
// the AUTHENTICATE (NTProofStr, MIC), derives the session keys and then
// seals and signs messages. No library offers the acceptor side, so it is
// written here from the specification and tested against its worked
// examples (section 4.2.4) and two independent clients (bodgit/ntlmssp and
// pywinrm's ntlm-auth).

// NTLM negotiate flags (MS-NLMP 2.2.2.5).
const (
	flagUnicode     = 0x00000001
	flagRequestTgt  = 0x00000004
	flagSign        = 0x00000010
	flagSeal        = 0x00000020
	flagNTLM        = 0x00000200
	flagAnonymous   = 0x00000800
	flagAlwaysSign  = 0x00008000
	flagTgtServer   = 0x00020000
	flagESS         = 0x00080000
	flagTargetInfo  = 0x00800000
	flagVersion     = 0x02000000
	flag128         = 0x20000000
	flagKeyExch     = 0x40000000
	flag56          = 0x80000000
	ntlmSignature   = "NTLMSSP\x00"
	avEOL           = 0
	avNbComputer    = 1
	avNbDomain      = 2
	avDNSComputer   = 3
	avDNSDomain     = 4
	avFlags         = 6
	avTimestamp     = 7
	avFlagMICInAuth = 0x2
)

// ntlmState is one connection's NTLM context.
type ntlmState struct {
	negotiate, challenge []byte
	serverChallenge      [8]byte
	flags                uint32
	// user is set once authenticated; sealer then seals the connection's
	// messages (nil if the client negotiated neither sign nor seal).
	user   string
	sealer *ntlmSealer
}

// lookupFunc returns the password of user (as the client wrote it, with
// the domain it sent), or false.
type lookupFunc func(user, domain string) (string, bool)

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, v := range u {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}

func fromUTF16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func hmacMD5(key []byte, parts ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// ntowfv2 is NTOWFv2: HMAC-MD5(MD4(UTF-16LE(password)), UTF-16LE(UPPER(user) + domain)).
func ntowfv2(password, user, domain string) []byte {
	h := md4.New()
	h.Write(utf16le(password))
	return hmacMD5(h.Sum(nil), utf16le(strings.ToUpper(user)+domain))
}

func avPair(id uint16, v []byte) []byte {
	b := make([]byte, 4, 4+len(v))
	binary.LittleEndian.PutUint16(b, id)
	binary.LittleEndian.PutUint16(b[2:], uint16(len(v)))
	return append(b, v...)
}

// field reads an 8-byte (len, maxlen, offset) field at off of msg.
func field(msg []byte, off int) ([]byte, error) {
	if len(msg) < off+8 {
		return nil, errors.New("message too short for its fields")
	}
	n := int(binary.LittleEndian.Uint16(msg[off:]))
	at := int(binary.LittleEndian.Uint32(msg[off+4:]))
	if n == 0 {
		return nil, nil
	}
	if at < 0 || at+n > len(msg) || at+n < at {
		return nil, errors.New("a field points outside the message")
	}
	return msg[at : at+n], nil
}

func checkHeader(msg []byte, typ uint32) error {
	if len(msg) < 12 || string(msg[:8]) != ntlmSignature || binary.LittleEndian.Uint32(msg[8:]) != typ {
		return fmt.Errorf("not an NTLM type %d message", typ)
	}
	return nil
}

// challengeFor answers a NEGOTIATE message with a CHALLENGE for a host
// named computer in a workgroup or domain.
func (st *ntlmState) challengeFor(negotiate []byte, computer, domain string) ([]byte, error) {
	if err := checkHeader(negotiate, 1); err != nil {
		return nil, err
	}
	if len(negotiate) < 16 {
		return nil, errors.New("NEGOTIATE too short")
	}
	// Unicode is chosen even when the client offers only OEM (ntlm-auth
	// does): every NTLMv2 client copes, and Windows answers the same.
	cf := binary.LittleEndian.Uint32(negotiate[12:])
	// What a host with default policy answers: NTLMv2 with extended
	// session security, and the session-security flags the client asked for.
	flags := uint32(flagUnicode | flagRequestTgt | flagNTLM | flagAlwaysSign | flagTgtServer | flagESS | flagTargetInfo | flagVersion)
	flags |= cf & (flagSign | flagSeal | flag128 | flag56 | flagKeyExch)
	st.negotiate = append([]byte(nil), negotiate...)
	st.flags = flags
	rand.Read(st.serverChallenge[:])
	var ts [8]byte
	// FILETIME: 100 ns since 1601.
	binary.LittleEndian.PutUint64(ts[:], uint64(time.Now().UnixNano()/100+116444736000000000))
	var ti []byte
	ti = append(ti, avPair(avNbDomain, utf16le(domain))...)
	ti = append(ti, avPair(avNbComputer, utf16le(computer))...)
	ti = append(ti, avPair(avDNSDomain, utf16le(strings.ToLower(domain)))...)
	ti = append(ti, avPair(avDNSComputer, utf16le(strings.ToLower(computer)))...)
	ti = append(ti, avPair(avTimestamp, ts[:])...)
	ti = append(ti, avPair(avEOL, nil)...)
	target := utf16le(domain)
	const head = 56
	m := make([]byte, head, head+len(target)+len(ti))
	copy(m, ntlmSignature)
	binary.LittleEndian.PutUint32(m[8:], 2)
	putField(m[12:], len(target), head)
	binary.LittleEndian.PutUint32(m[20:], flags)
	copy(m[24:32], st.serverChallenge[:])
	putField(m[40:], len(ti), head+len(target))
	// Version: Windows 10.0 build 17763, NTLM revision 15.
	copy(m[48:], []byte{10, 0, 0x63, 0x45, 0, 0, 0, 15})
	m = append(m, target...)
	m = append(m, ti...)
	st.challenge = m
	return m, nil
}

func putField(b []byte, n, off int) {
	binary.LittleEndian.PutUint16(b, uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n))
	binary.LittleEndian.PutUint32(b[4:], uint32(off))
}

// authenticate checks an AUTHENTICATE message against the challenge sent
// on this connection. On success the state holds the user and sealer.
func (st *ntlmState) authenticate(msg []byte, lookup lookupFunc) error {
	if st.challenge == nil {
		return errors.New("AUTHENTICATE before any CHALLENGE on this connection")
	}
	if err := checkHeader(msg, 3); err != nil {
		return err
	}
	if len(msg) < 64 {
		return errors.New("AUTHENTICATE too short")
	}
	nt, err := field(msg, 20)
	if err != nil {
		return err
	}
	domB, err := field(msg, 28)
	if err != nil {
		return err
	}
	userB, err := field(msg, 36)
	if err != nil {
		return err
	}
	encKey, err := field(msg, 52)
	if err != nil {
		return err
	}
	flags := binary.LittleEndian.Uint32(msg[60:])
	if flags&flagAnonymous != 0 || len(userB) == 0 {
		return errors.New("anonymous logons are refused")
	}
	if len(nt) <= 24 {
		return errors.New("NTLMv1 responses are refused: NTLMv2 only")
	}
	user, domain := fromUTF16le(userB), fromUTF16le(domB)
	password, ok := lookup(user, domain)
	if !ok {
		return fmt.Errorf("unknown user %q (domain %q)", user, domain)
	}
	proof, temp := nt[:16], nt[16:]
	if len(temp) < 28 || temp[0] != 1 || temp[1] != 1 {
		return errors.New("malformed NTLMv2 response")
	}
	key := ntowfv2(password, user, domain)
	want := hmacMD5(key, st.serverChallenge[:], temp)
	if subtle.ConstantTimeCompare(proof, want) != 1 {
		return fmt.Errorf("wrong password for %q", user)
	}
	sessionBase := hmacMD5(key, proof)
	exported := sessionBase
	if st.flags&flagKeyExch != 0 && flags&flagKeyExch != 0 {
		if len(encKey) != 16 {
			return errors.New("key exchange without a 16-byte session key")
		}
		c, _ := rc4.NewCipher(sessionBase)
		exported = make([]byte, 16)
		c.XORKeyStream(exported, encKey)
	}
	// The MIC covers all three messages; it is there when the client's
	// target info says so (MsvAvFlags bit 0x2).
	if micPresent(temp[28:]) {
		if len(msg) < 88 {
			return errors.New("MIC flagged but missing")
		}
		zeroed := append([]byte(nil), msg...)
		mic := append([]byte(nil), zeroed[72:88]...)
		copy(zeroed[72:88], make([]byte, 16))
		if !hmac.Equal(mic, hmacMD5(exported, st.negotiate, st.challenge, zeroed)) {
			return errors.New("the MIC does not match: the messages were altered")
		}
	}
	st.flags &= flags | flagUnicode
	st.user = user
	if st.flags&(flagSign|flagSeal) != 0 {
		st.sealer = newNTLMSealer(st.flags, exported, false)
	}
	return nil
}

// micPresent reads MsvAvFlags from the AV pairs at the end of an NTLMv2
// client blob (after 28 bytes of header).
func micPresent(av []byte) bool {
	for len(av) >= 4 {
		id := binary.LittleEndian.Uint16(av)
		n := int(binary.LittleEndian.Uint16(av[2:]))
		if id == avEOL || len(av) < 4+n {
			return false
		}
		if id == avFlags && n == 4 {
			return binary.LittleEndian.Uint32(av[4:])&avFlagMICInAuth != 0
		}
		av = av[4+n:]
	}
	return false
}

// ntlmSealer is NTLM session security with extended session security:
// one RC4 handle and one sequence number per direction.
type ntlmSealer struct {
	flags           uint32
	outSign, inSign []byte
	outRC4, inRC4   *rc4.Cipher
	outSeq, inSeq   uint32
}

var (
	magicClientSign = []byte("session key to client-to-server signing key magic constant\x00")
	magicServerSign = []byte("session key to server-to-client signing key magic constant\x00")
	magicClientSeal = []byte("session key to client-to-server sealing key magic constant\x00")
	magicServerSeal = []byte("session key to server-to-client sealing key magic constant\x00")
)

func md5Of(parts ...[]byte) []byte {
	h := md5.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// newNTLMSealer derives the keys from the exported session key; client
// says which side this is (the tests take the client's side to check the
// specification's examples).
func newNTLMSealer(flags uint32, exported []byte, client bool) *ntlmSealer {
	sealKey := exported
	switch {
	case flags&flag128 != 0:
	case flags&flag56 != 0:
		sealKey = exported[:7]
	default:
		sealKey = exported[:5]
	}
	cSign, sSign := md5Of(exported, magicClientSign), md5Of(exported, magicServerSign)
	cSeal, sSeal := md5Of(sealKey, magicClientSeal), md5Of(sealKey, magicServerSeal)
	s := &ntlmSealer{flags: flags}
	if client {
		s.outSign, s.inSign = cSign, sSign
		s.outRC4, _ = rc4.NewCipher(cSeal)
		s.inRC4, _ = rc4.NewCipher(sSeal)
	} else {
		s.outSign, s.inSign = sSign, cSign
		s.outRC4, _ = rc4.NewCipher(sSeal)
		s.inRC4, _ = rc4.NewCipher(cSeal)
	}
	return s
}

func (s *ntlmSealer) checksum(key []byte, seq uint32, msg []byte, c *rc4.Cipher) []byte {
	var sn [4]byte
	binary.LittleEndian.PutUint32(sn[:], seq)
	sum := hmacMD5(key, sn[:], msg)[:8]
	if s.flags&flagKeyExch != 0 {
		c.XORKeyStream(sum, sum)
	}
	sig := make([]byte, 16)
	sig[0] = 1
	copy(sig[4:12], sum)
	copy(sig[12:], sn[:])
	return sig
}

// Wrap seals (RC4, then the checksum through the same handle) and signs.
func (s *ntlmSealer) Wrap(plain []byte) ([]byte, []byte, error) {
	sealed := make([]byte, len(plain))
	if s.flags&flagSeal != 0 {
		s.outRC4.XORKeyStream(sealed, plain)
	} else {
		copy(sealed, plain)
	}
	sig := s.checksum(s.outSign, s.outSeq, plain, s.outRC4)
	s.outSeq++
	return sealed, sig, nil
}

// Unwrap opens and checks a message from the peer.
func (s *ntlmSealer) Unwrap(sealed, sig []byte) ([]byte, error) {
	if len(sig) != 16 {
		return nil, errors.New("signature is not 16 bytes")
	}
	plain := make([]byte, len(sealed))
	if s.flags&flagSeal != 0 {
		s.inRC4.XORKeyStream(plain, sealed)
	} else {
		copy(plain, sealed)
	}
	want := s.checksum(s.inSign, s.inSeq, plain, s.inRC4)
	if !bytes.Equal(sig, want) {
		return nil, fmt.Errorf("bad signature on message %d: altered, replayed or out of order", s.inSeq)
	}
	s.inSeq++
	return plain, nil
}
