package winrm

import (
	"bytes"
	"errors"
	"testing"
)

// xorSealer is a stand-in session for the codec's own tests: the crypto is
// tested against MS-NLMP's examples in the emulator, and end to end.
type xorSealer struct{}

func (xorSealer) Wrap(p []byte) ([]byte, []byte, error) {
	out := make([]byte, len(p))
	for i, b := range p {
		out[i] = b ^ 0x5a
	}
	return out, bytes.Repeat([]byte{1}, 16), nil
}

func (xorSealer) Unwrap(s, sig []byte) ([]byte, error) {
	if !bytes.Equal(sig, bytes.Repeat([]byte{1}, 16)) {
		return nil, errors.New("bad signature")
	}
	out, _, _ := xorSealer{}.Wrap(s)
	return out, nil
}

func TestSealOpen(t *testing.T) {
	for _, msg := range []string{"", "<s:Envelope/>", "--Encrypted Boundary--\r\n inside"} {
		body, err := Seal(xorSealer{}, []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Open(xorSealer{}, body)
		if err != nil || string(got) != msg {
			t.Fatalf("%q: %q %v", msg, got, err)
		}
	}
	good, _ := Seal(xorSealer{}, []byte("<x/>"))
	for name, bad := range map[string][]byte{
		"plain SOAP":     []byte("<s:Envelope/>"),
		"cut short":      good[:len(good)-30],
		"length lies":    bytes.Replace(good, []byte("Length=4"), []byte("Length=9"), 1),
		"no second part": bytes.SplitN(good, []byte("--Encrypted Boundary\r\n\tContent-Type: application/octet"), 2)[0],
	} {
		if _, err := Open(xorSealer{}, bad); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
}

func FuzzOpen(f *testing.F) {
	good, _ := Seal(xorSealer{}, []byte("<s:Envelope/>"))
	f.Add(good)
	f.Add([]byte("--Encrypted Boundary\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		plain, err := Open(xorSealer{}, body)
		if err == nil {
			// Whatever opens seals back to something that opens the same.
			again, err := Seal(xorSealer{}, plain)
			if err != nil {
				t.Fatal(err)
			}
			if p2, err := Open(xorSealer{}, again); err != nil || !bytes.Equal(p2, plain) {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}
