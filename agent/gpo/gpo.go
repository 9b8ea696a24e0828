// Package gpo writes the startup script that pairs with push: assigned as
// a computer startup script, it installs the agent's MSI at the next boot
// of machines that were offline when the push ran.
package gpo

import (
	"bytes"
	_ "embed"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

//go:embed startup.cmd.tmpl
var cmdText string

//go:embed startup.ps1.tmpl
var ps1Text string

var (
	cmdTmpl = template.Must(template.New("cmd").Parse(cmdText))
	ps1Tmpl = template.Must(template.New("ps1").Parse(ps1Text))
	codeRe  = regexp.MustCompile(`^[A-Z]{10}$`)
	verRe   = regexp.MustCompile(`^(\d{1,3})\.(\d{1,3})\.(\d{1,5})$`)
)

// Options are the script's settings.
type Options struct {
	// Server is the agent's server URL (http or https).
	Server string
	// Code is a client's activation code; empty for none.
	Code string
	// MSI is where machines read the MSI: a UNC path or a local one.
	MSI string
	// Version is the MSI's version (major.minor.build): a machine whose
	// agent is older is upgraded.
	Version string
}

// data is what the templates see.
type data struct {
	Options
	// VersionKey is Version zero-padded (000.001.00000), as the MSI
	// records it, so cmd can compare versions as strings.
	VersionKey string
}

// check refuses values that could change the scripts' meaning: the
// scripts quote them, and cmd and PowerShell must not see a quote, a
// variable or a command separator inside.
func (o *Options) check() error {
	u, err := url.Parse(o.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--server %q: want an http(s) URL", o.Server)
	}
	if strings.ContainsAny(o.Server, "\"'%&|<>^` \t\r\n") {
		return fmt.Errorf("--server %q: no quotes, spaces or %%&|<>^` in the URL", o.Server)
	}
	o.Code = strings.ToUpper(strings.TrimSpace(o.Code))
	if o.Code != "" && !codeRe.MatchString(o.Code) {
		return fmt.Errorf("--code %q: want 10 letters A-Z", o.Code)
	}
	if o.MSI == "" || !strings.HasSuffix(strings.ToLower(o.MSI), ".msi") {
		return fmt.Errorf("--msi %q: want the path of the agent's .msi", o.MSI)
	}
	if strings.ContainsAny(o.MSI, "\"'%&|<>^`\r\n") {
		return fmt.Errorf("--msi %q: no quotes or %%&|<>^` in the path", o.MSI)
	}
	if _, err := versionKey(o.Version); err != nil {
		return err
	}
	return nil
}

// versionKey is v zero-padded, as scripts/build-msi.sh records it.
func versionKey(v string) (string, error) {
	m := verRe.FindStringSubmatch(v)
	if m == nil {
		return "", fmt.Errorf("--version %q: want the MSI's major.minor.build, e.g. 0.1.0", v)
	}
	var n [3]int
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	if n[0] > 255 || n[1] > 255 || n[2] > 65535 {
		return "", fmt.Errorf("--version %q: an MSI version is at most 255.255.65535", v)
	}
	return fmt.Sprintf("%03d.%03d.%05d", n[0], n[1], n[2]), nil
}

// Scripts returns the .cmd startup script and its PowerShell twin.
func Scripts(o Options) (cmd, ps1 []byte, err error) {
	if err := o.check(); err != nil {
		return nil, nil, err
	}
	key, _ := versionKey(o.Version)
	d := data{o, key}
	var c, p bytes.Buffer
	if err := cmdTmpl.Execute(&c, d); err != nil {
		return nil, nil, err
	}
	if err := ps1Tmpl.Execute(&p, d); err != nil {
		return nil, nil, err
	}
	// cmd.exe reads lines ending in CRLF.
	return bytes.ReplaceAll(c.Bytes(), []byte("\n"), []byte("\r\n")), p.Bytes(), nil
}

// Write writes muster-agent-startup.cmd and .ps1 into dir, each through a
// temporary file and a rename, and returns their paths.
func Write(dir string, o Options) ([]string, error) {
	cmd, ps1, err := Scripts(o)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range []struct {
		name string
		body []byte
	}{{"muster-agent-startup.cmd", cmd}, {"muster-agent-startup.ps1", ps1}} {
		p := filepath.Join(dir, f.name)
		tmp := p + ".part"
		if err := os.WriteFile(tmp, f.body, 0o644); err != nil {
			return paths, fmt.Errorf("write %s: %w", p, err)
		}
		if err := os.Rename(tmp, p); err != nil {
			os.Remove(tmp)
			return paths, fmt.Errorf("write %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
