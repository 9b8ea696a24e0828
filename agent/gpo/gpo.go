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
)

// Options are the script's settings.
type Options struct {
	// Server is the agent's server URL (http or https).
	Server string
	// Code is a client's activation code; empty for none.
	Code string
	// MSI is where machines read the MSI: a UNC path or a local one.
	MSI string
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
	return nil
}

// Scripts returns the .cmd startup script and its PowerShell twin.
func Scripts(o Options) (cmd, ps1 []byte, err error) {
	if err := o.check(); err != nil {
		return nil, nil, err
	}
	var c, p bytes.Buffer
	if err := cmdTmpl.Execute(&c, o); err != nil {
		return nil, nil, err
	}
	if err := ps1Tmpl.Execute(&p, o); err != nil {
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
