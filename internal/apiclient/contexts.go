package apiclient

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Context is a named server the CLI can act on, kubectl-style.
type Context struct {
	Server string `yaml:"server"`
	Token  string `yaml:"token"`
}

// Contexts is the contexts file: the named servers and the current one.
type Contexts struct {
	Current  string             `yaml:"current,omitempty"`
	Contexts map[string]Context `yaml:"contexts,omitempty"`
	path     string
}

// ContextsPath is where the contexts live: $MUSTER_CONTEXTS, else
// $XDG_CONFIG_HOME/muster/contexts.yaml, else ~/.config/muster/contexts.yaml.
func ContextsPath() (string, error) {
	if p := os.Getenv("MUSTER_CONTEXTS"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("contexts: no config directory: %w", err)
	}
	return filepath.Join(dir, "muster", "contexts.yaml"), nil
}

// maxContextsFile caps the contexts file.
const maxContextsFile = 1 << 20

// LoadContexts reads the contexts file (none yet: empty).
func LoadContexts() (*Contexts, error) {
	p, err := ContextsPath()
	if err != nil {
		return nil, err
	}
	c := &Contexts{Contexts: map[string]Context{}, path: p}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("contexts %s: %w", p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("contexts %s: %w", p, err)
	}
	if fi.Size() > maxContextsFile {
		return nil, fmt.Errorf("contexts %s: over %d KiB", p, maxContextsFile>>10)
	}
	if err := yaml.NewDecoder(f).Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("contexts %s: %w", p, err)
	}
	if c.Contexts == nil {
		c.Contexts = map[string]Context{}
	}
	if c.Current != "" {
		if _, ok := c.Contexts[c.Current]; !ok {
			return nil, fmt.Errorf("contexts %s: current context %q is not defined", p, c.Current)
		}
	}
	return c, nil
}

// Save writes the file atomically, readable by its owner only (it holds
// tokens).
func (c *Contexts) Save() error {
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return fmt.Errorf("contexts %s: %w", c.path, err)
	}
	b, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	tmp := c.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("contexts %s: %w", c.path, err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("contexts %s: %w", c.path, err)
	}
	return nil
}

// Set adds or replaces a context after checking it as New would, and makes
// it current when none is.
func (c *Contexts) Set(name string, ctx Context) error {
	if name == "" {
		return errors.New("a context needs a name")
	}
	if _, err := New(ctx.Server, ctx.Token); err != nil {
		return err
	}
	c.Contexts[name] = ctx
	if c.Current == "" {
		c.Current = name
	}
	return nil
}

// Use makes name current; "" means the local store.
func (c *Contexts) Use(name string) error {
	if _, ok := c.Contexts[name]; !ok && name != "" {
		return fmt.Errorf("no context %q (have: %s)", name, strings.Join(c.Names(), ", "))
	}
	c.Current = name
	return nil
}

// Remove forgets a context (and the current one, if it was).
func (c *Contexts) Remove(name string) error {
	if _, ok := c.Contexts[name]; !ok {
		return fmt.Errorf("no context %q", name)
	}
	delete(c.Contexts, name)
	if c.Current == name {
		c.Current = ""
	}
	return nil
}

// Names lists the contexts, sorted.
func (c *Contexts) Names() []string {
	n := make([]string, 0, len(c.Contexts))
	for k := range c.Contexts {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Resolve picks the server to act on: the flags' values, else the
// environment's (MUSTER_API_SERVER, MUSTER_API_TOKEN), else the current context.
// An empty server means "the local store".
func Resolve(flagServer, flagToken string) (server, token string, err error) {
	server, token = flagServer, flagToken
	if server == "" {
		server = os.Getenv("MUSTER_API_SERVER")
	}
	if token == "" {
		token = os.Getenv("MUSTER_API_TOKEN")
	}
	if server != "" {
		return server, token, nil
	}
	cs, err := LoadContexts()
	if err != nil {
		return "", "", err
	}
	if cs.Current == "" {
		return "", "", nil
	}
	cur := cs.Contexts[cs.Current]
	if token == "" {
		token = cur.Token
	}
	return cur.Server, token, nil
}
