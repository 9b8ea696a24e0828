package e2e

import (
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"muster/agent"
	"muster/packages"
)

// TestAgentRunsOnlySignedPackages: an agent activated against muster's
// server pins the server's package-signing key; packages built by muster
// package build are signed with it and run; one whose command was changed
// in its info after signing, and one with its signature stripped, are
// refused (ERR_BAD_SIGNATURE, ERR_UNSIGNED) and run nothing.
func TestAgentRunsOnlySignedPackages(t *testing.T) {
	cert, key := selfSigned(t)
	data := t.TempDir()
	for _, o := range []string{"DOWNLOAD_FRAG_LATENCY", "DOWNLOAD_CYCLE_LATENCY", "DOWNLOAD_PERIOD_LATENCY"} {
		muster(t, false, "--data-dir", data, "server", "config", "set", o, "0")
	}
	srv := startServer(t, data, "--tls-cert", cert, "--tls-key", key)
	code := clientCode(t, data, "ACME")
	work := t.TempDir()
	base := []string{"agent", "--server", srv.URL, "--work-dir", work, "--ca", cert}
	muster(t, false, append(base, "activate", code)...)
	b, _ := os.ReadFile(filepath.Join(work, agent.StateFile))
	var st agent.State
	json.Unmarshal(b, &st)
	signer, err := packages.LoadSigningKey(filepath.Join(data, packages.SigningKeyFile))
	if err != nil || st.PackageKey == "" || st.PackageKey != packages.EncodePublicKey(signer.Public().(ed25519.PublicKey)) {
		t.Fatalf("pinned key %q, server's %v", st.PackageKey, err)
	}
	marks := t.TempDir()
	mk := func(name string) *packages.Info {
		return buildPackage(t, data, map[string]string{"run.sh": "#!/bin/sh\necho ran > " + marks + "/" + name + "\n"},
			"--name", name, "--action", "execute", "--command", "sh run.sh", "--priority", "1")
	}
	good, swapped, stripped := mk("good"), mk("swapped"), mk("stripped")
	rewrite := func(p *packages.Info, change func(*packages.Info)) {
		f := filepath.Join(data, "packages", p.ID, "info")
		b, _ := os.ReadFile(f)
		i, err := packages.ParseInfo(b)
		if err != nil || i.Signature == "" {
			t.Fatalf("built info of %s: %+v %v", p.ID, i, err)
		}
		change(i)
		os.WriteFile(f, i.Marshal(), 0o644)
	}
	rewrite(swapped, func(i *packages.Info) { i.Command = "sh run.sh; echo pwned > " + marks + "/pwned" })
	rewrite(stripped, func(i *packages.Info) { i.Signature = "" })
	for _, p := range []*packages.Info{good, swapped, stripped} {
		muster(t, false, "--data-dir", data, "package", "assign", p.ID, "--all")
	}
	out, _ := muster(t, false, append([]string{"-o", "json"}, append(base, "run")...)...)
	for id, want := range map[string]string{good.ID: packages.Success, swapped.ID: packages.ErrBadSig, stripped.ID: packages.ErrUnsigned} {
		if !strings.Contains(out, `"`+id+`": "`+want+`"`) {
			t.Errorf("package %s: want %s in %s", id, want, out)
		}
		if s := packageStates(t, data, id); len(s) != 1 || s[0].State != want {
			t.Errorf("server's state of %s: %+v, want %s", id, s, want)
		}
	}
	if _, err := os.Stat(filepath.Join(marks, "good")); err != nil {
		t.Error("the signed package did not run")
	}
	for _, n := range []string{"swapped", "stripped", "pwned"} {
		if _, err := os.Stat(filepath.Join(marks, n)); err == nil {
			t.Errorf("%s ran", n)
		}
	}
}
