//go:build unix

package winrm_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"muster/internal/winrmemu"
	"muster/internal/wiretap"
	"muster/push/winrm"
)

const createShell = `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><env:Header><a:Action mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/transfer/Create</a:Action><a:MessageID>uuid:1</a:MessageID><w:MaxEnvelopeSize>153600</w:MaxEnvelopeSize></env:Header><env:Body><rsp:Shell xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell></env:Body></env:Envelope>`

const password = "Pa55-w0rd!secret"

func emulator(t *testing.T, cfg winrmemu.Config) *winrmemu.Server {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = map[string]string{"Administrator": password, `CORP\alice`: password}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := winrmemu.New(cfg)
	s.Start(ln, false)
	t.Cleanup(s.Close)
	return s
}

func client(t *testing.T, url, user, pw string) *winrm.Client {
	t.Helper()
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/wsman")
	c, err := winrm.New(winrm.Config{Addr: addr, User: user, Password: pw, RequestTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestNTLMSealedAgainstDefaultHost: NTLM with sealing is accepted by a
// host in the windows profile, for a local, a DOMAIN\user and a UPN
// logon; a wrong password is an AuthError; nothing went unencrypted.
func TestNTLMSealedAgainstDefaultHost(t *testing.T) {
	emu := emulator(t, winrmemu.Config{})
	ctx := context.Background()
	for _, user := range []string{"Administrator", `CORP\alice`, "alice@corp.example"} {
		c := client(t, emu.URL, user, password)
		for i := 0; i < 3; i++ { // the same connection and context, sealed each time
			status, body, err := c.Post(ctx, []byte(createShell))
			if err != nil || status != 200 || !bytes.Contains(body, []byte("ShellId")) {
				t.Fatalf("%s: create %d: status %d err %v body %.200q", user, i, status, err, body)
			}
		}
	}
	if n := emu.Requests("unencrypted-refused") + emu.Requests("bad-seal") + emu.Requests("basic-refused"); n != 0 {
		t.Errorf("%d requests the host refused as unencrypted, badly sealed or Basic", n)
	}
	if n := emu.Requests("authenticated"); n != 3 {
		t.Errorf("%d NTLM logons for 3 users × 3 requests, want one per connection (3)", n)
	}
	_, _, err := client(t, emu.URL, "Administrator", "wrong").Post(ctx, []byte(createShell))
	var ae *winrm.AuthError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "refused the credentials") {
		t.Fatalf("wrong password: %T %v", err, err)
	}
}

func TestBasicNeverOverHTTP(t *testing.T) {
	_, err := winrm.New(winrm.Config{Addr: "127.0.0.1:5985", Auth: winrm.AuthBasic, User: "u", Password: password})
	var ae *winrm.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("Basic over HTTP: %v", err)
	}
}

// TestNoPasswordToABasicHost is the capture test: a fake host that answers
// every request with 401 Basic sees no Authorization: Basic header and no
// password bytes, and the client says what the host offered.
func TestNoPasswordToABasicHost(t *testing.T) {
	var mu sync.Mutex
	var seen bytes.Buffer // what the handler saw, after HTTP parsing
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		r.Header.Write(&seen)
		seen.Write(body)
		mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Basic realm="WSMAN"`)
		w.WriteHeader(http.StatusUnauthorized)
	})}
	tap := wiretap.New(ln)
	go srv.Serve(tap)
	defer srv.Close()
	// Also the posix profile of the emulator: Basic only.
	emu := emulator(t, winrmemu.Config{Profile: winrmemu.ProfilePOSIX})
	for _, url := range []string{"http://" + ln.Addr().String() + "/wsman", emu.URL} {
		_, _, err := client(t, url, "Administrator", password).Post(context.Background(), []byte(createShell))
		var ae *winrm.AuthError
		if !errors.As(err, &ae) || !strings.Contains(err.Error(), "does not offer NTLM") || !strings.Contains(err.Error(), "Basic") {
			t.Fatalf("%s: %T %v", url, err, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	raw := string(tap.Bytes()) + seen.String()
	if strings.Contains(strings.ToLower(raw), "basic ") || strings.Contains(raw, password) {
		t.Fatalf("the password or a Basic header crossed plain HTTP:\n%s", raw)
	}
	if !strings.Contains(raw, "Negotiate ") {
		t.Fatalf("the capture saw no request at all:\n%s", raw)
	}
	if emu.Requests("auth-refused") == 0 {
		t.Fatal("the posix emulator saw no logon attempt")
	}
}

// TestConnectionCloseReauthenticates: a host that closes the connection
// after every reply takes each message on a new, newly authenticated one.
func TestConnectionCloseReauthenticates(t *testing.T) {
	emu := emulator(t, winrmemu.Config{CloseAfterReply: true})
	c := client(t, emu.URL, "Administrator", password)
	for i := 0; i < 3; i++ {
		status, body, err := c.Post(context.Background(), []byte(createShell))
		if err != nil || status != 200 || !bytes.Contains(body, []byte("ShellId")) {
			t.Fatalf("request %d: %d %v", i, status, err)
		}
	}
	if n := emu.Requests("authenticated"); n != 3 {
		t.Errorf("%d logons for 3 requests on closing connections", n)
	}
}
