package winrm

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/spnego"
)

// AuthKerberos is Negotiate with a Kerberos ticket for HTTP/host (SPNEGO),
// for domain hosts. Over HTTPS only: Kerberos message sealing over plain
// HTTP is not implemented, and a default host refuses unsealed SOAP.
const AuthKerberos Auth = "kerberos"

// kerberosRealm is the realm of a user: user@REALM, DOMAIN\user (the
// domain upper-cased), or the configuration's default.
func kerberosRealm(user string, cfg *config.Config) (name, realm string) {
	if u, r, ok := strings.Cut(user, "@"); ok {
		return u, strings.ToUpper(r)
	}
	if d, u, ok := strings.Cut(user, `\`); ok {
		return u, strings.ToUpper(d)
	}
	return user, cfg.LibDefaults.DefaultRealm
}

// logonKerberos gets a ticket for HTTP/<host> and presents it on cn with
// an empty POST; the connection is then authenticated, as with NTLM.
func (c *Client) logonKerberos(ctx context.Context, cn *conn) error {
	if c.cfg.Krb5Conf == "" {
		return errors.New("winrm: Kerberos needs a krb5.conf naming the realm and its KDC (--krb5-conf)")
	}
	kcfg, err := config.Load(c.cfg.Krb5Conf)
	if err != nil {
		return fmt.Errorf("winrm: %s: %w", c.cfg.Krb5Conf, err)
	}
	user, realm := kerberosRealm(c.cfg.User, kcfg)
	if realm == "" {
		return fmt.Errorf("winrm: no Kerberos realm for %s: write user@REALM or set default_realm in %s", c.cfg.User, c.cfg.Krb5Conf)
	}
	cl := client.NewWithPassword(user, realm, c.cfg.Password, kcfg, client.DisablePAFXFAST(true))
	defer cl.Destroy()
	if err := cl.Login(); err != nil {
		return &AuthError{Msg: fmt.Sprintf("winrm %s: Kerberos logon of %s@%s: %v", c.cfg.Addr, user, realm, err)}
	}
	host, _, _ := net.SplitHostPort(c.cfg.Addr)
	if c.cfg.SPN != "" {
		host = strings.TrimPrefix(c.cfg.SPN, "HTTP/")
	}
	s := spnego.SPNEGOClient(cl, "HTTP/"+host)
	tok, err := s.InitSecContext()
	if err != nil {
		return &AuthError{Msg: fmt.Sprintf("winrm %s: no Kerberos ticket for HTTP/%s: %v", c.cfg.Addr, host, err)}
	}
	b, err := tok.Marshal()
	if err != nil {
		return err
	}
	resp, _, err := c.roundTrip(ctx, cn, nil, SOAPContentType, "Negotiate "+base64.StdEncoding.EncodeToString(b))
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized:
		return &AuthError{Offered: schemes(resp.Header), Msg: fmt.Sprintf("winrm %s: the host refused the Kerberos ticket of %s@%s", c.cfg.Addr, user, realm)}
	}
	return fmt.Errorf("winrm %s: Kerberos logon: HTTP %d", c.cfg.Addr, resp.StatusCode)
}
