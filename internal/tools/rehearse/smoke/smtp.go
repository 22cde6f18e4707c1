package smoke

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// SMTPServer stands in for the Amazon SES SMTP endpoint (port 587): it
// offers STARTTLS (TLS 1.2 at least), accepts AUTH PLAIN and AUTH LOGIN
// only over TLS and only with the configured credentials, refuses mail
// from an unauthenticated session, and records every message.
type SMTPServer struct {
	addr     string
	ln       net.Listener
	tls      *tls.Config
	username string
	password string
	done     chan struct{}

	mu       sync.Mutex
	messages []SMTPMessage
	refused  []string
}

// SMTPMessage is one message the stand-in accepted, with how its session
// was secured and authenticated.
type SMTPMessage struct {
	From       string
	To         []string
	Data       []byte
	TLSVersion uint16
	// ServerName is the name the client asked for in its TLS handshake
	// (empty for an IP address, as Go clients send none then).
	ServerName string
	Mechanism  string // PLAIN or LOGIN
	Username   string
}

// NewSMTPServer listens on listenAddr with cert for STARTTLS and accepts
// the given credentials.
func NewSMTPServer(listenAddr string, cert tls.Certificate, username, password string) (*SMTPServer, error) {
	if username == "" || password == "" {
		return nil, errors.New("smtp stand-in: username and password are required")
	}
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("smtp stand-in: listen on %s: %w", listenAddr, err)
	}
	s := &SMTPServer{
		addr: ln.Addr().String(), ln: ln, username: username, password: password, done: make(chan struct{}),
		tls: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}
	go s.serve()
	return s, nil
}

// Addr is host:port of the listener.
func (s *SMTPServer) Addr() string { return s.addr }

// Messages returns the accepted messages so far.
func (s *SMTPServer) Messages() []SMTPMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMTPMessage(nil), s.messages...)
}

// Refused returns why sessions were refused (bad credentials, AUTH without
// TLS, mail without AUTH), one line each.
func (s *SMTPServer) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refused...)
}

// Close stops the listener.
func (s *SMTPServer) Close() error {
	err := s.ln.Close()
	<-s.done
	return err
}

func (s *SMTPServer) serve() {
	defer close(s.done)
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.session(c)
	}
}

