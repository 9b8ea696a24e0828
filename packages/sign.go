package packages

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Signatures: muster's server signs every package it builds with an
// ed25519 key of its own; agents pin the public half at activation (or at
// install) and run nothing whose info does not carry a valid signature.
// Stock OCS agents ignore the SIGNATURE attribute.

// Signature errors, as the agent reports them.
var (
	ErrNoSignature  = errors.New("the package carries no signature")
	ErrBadSignature = errors.New("the package's signature does not verify against the pinned key")
)

// signedText is what a signature covers: every field that decides what
// runs or is written, each length-prefixed so none can spill into the next.
func (i *Info) signedText() []byte {
	var b strings.Builder
	b.WriteString("muster-package-v1\n")
	for _, f := range []struct{ k, v string }{
		{"ID", i.ID}, {"PRI", strconv.Itoa(i.Priority)}, {"ACT", i.Action}, {"NAME", i.Name},
		{"COMMAND", i.Command}, {"PATH", i.Path}, {"FRAGS", strconv.Itoa(i.Frags)},
		{"DIGEST", i.Digest}, {"SHA256", i.SHA256}, {"SIZE", strconv.FormatInt(i.Size, 10)},
	} {
		fmt.Fprintf(&b, "%s=%d:%s\n", f.k, len(f.v), f.v)
	}
	return []byte(b.String())
}

// Sign sets the info's signature.
func (i *Info) Sign(key ed25519.PrivateKey) {
	i.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, i.signedText()))
}

// Verify checks the info's signature against the pinned key.
func (i *Info) Verify(pub ed25519.PublicKey) error {
	if i.Signature == "" {
		return ErrNoSignature
	}
	sig, err := base64.StdEncoding.DecodeString(i.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize || len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, i.signedText(), sig) {
		return ErrBadSignature
	}
	return nil
}

// SigningKeyFile is the server's package-signing key in its data
// directory.
const SigningKeyFile = "package-signing.key"

// LoadSigningKey reads the signing key at path (a base64 ed25519 seed),
// making one (mode 0600) if there is none.
func LoadSigningKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("package signing key: %w", err)
		}
		tmp := path + ".part"
		if err := os.WriteFile(tmp, []byte(base64.StdEncoding.EncodeToString(priv.Seed())+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("package signing key: %w", err)
		}
		// A key another process made first wins.
		if err := os.Link(tmp, path); err != nil && !errors.Is(err, os.ErrExist) {
			os.Remove(tmp)
			return nil, fmt.Errorf("package signing key: %w", err)
		}
		os.Remove(tmp)
		return LoadSigningKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("package signing key: %w", err)
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("package signing key %s: not a base64 ed25519 seed", path)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// EncodePublicKey is a public key as agents pin it (base64).
func EncodePublicKey(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

// ParsePublicKey reads a pinned key.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("package key %q: want a base64 ed25519 public key (32 bytes)", s)
	}
	return ed25519.PublicKey(b), nil
}
