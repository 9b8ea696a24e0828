package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"muster/packages"
)

var codeRe = regexp.MustCompile(`^[A-Z]{10}$`)

// ActivationError is a failed activation with its ACT-n code.
type ActivationError struct {
	Result, Message, ErrorID string
}

func (e *ActivationError) Error() string {
	s := e.Result + ": " + e.Message
	if e.ErrorID != "" {
		s += " (error id " + e.ErrorID + ")"
	}
	return s
}

// actMeanings mirrors the server's, for errors found before asking it.
var actMeanings = map[string]string{
	"ACT-1": "malformed request: an activation code is 10 letters A-Z",
}

// endpoint is a URL beside the OCS one: http://h/ocsinventory → http://h/activate.
func (c *Client) endpoint(name string) string {
	u, _ := url.Parse(c.url)
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "ocsinventory") + name
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path
	}
	return u.String()
}

type actReply struct {
	Client     string `json:"client"`
	PackageKey string `json:"package_key"`
	Secret     string `json:"secret"`
	Result     string `json:"result"`
	Message    string `json:"message"`
	ErrorID    string `json:"error_id"`
}

func (c *Client) postJSON(ctx context.Context, name string, body any) (actReply, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, "POST", c.endpoint(name), bytes.NewReader(b))
	if err != nil {
		return actReply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	if c.cfg.User != "" {
		req.SetBasicAuth(c.cfg.User, c.cfg.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return actReply{}, fmt.Errorf("cannot reach %s: %w", c.endpoint(name), err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var rep actReply
	if err := json.Unmarshal(data, &rep); err != nil {
		return actReply{}, fmt.Errorf("%s answered HTTP %d without an activation reply (is it a muster server?)", c.endpoint(name), resp.StatusCode)
	}
	if rep.Result != "" {
		return rep, &ActivationError{Result: rep.Result, Message: rep.Message, ErrorID: rep.ErrorID}
	}
	if resp.StatusCode != http.StatusOK {
		return rep, fmt.Errorf("%s answered HTTP %d", c.endpoint(name), resp.StatusCode)
	}
	return rep, nil
}

// Activate binds this machine to the client of code. A code of the wrong
// shape is refused before the server is asked.
func (a *Agent) Activate(ctx context.Context, code string) (string, error) {
	a.defaults()
	code = strings.ToUpper(strings.TrimSpace(code))
	if !codeRe.MatchString(code) {
		return "", &ActivationError{Result: "ACT-1", Message: actMeanings["ACT-1"]}
	}
	if a.Client == nil {
		return "", errors.New("no server to activate with (--server)")
	}
	st, err := a.identity()
	if err != nil {
		return "", err
	}
	secret, err := unseal(a.WorkDir, st.Secret)
	if err != nil {
		return "", fmt.Errorf("the device secret: %w", err)
	}
	rep, err := a.Client.postJSON(ctx, "activate", map[string]string{"code": code, "deviceid": st.DeviceID, "secret": secret})
	if err != nil {
		return "", err
	}
	st.Client, st.Activation = rep.Client, code
	if rep.Secret != "" {
		if st.Secret, err = seal(a.WorkDir, rep.Secret); err != nil {
			return "", fmt.Errorf("keep the device secret: %w", err)
		}
	}
	switch {
	case rep.PackageKey == "":
	case st.PackageKey == "":
		if _, err := packages.ParsePublicKey(rep.PackageKey); err != nil {
			return "", fmt.Errorf("activation: the server's %w", err)
		}
		st.PackageKey = rep.PackageKey
		a.Log.Info("pinned the server's package-signing key", "key", rep.PackageKey)
	case st.PackageKey != rep.PackageKey:
		// A pin is kept: an on-path party must not swap the key at a
		// later activation. A server that really changed keys is
		// re-pinned with --package-key or after removeclean.
		a.Log.Warn("the server offers another package-signing key than the one pinned; keeping the pinned one",
			"pinned", st.PackageKey, "offered", rep.PackageKey)
	}
	return rep.Client, st.Save(a.WorkDir)
}

// Deactivate unbinds this machine from its client, on the server and here.
func (a *Agent) Deactivate(ctx context.Context) error {
	a.defaults()
	st, err := a.identity()
	if err != nil {
		return err
	}
	if a.Client != nil {
		secret, err := unseal(a.WorkDir, st.Secret)
		if err != nil {
			return fmt.Errorf("the device secret: %w", err)
		}
		if _, err := a.Client.postJSON(ctx, "deactivate", map[string]string{"deviceid": st.DeviceID, "secret": secret}); err != nil {
			return err
		}
	}
	st.Client, st.Activation, st.Secret = "", "", ""
	return st.Save(a.WorkDir)
}