func (s *SMTPServer) refuse(format string, args ...any) {
	s.mu.Lock()
	s.refused = append(s.refused, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

// session speaks SMTP (RFC 5321) with STARTTLS (RFC 3207) and AUTH
// (RFC 4954) on one connection.
func (s *SMTPServer) session(conn net.Conn) {
	defer conn.Close()
	const host = "smtp-stand-in"
	var (
		r    = bufio.NewReader(conn)
		w    = conn
		tlsc *tls.Conn
		msg  SMTPMessage
		auth bool
	)
	reply := func(lines ...string) bool {
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
		_, err := fmt.Fprint(w, strings.Join(lines, "\r\n")+"\r\n")
		return err == nil
	}
	read := func() (string, bool) {
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
		line, err := r.ReadString('\n')
		if err != nil {
			return "", false
		}
		return strings.TrimRight(line, "\r\n"), true
	}
	if !reply("220 " + host + " ESMTP stand-in of Amazon SES") {
		return
	}
	for {
		line, ok := read()
		if !ok {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"250-" + host}
			if tlsc == nil {
				lines = append(lines, "250-STARTTLS")
			} else {
				lines = append(lines, "250-AUTH PLAIN LOGIN")
			}
			reply(append(lines, "250 SIZE 10485760")...)
		case "STARTTLS":
			if tlsc != nil {
				reply("503 5.5.1 TLS already active")
				continue
			}
			reply("220 2.0.0 Ready to start TLS")
			tlsc = tls.Server(conn, s.tls)
			_ = tlsc.SetDeadline(time.Now().Add(30 * time.Second))
			if err := tlsc.Handshake(); err != nil {
				s.refuse("TLS handshake: %v", err)
				return
			}
			st := tlsc.ConnectionState()
			msg = SMTPMessage{TLSVersion: st.Version, ServerName: st.ServerName}
			auth = false
			r, w = bufio.NewReader(tlsc), tlsc
		case "AUTH":
			if tlsc == nil {
				s.refuse("AUTH before STARTTLS")
				reply("530 5.7.0 Must issue a STARTTLS command first")
				continue
			}
			mech, initial, _ := strings.Cut(arg, " ")
			user, pass, ok := s.credentials(strings.ToUpper(mech), initial, reply, read)
			if !ok {
				reply("501 5.5.2 Cannot decode the response")
				continue
			}
			if user != s.username || pass != s.password {
				s.refuse("AUTH %s: wrong credentials for user %q", strings.ToUpper(mech), user)
				reply("535 5.7.8 Authentication Credentials Invalid")
				continue
			}
			auth, msg.Mechanism, msg.Username = true, strings.ToUpper(mech), user
			reply("235 2.7.0 Authentication successful.")
		case "MAIL":
			if !auth {
				s.refuse("MAIL without AUTH")
				reply("530 5.7.1 Authentication required")
				continue
			}
			msg.From, msg.To, msg.Data = address(arg), nil, nil
			reply("250 Ok")
		case "RCPT":
			if msg.From == "" {
				reply("503 5.5.1 MAIL first")
				continue
			}
			msg.To = append(msg.To, address(arg))
			reply("250 Ok")
		case "DATA":
			if len(msg.To) == 0 {
				reply("503 5.5.1 RCPT first")
				continue
			}
			reply("354 End data with <CR><LF>.<CR><LF>")
			var data bytes.Buffer
			for {
				l, ok := read()
				if !ok {
					return
				}
				if l == "." {
					break
				}
				data.WriteString(strings.TrimPrefix(l, ".") + "\r\n")
			}
			m := msg
			m.Data = data.Bytes()
			s.mu.Lock()
			s.messages = append(s.messages, m)
			s.mu.Unlock()
			msg.From, msg.To = "", nil
			reply("250 Ok: queued")
		case "RSET":
			msg.From, msg.To = "", nil
			reply("250 Ok")
		case "NOOP":
			reply("250 Ok")
		case "QUIT":
			reply("221 Bye")
			return
		default:
			reply("502 5.5.2 Command not recognized")
		}
	}
}

// credentials reads AUTH PLAIN (with or without an initial response) or
// AUTH LOGIN.
func (s *SMTPServer) credentials(mech, initial string, reply func(...string) bool, read func() (string, bool)) (user, pass string, ok bool) {
	decode := func(v string) (string, bool) {
		b, err := base64.StdEncoding.DecodeString(v)
		return string(b), err == nil
	}
	ask := func(prompt string) (string, bool) {
		if !reply("334 " + prompt) {
			return "", false
		}
		l, ok := read()
		if !ok {
			return "", false
		}
		return decode(l)
	}
	switch mech {
	case "PLAIN":
		var raw string
		if initial != "" {
			raw, ok = decode(initial)
		} else {
			raw, ok = ask("")
		}
		parts := strings.Split(raw, "\x00")
		if !ok || len(parts) != 3 {
			return "", "", false
		}
		return parts[1], parts[2], true
	case "LOGIN":
		if user, ok = ask(base64.StdEncoding.EncodeToString([]byte("Username:"))); !ok {
			return "", "", false
		}
		if pass, ok = ask(base64.StdEncoding.EncodeToString([]byte("Password:"))); !ok {
			return "", "", false
		}
		return user, pass, true
	}
	return "", "", false
}

// address takes the address out of "FROM:<a@b> SIZE=1" or "TO:<a@b>".
func address(arg string) string {
	if i, j := strings.Index(arg, "<"), strings.Index(arg, ">"); i >= 0 && j > i {
		return arg[i+1 : j]
	}
	_, v, _ := strings.Cut(arg, ":")
	return strings.TrimSpace(v)
}
