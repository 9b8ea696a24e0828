package agent

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"muster/internal/config"
)

// Settings are what the installed agent runs with, saved in the work
// directory by install-service so the service needs no secrets on its
// command line.
type Settings struct {
	Server   string `json:"server"`
	SSL      bool   `json:"ssl"`
	CA       string `json:"ca,omitempty"`
	User     string `json:"user,omitempty"`
	Password string `json:"password,omitempty"` // sealed on disk
	Proxy    string `json:"proxy,omitempty"`    // a URL, see ProxyURL
	// ProxyUser and ProxyPassword authenticate to the proxy.
	ProxyUser     string `json:"proxy_user,omitempty"`
	ProxyPassword string `json:"proxy_password,omitempty"` // sealed on disk
	Tag           string `json:"tag,omitempty"`
	NoTag         bool   `json:"notag,omitempty"`
	// PackageKey pins the server's package-signing key at install
	// (base64); PackageHosts may serve package info besides the server.
	PackageKey   string   `json:"package_key,omitempty"`
	PackageHosts []string `json:"package_hosts,omitempty"`
}

// SettingsFile is the settings' file name in the work directory.
const SettingsFile = "agent.json"

const keyFile = ".key"

// key returns the work directory's sealing key, made on first use.
func key(workDir string) ([]byte, error) {
	p := filepath.Join(workDir, keyFile)
	k, err := os.ReadFile(p)
	if err == nil && len(k) == 32 {
		return k, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k = make([]byte, 32)
	rand.Read(k)
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return nil, err
	}
	return k, os.WriteFile(p, k, 0o600)
}

// seal encrypts a secret with the work directory's key (AES-GCM): the
// config file never holds it in clear text. It protects copies of the file,
// not against root on the machine, which can read the key too.
func seal(workDir, secret string) (string, error) {
	if secret == "" {
		return "", nil
	}
	k, err := key(workDir)
	if err != nil {
		return "", err
	}
	block, _ := aes.NewCipher(k)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, gcm.NonceSize())
	rand.Read(nonce)
	return "sealed:" + base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(secret), nil)), nil
}

func unseal(workDir, s string) (string, error) {
	b64, ok := strings.CutPrefix(s, "sealed:")
	if !ok {
		return s, nil
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", err
	}
	k, err := os.ReadFile(filepath.Join(workDir, keyFile))
	if err != nil {
		return "", fmt.Errorf("the key that sealed the password is gone: %w", err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return "", err
	}
	gcm, _ := cipher.NewGCM(block)
	if len(data) < gcm.NonceSize() {
		return "", errors.New("sealed password too short")
	}
	plain, err := gcm.Open(nil, data[:gcm.NonceSize()], data[gcm.NonceSize():], nil)
	if err != nil {
		return "", fmt.Errorf("unseal password: %w", err)
	}
	return string(plain), nil
}

// Save writes the settings with the passwords sealed.
func (s Settings) Save(workDir string) error {
	sealed, err := seal(workDir, s.Password)
	if err != nil {
		return err
	}
	s.Password = sealed
	if s.ProxyPassword, err = seal(workDir, s.ProxyPassword); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(workDir, SettingsFile), b, 0o600)
}

// LoadSettings reads saved settings (nil, nil if none).
func LoadSettings(workDir string) (*Settings, error) {
	b, err := os.ReadFile(filepath.Join(workDir, SettingsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s Settings
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(workDir, SettingsFile), err)
	}
	if s.Password, err = unseal(workDir, s.Password); err != nil {
		return nil, err
	}
	if s.ProxyPassword, err = unseal(workDir, s.ProxyPassword); err != nil {
		return nil, err
	}
	return &s, nil
}

// ocsKeys maps the keys of OCS's ocsinventory.ini (any section) and of the
// Unix agent's ocsinventory-agent.cfg to muster's agent settings.
var ocsKeys = map[string]string{
	"server": "server", "ssl": "ssl", "cabundle": "ca", "ca": "ca", "user": "user", "pwd": "pwd",
	"password": "pwd", "proxy": "proxy", "proxyport": "proxy-port", "proxytype": "proxy-type",
	"proxyuser": "proxy-user", "proxypwd": "proxy-pwd", "debug": "debug", "local": "local", "tag": "tag",
	"notag": "notag", "tto_wait": "tto-wait", "prolog_freq": "prolog-freq", "basevardir": "work-dir",
}

// ReadOCSConfig reads an OCS agent configuration (ocsinventory.ini of the
// Windows agent, with its sections, or ocsinventory-agent.cfg of the Unix
// agent) into muster agent settings, by muster's key names. Unknown keys
// are returned apart, to be reported.
func ReadOCSConfig(path string) (map[string]string, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	tree, err := config.ParseINI(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]string{}
	var unknown []string
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(sub)
				continue
			}
			name, ok := ocsKeys[strings.ToLower(k)]
			if !ok {
				unknown = append(unknown, k)
				continue
			}
			out[name] = fmt.Sprint(v)
		}
	}
	walk(tree)
	if b, ok := out["ssl"]; ok {
		if _, err := strconv.ParseBool(b); err != nil {
			return nil, nil, fmt.Errorf("%s: SSL=%q: want 0 or 1", path, b)
		}
	}
	return out, unknown, nil
}
