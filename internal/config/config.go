// Package config loads muster's configuration into viper with the
// precedence flags > MUSTER_* environment > config file > defaults. It adds
// what viper lacks: INI files (viper 1.21 dropped them, and OCS agents are
// configured in INI), and errors that name the file, line and key.
package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/viper"
)

// EnvPrefix is the prefix of muster's environment variables: the key
// server.listen is MUSTER_SERVER_LISTEN.
const EnvPrefix = "MUSTER"

// New returns a viper instance reading MUSTER_* environment variables.
func New() *viper.Viper {
	v := viper.New()
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	return v
}

// EnvName returns the environment variable that sets key.
func EnvName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

// LoadFile merges the config file at path into v. The format follows the
// extension: .yaml/.yml/.json/.toml through viper, .ini/.cfg/.conf through
// ParseINI. Keys not in known are an error that names them, so a typo never
// passes silently.
func LoadFile(v *viper.Viper, path string, known []string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var values map[string]any
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".ini", ".cfg", ".conf":
		values, err = ParseINI(data)
		if err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
	case ".yaml", ".yml", ".json", ".toml":
		fv := viper.New()
		fv.SetConfigType(ext[1:])
		if err := fv.ReadConfig(bytes.NewReader(data)); err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
		values = fv.AllSettings()
	default:
		return fmt.Errorf("config %s: unknown format %q (use .yaml, .yml, .json, .toml or .ini)", path, ext)
	}
	if bad := unknownKeys(values, "", known); len(bad) > 0 {
		return fmt.Errorf("config %s: unknown key(s) %s; known keys: %s", path, strings.Join(bad, ", "), strings.Join(known, ", "))
	}
	return v.MergeConfigMap(values)
}

func unknownKeys(m map[string]any, prefix string, known []string) []string {
	set := map[string]bool{}
	for _, k := range known {
		set[k] = true
	}
	var bad []string
	var walk func(m map[string]any, prefix string)
	walk = func(m map[string]any, prefix string) {
		for k, val := range m {
			key := strings.ToLower(prefix + k)
			if sub, ok := val.(map[string]any); ok && !set[key] {
				walk(sub, key+".")
				continue
			}
			if !set[key] {
				bad = append(bad, key)
			}
		}
	}
	walk(m, prefix)
	sort.Strings(bad)
	return bad
}

// ParseINI reads an INI document: "key = value" lines, "[section]" headers
// that prefix the keys after them ("section.key"), comments starting with
// # or ;, and values optionally in double or single quotes. Keys are lower
// case. Errors name the line.
func ParseINI(data []byte) (map[string]any, error) {
	out := map[string]any{}
	section := out
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if line == 1 {
			s = strings.TrimPrefix(s, "\ufeff")
		}
		if s == "" || s[0] == '#' || s[0] == ';' {
			continue
		}
		if s[0] == '[' {
			if !strings.HasSuffix(s, "]") {
				return nil, fmt.Errorf("line %d: section header %q has no closing ]", line, s)
			}
			name := strings.ToLower(strings.TrimSpace(s[1 : len(s)-1]))
			if name == "" {
				return nil, fmt.Errorf("line %d: empty section name", line)
			}
			sub, ok := out[name].(map[string]any)
			if !ok {
				if _, clash := out[name]; clash {
					return nil, fmt.Errorf("line %d: section [%s] clashes with a key of the same name", line, name)
				}
				sub = map[string]any{}
				out[name] = sub
			}
			section = sub
			continue
		}
		k, val, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: %q is not key = value", line, s)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "" {
			return nil, fmt.Errorf("line %d: empty key", line)
		}
		val = strings.TrimSpace(val)
		if n := len(val); n >= 2 && (val[0] == '"' && val[n-1] == '"' || val[0] == '\'' && val[n-1] == '\'') {
			val = val[1 : n-1]
		}
		if _, isSection := section[k].(map[string]any); isSection {
			return nil, fmt.Errorf("line %d: key %q clashes with a section of the same name", line, k)
		}
		section[k] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return out, nil
}
