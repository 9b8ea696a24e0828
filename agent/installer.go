package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Installed is what the Windows installer (the MSI) left for the agent:
// its SERVER and ACTIVATION properties, and the path of the MSI itself,
// whose name may carry the code (muster-agent_ABCDEFGHIJ.msi); whether
// it asked for a first inventory at once (NOW=1), and its version.
type Installed struct {
	Server, Activation, InstallerPath string
	RunNow                            bool
	Version                           string
	// ProductCode is the MSI product's, for its uninstall.
	ProductCode string
}

var installerCodeRe = regexp.MustCompile(`_([A-Za-z]{10})(?:\.msi|\.exe)?$`)

// Code is the activation code the installer gave: the ACTIVATION
// property, else the one in the installer's file name; "" when neither.
func (in Installed) Code() string {
	if c := strings.TrimSpace(in.Activation); c != "" {
		return strings.ToUpper(c)
	}
	base := filepath.Base(strings.ReplaceAll(in.InstallerPath, `\`, "/"))
	if m := installerCodeRe.FindStringSubmatch(base); m != nil {
		return strings.ToUpper(m[1])
	}
	return ""
}

// ActivateFromInstaller activates with the code an installer left, once:
// only on a new install (never activated, code never taken), and the code
// counts as taken once it activated. An agent deactivated since stays
// deactivated. It returns the client, or "" when there was nothing to do.
func (a *Agent) ActivateFromInstaller(ctx context.Context, in Installed) (string, error) {
	a.defaults()
	code := in.Code()
	if code == "" {
		return "", nil
	}
	st, err := a.identity()
	if err != nil {
		return "", err
	}
	if st.InstallerCodeTried || st.Client != "" || st.Activation != "" {
		return "", nil
	}
	client, err := a.Activate(ctx, code)
	if err != nil {
		return "", fmt.Errorf("activation with the installer's code %s: %w", code, err)
	}
	if st, err = LoadState(a.WorkDir); err != nil {
		return client, err
	}
	st.InstallerCodeTried = true
	return client, st.Save(a.WorkDir)
}

// ServiceLoop is the service's life: activation with the installer's code
// on a new install, then the agent's schedule until ctx ends.
func ServiceLoop(ctx context.Context, ag *Agent) error {
	ag.defaults()
	in, err := ReadInstalled()
	if err != nil {
		ag.Log.Warn("cannot read what the installer left", "err", err)
	} else if client, err := ag.ActivateFromInstaller(ctx, in); err != nil {
		ag.Log.Warn("not activated; trying again at the next start", "err", err)
	} else if client != "" {
		ag.Log.Info("activated with the installer's code", "client", client)
	}
	if in.RunNow {
		if err := ag.ScheduleNow(true); err != nil {
			ag.Log.Warn("cannot schedule the first run at once", "err", err)
		}
	}
	return (&Service{Agent: ag}).Run(ctx)
}

// ScheduleNow makes the service's next run due at once, as the OCS
// service's "run now" control does. With firstOnly it does so only where
// no run was ever scheduled (a new install), so NOW=1 left in the
// registry does not hurry every restart.
func (a *Agent) ScheduleNow(firstOnly bool) error {
	a.defaults()
	st, err := a.identity()
	if err != nil {
		return err
	}
	if firstOnly && !st.TTOWait.IsZero() {
		return nil
	}
	st.TTOWait = a.Now()
	return st.Save(a.WorkDir)
}
