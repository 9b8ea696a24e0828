package agent

import (
	"fmt"
	"regexp"
	"strings"
)

var switchRe = regexp.MustCompile(`^/([A-Za-z_]+)(?:=(.*))?$`)

// ocsSwitches maps the OCS Windows agent's valued switches to muster's
// flags.
var ocsSwitches = map[string]string{
	"SERVER": "--server", "CA": "--ca", "TAG": "--tag", "LOCAL": "--local", "XML": "--xml",
	"PROXY": "--proxy", "PROXY_TYPE": "--proxy-type", "PROXY_PORT": "--proxy-port",
	"PROXY_USER": "--proxy-user", "PROXY_PWD": "--proxy-pwd",
	"USER": "--user", "PWD": "--pwd", "WORK_DIR": "--work-dir",
	// The setup's install directory: install-service copies itself there.
	"D": "--install-dir",
}

// ocsFlags maps its switches without a value.
var ocsFlags = map[string]string{
	"NOW": "--now", "NO_SERVICE": "--no-service", "FORCE": "--force", "NOTAG": "--notag", "DEBUG": "--debug",
}

// Installer-only switches of the OCS setup that mean nothing here.
var ocsIgnored = map[string]bool{"S": true, "NOSPLASH": true, "UPGRADE": true}

// TranslateOCSSwitches rewrites the OCS Windows agent's switches
// (/SERVER=URL /SSL=0|1 /CA=FILE /TAG=T /LOCAL=DIR /XML=DIR /PROXY=H
// /PROXY_TYPE=N /PROXY_PORT=P /PROXY_USER= /PROXY_PWD= /USER= /PWD=
// /WORK_DIR=DIR /FORCE /NOTAG /DEBUG, and the setup's /NOW /NO_SERVICE
// /D=DIR) in args into muster's flags, so a command line written for OCS
// works. Setup-only switches (/S, /NOSPLASH, /UPGRADE) are dropped; any
// other /NAME switch is an error that names it. Arguments that are not upper-case switches (paths like /tmp/x)
// pass unchanged.
func TranslateOCSSwitches(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		m := switchRe.FindStringSubmatch(a)
		if m == nil || m[1] != strings.ToUpper(m[1]) {
			out = append(out, a)
			continue
		}
		name, val := m[1], m[2]
		switch {
		case ocsIgnored[name]:
		case name == "SSL":
			if val != "0" && val != "1" {
				return nil, fmt.Errorf("/SSL=%s: want /SSL=0 or /SSL=1", val)
			}
			out = append(out, "--ssl="+map[string]string{"0": "false", "1": "true"}[val])
		case name == "DEBUG" && val != "":
			// /DEBUG=n: a level; muster has one.
			if val != "0" {
				out = append(out, "--debug")
			}
		case ocsFlags[name] != "":
			if val != "" {
				return nil, fmt.Errorf("/%s takes no value", name)
			}
			out = append(out, ocsFlags[name])
		case ocsSwitches[name] != "":
			if !strings.Contains(a, "=") || val == "" {
				return nil, fmt.Errorf("/%s needs a value (/%s=…)", name, name)
			}
			out = append(out, ocsSwitches[name]+"="+val)
		default:
			return nil, fmt.Errorf("OCS switch /%s is not supported by muster (supported: /SERVER /SSL /CA /TAG /LOCAL /XML /PROXY /PROXY_TYPE /PROXY_PORT /PROXY_USER /PROXY_PWD /USER /PWD /WORK_DIR /FORCE /NOTAG /DEBUG /NOW /NO_SERVICE /D)", name)
		}
	}
	return out, nil
}
