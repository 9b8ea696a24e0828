//go:build unix

package winrmemu

import (
	"errors"

	"github.com/jcmturner/goidentity/v6"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
)

// acceptKerberos checks a SPNEGO token carrying a Kerberos AP-REQ against
// the host's keytab (gokrb5's acceptor) and returns the client's name. An
// MIT KDC's PAC lacks the Windows logon info, so the PAC is not decoded.
func acceptKerberos(kt *keytab.Keytab, token []byte) (string, error) {
	if kt == nil {
		return "", errors.New("Kerberos is not configured on this host")
	}
	var st spnego.SPNEGOToken
	if err := st.Unmarshal(token); err != nil {
		return "", err
	}
	ok, ctx, status := spnego.SPNEGOService(kt, service.DecodePAC(false)).AcceptSecContext(&st)
	if !ok {
		return "", errors.New(status.Message)
	}
	id, _ := ctx.Value("github.com/jcmturner/gokrb5/v8/ctxCredentials").(goidentity.Identity)
	if id == nil {
		return "", errors.New("no identity in the ticket")
	}
	return id.UserName() + "@" + id.Domain(), nil
}
