package shell

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Call is a parsed Invocation: which script, whether it reads stdin, and
// its arguments (a switch has the value "true").
type Call struct {
	Script string
	Stdin  bool
	Args   map[string]string
}

// DecodeCommand reads a powershell.exe command line with -EncodedCommand
// (any case, any other flags) and returns the script text.
func DecodeCommand(line string) (string, bool) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return "", false
	}
	exe := strings.ToLower(f[0])
	if exe != "powershell" && exe != "powershell.exe" && !strings.HasSuffix(exe, `\powershell.exe`) {
		return "", false
	}
	for i := 1; i+1 < len(f); i++ {
		if a := strings.ToLower(f[i]); a == "-encodedcommand" || a == "-enc" || a == "-e" {
			b, err := base64.StdEncoding.DecodeString(f[i+1])
			if err != nil || len(b)%2 != 0 {
				return "", false
			}
			u := make([]uint16, len(b)/2)
			for j := range u {
				u[j] = uint16(b[2*j]) | uint16(b[2*j+1])<<8
			}
			return string(utf16.Decode(u)), true
		}
	}
	return "", false
}

// ParseInvocation finds which of the embedded scripts a text runs, and
// with what: the inverse of Invocation, for the test hosts that model
// these scripts.
func ParseInvocation(text string) (Call, error) {
	var c Call
	if rest, ok := strings.CutPrefix(text, "$input | "); ok {
		c.Stdin, text = true, rest
	}
	rest, ok := strings.CutPrefix(text, "& {\n")
	if !ok {
		return c, errors.New("not a script invocation")
	}
	for _, name := range Names() {
		body, _ := Body(name)
		if after, ok := strings.CutPrefix(rest, body+"\n}"); ok {
			c.Script = name
			args, err := parseArgs(after)
			if err != nil {
				return c, fmt.Errorf("%s: %w", name, err)
			}
			c.Args = args
			return c, nil
		}
	}
	return c, errors.New("not one of muster's scripts")
}

// parseArgs reads  -Name 'value' -Switch …  as Invocation writes them.
func parseArgs(s string) (map[string]string, error) {
	args := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return args, nil
		}
		if s[0] != '-' {
			return nil, fmt.Errorf("unexpected %.20q", s)
		}
		end := strings.IndexByte(s, ' ')
		if end < 0 {
			end = len(s)
		}
		name := s[1:end]
		if name == "" {
			return nil, errors.New("empty parameter name")
		}
		s = strings.TrimLeft(s[end:], " ")
		r := []rune(s)
		if len(r) == 0 || !isQuote(r[0]) {
			args[name] = "true"
			continue
		}
		// A single-quoted string: any of PowerShell's single quotes ends
		// it, and one doubled is itself.
		var v strings.Builder
		i := 1
		for {
			for i < len(r) && !isQuote(r[i]) {
				v.WriteRune(r[i])
				i++
			}
			if i >= len(r) {
				return nil, fmt.Errorf("-%s: unterminated string", name)
			}
			if i+1 < len(r) && r[i+1] == r[i] {
				v.WriteRune(r[i])
				i += 2
				continue
			}
			i++
			break
		}
		s = string(r[i:])
		args[name] = v.String()
	}
}

func isQuote(r rune) bool {
	return r == '\'' || r == '\u2018' || r == '\u2019' || r == '\u201a' || r == '\u201b'
}
