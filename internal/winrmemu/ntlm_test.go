package winrmemu

import (
	"bytes"
	"crypto/rc4"
	"encoding/hex"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNTLMv2SpecExamples checks the acceptor's crypto against the worked
// NTLMv2 example of MS-NLMP 4.2.4: user "User", domain "Domain", password
// "Password", server challenge 0123456789abcdef, client challenge aa…,
// time 0, random session key 55…, and "Plaintext" sealed.
func TestNTLMv2SpecExamples(t *testing.T) {
	key := ntowfv2("Password", "User", "Domain")
	if want := unhex(t, "0c868a403bfd7a93a3001ef22ef02e3f"); !bytes.Equal(key, want) {
		t.Fatalf("NTOWFv2 %x, want %x", key, want)
	}
	serverChallenge := unhex(t, "0123456789abcdef")
	var temp []byte
	temp = append(temp, 1, 1, 0, 0, 0, 0, 0, 0)
	temp = append(temp, make([]byte, 8)...)                       // time 0
	temp = append(temp, bytes.Repeat([]byte{0xaa}, 8)...)         // client challenge
	temp = append(temp, 0, 0, 0, 0)                               // reserved
	temp = append(temp, avPair(avNbDomain, utf16le("Domain"))...) // target info
	temp = append(temp, avPair(avNbComputer, utf16le("Server"))...)
	temp = append(temp, avPair(avEOL, nil)...)
	temp = append(temp, 0, 0, 0, 0)
	proof := hmacMD5(key, serverChallenge, temp)
	if want := unhex(t, "68cd0ab851e51c96aabc927bebef6a1c"); !bytes.Equal(proof, want) {
		t.Fatalf("NTProofStr %x, want %x", proof, want)
	}
	base := hmacMD5(key, proof)
	if want := unhex(t, "8de40ccadbc14a82f15cb0ad0de95ca3"); !bytes.Equal(base, want) {
		t.Fatalf("SessionBaseKey %x, want %x", base, want)
	}
	random := bytes.Repeat([]byte{0x55}, 16)
	enc := make([]byte, 16)
	c, _ := rc4.NewCipher(base)
	c.XORKeyStream(enc, random)
	if want := unhex(t, "c5dad2544fc9799094ce1ce90bc9d03e"); !bytes.Equal(enc, want) {
		t.Fatalf("EncryptedRandomSessionKey %x, want %x", enc, want)
	}

	// Sealing as the client does it (4.2.4.4), and the server opening it.
	flags := uint32(0xe28a8233)
	client := newNTLMSealer(flags, random, true)
	if want := unhex(t, "59f600973cc4960a25480a7c196e4c58"); !bytes.Equal(md5Of(random, magicClientSeal), want) {
		t.Fatalf("client sealing key, want %x", want)
	}
	if want := unhex(t, "4788dc861b4782f35d43fd98fe1a2d39"); !bytes.Equal(client.outSign, want) {
		t.Fatalf("client signing key %x, want %x", client.outSign, want)
	}
	sealed, sig, _ := client.Wrap(utf16le("Plaintext"))
	if want := unhex(t, "54e50165bf1936dc996020c1811b0f06fb5f"); !bytes.Equal(sealed, want) {
		t.Errorf("sealed %x, want %x", sealed, want)
	}
	if want := unhex(t, "010000007fb38ec5c55d497600000000"); !bytes.Equal(sig, want) {
		t.Errorf("signature %x, want %x", sig, want)
	}
	server := newNTLMSealer(flags, random, false)
	plain, err := server.Unwrap(sealed, sig)
	if err != nil || fromUTF16le(plain) != "Plaintext" {
		t.Fatalf("server opened %q, %v", plain, err)
	}
	// A replayed message (sequence number 0 again) is refused.
	if _, err := server.Unwrap(sealed, sig); err == nil {
		t.Error("a replayed message was accepted")
	}
}
