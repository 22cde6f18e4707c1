package smoke

import (
	"crypto/tls"
	"errors"
	"net"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

// loginAuth is AUTH LOGIN as gopkg.in/mail.v2 speaks it (The Things
// Stack's SMTP client picks it when a server offers LOGIN but not PLAIN).
type loginAuth struct{ user, pass string }

func (a loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) { return "LOGIN", nil, nil }
func (a loginAuth) Next(from []byte, more bool) ([]byte, error) {
	switch {
	case !more:
		return nil, nil
	case string(from) == "Username:":
		return []byte(a.user), nil
	case string(from) == "Password:":
		return []byte(a.pass), nil
	}
	return nil, errors.New("unexpected challenge " + string(from))
}

// TestSMTPStandIn speaks to the stand-in with Go's net/smtp, the package
// under The Things Stack's SMTP client: STARTTLS against the test CA, AUTH
// PLAIN and LOGIN with the right credentials, and the refusals.
func TestSMTPStandIn(t *testing.T) {
	pki := newTestPKI(t)
	srv, err := NewSMTPServer("127.0.0.1:0", pki.server, "AKIAEXAMPLE", "pass+word/=")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dial := func(conf *tls.Config) (*smtp.Client, error) {
		c, err := smtp.Dial(srv.Addr())
		if err != nil {
			return nil, err
		}
		if ok, _ := c.Extension("AUTH"); ok {
			t.Error("AUTH is offered before STARTTLS")
		}
		if ok, _ := c.Extension("STARTTLS"); !ok {
			t.Fatal("no STARTTLS offered")
		}
		if err := c.StartTLS(conf); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	send := func(auth smtp.Auth, to string) error {
		c, err := dial(&tls.Config{RootCAs: pki.roots, ServerName: "127.0.0.1"})
		if err != nil {
			return err
		}
		defer c.Close()
		if auth != nil {
			if err := c.Auth(auth); err != nil {
				return err
			}
		}
		if err := c.Mail("noreply@tts.example.com"); err != nil {
			return err
		}
		if err := c.Rcpt(to); err != nil {
			return err
		}
		w, err := c.Data()
		if err != nil {
			return err
		}
		if _, err := w.Write([]byte("Subject: hello\r\n\r\n.dotted line\r\nbody\r\n")); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		return c.Quit()
	}
	if err := send(smtp.PlainAuth("", "AKIAEXAMPLE", "pass+word/=", "127.0.0.1"), "admin@tts.example.com"); err != nil {
		t.Fatalf("PLAIN: %v", err)
	}
	if err := send(loginAuth{"AKIAEXAMPLE", "pass+word/="}, "user@tts.example.com"); err != nil {
		t.Fatalf("LOGIN: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages recorded, want 2", len(msgs))
	}
	for i, mech := range []string{"PLAIN", "LOGIN"} {
		m := msgs[i]
		if m.Mechanism != mech || m.Username != "AKIAEXAMPLE" || m.TLSVersion < tls.VersionTLS12 || m.From != "noreply@tts.example.com" || len(m.To) != 1 ||
			!strings.Contains(string(m.Data), "\r\n.dotted line\r\n") || strings.Contains(string(m.Data), "..dotted") {
			t.Errorf("message %d: %+v", i, m)
		}
	}

	if err := send(smtp.PlainAuth("", "AKIAEXAMPLE", "wrong", "127.0.0.1"), "x@tts.example.com"); err == nil || !strings.Contains(err.Error(), "535") {
		t.Errorf("wrong password: err = %v, want 535", err)
	}
	if err := send(nil, "x@tts.example.com"); err == nil || !strings.Contains(err.Error(), "530") {
		t.Errorf("mail without AUTH: err = %v, want 530", err)
	}
	if _, err := dial(&tls.Config{RootCAs: pki.roots, ServerName: "127.0.0.1", MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("a TLS 1.1 handshake succeeded")
	}
	// AUTH in the clear is refused even when a client tries.
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 512)
	_, _ = conn.Read(buf)
	_, _ = conn.Write([]byte("AUTH PLAIN AEFLSUFFWEFNUExFAHBhc3Mrd29yZC89\r\n"))
	n, _ := conn.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "530") {
		t.Errorf("AUTH before STARTTLS answered %q", buf[:n])
	}
	// The server records a refused TLS handshake in its own goroutine,
	// which may end after the client has seen the handshake fail.
	for deadline := time.Now().Add(5 * time.Second); len(srv.Refused()) < 4 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if len(srv.Messages()) != 2 || len(srv.Refused()) < 4 {
		t.Errorf("messages %d, refusals %v", len(srv.Messages()), srv.Refused())
	}
}
