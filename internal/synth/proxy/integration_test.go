package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// seen is one request as an upstream received it.
type seen struct {
	upstream string // "<component>/<http|grpc|interop>"
	method   string
	uri      string
	proto    string
	header   http.Header
	body     []byte
}

type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (r *recorder) add(s seen) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, s)
}

// last returns the last request whose URI equals uri.
func (r *recorder) last(uri string) (seen, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.reqs) - 1; i >= 0; i-- {
		if r.reqs[i].uri == uri {
			return r.reqs[i], true
		}
	}
	return seen{}, false
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// serve starts an HTTP/1.1 + h2c server on loopback that records requests.
func serve(t *testing.T, name string, rec *recorder) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		rec.add(seen{upstream: name, method: r.Method, uri: r.RequestURI, proto: r.Proto, header: r.Header.Clone(), body: body})
		w.Header().Set("X-Upstream", name)
		switch {
		case strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
			hj, ok := w.(http.Hijacker)
			if !ok {
				http.Error(w, "no hijack", http.StatusInternalServerError)
				return
			}
			conn, buf, err := hj.Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			fmt.Fprintf(buf, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Upstream: %s\r\n\r\n", name)
			buf.Flush()
			// Echo one line, then close.
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := buf.ReadString('\n')
			fmt.Fprint(conn, line)
		case strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc"):
			w.Header().Set("Content-Type", "application/grpc")
			w.Header().Set("Trailer", "Grpc-Status")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte{0, 0, 0, 0, 0})
			w.Header().Set("Grpc-Status", "0")
		default:
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, name)
		}
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = srv.Close()
	})
	return lis.Addr().String()
}

// fakeComponents starts recording upstreams for every component.
func fakeComponents(t *testing.T) (map[ports.Component]Upstream, *recorder) {
	rec := &recorder{}
	ups := make(map[ports.Component]Upstream)
	for _, c := range ports.Components() {
		u := Upstream{
			HTTP: serve(t, string(c)+"/http", rec),
			GRPC: serve(t, string(c)+"/grpc", rec),
		}
		if c == ports.IdentityServer {
			u.Interop = serve(t, "is/interop", rec)
		}
		ups[c] = u
	}
	return ups, rec
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

// runNginx starts real nginx in the foreground with the configuration and
// stops it when the test ends. It waits (bounded) for the health port.
func runNginx(t *testing.T, bin string, c Config) *bytes.Buffer {
	t.Helper()
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "temp"), 0o700))
	c.PIDFile = filepath.Join(dir, "nginx.pid")
	c.TempDir = filepath.Join(dir, "temp")
	c.User = testUser()
	conf, err := Render(c)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "nginx.conf")
	must(t, os.WriteFile(file, []byte(conf), 0o600))
	out := &lockedBuffer{}
	cmd := exec.Command(bin, "-p", dir, "-c", file, "-e", "stderr", "-g", "daemon off;")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("nginx output:\n%s", out.String())
		}
	})
	health := fmt.Sprintf("http://127.0.0.1:%d%s", c.Listen.Health, HealthPath)
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("nginx exited: %v\n%s", err, out.String())
		default:
		}
		resp, err := (&http.Client{Timeout: time.Second}).Get(health)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not answer %s within 10s: %v\n%s", health, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &out.Buffer
}

type lockedBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.String()
}

func h2cClient() *http.Client {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Protocols: p}}
}

// grpcFrame is a gRPC length-prefixed message.
func grpcFrame(msg []byte) []byte {
	b := make([]byte, 5+len(msg))
	binary.BigEndian.PutUint32(b[1:5], uint32(len(msg)))
	copy(b[5:], msg)
	return b
}

// homeNSReq is a LoRaWAN Backend Interfaces 1.1 HomeNSReq.
const homeNSReq = `{"ProtocolVersion":"1.1","SenderID":"000013","ReceiverID":"70B3D57ED0000000","TransactionID":3203412351,"MessageType":"HomeNSReq","DevEUI":"0004A30B001C0530"}`

func checkUnchanged(t *testing.T, rec *recorder, wantUpstream, method, uri string, hdr http.Header, body []byte) seen {
	t.Helper()
	got, ok := rec.last(uri)
	if !ok {
		t.Errorf("%s %s reached no upstream; want %s", method, uri, wantUpstream)
		return seen{}
	}
	if got.upstream != wantUpstream {
		t.Errorf("%s %s reached %s, want %s", method, uri, got.upstream, wantUpstream)
	}
	if got.method != method {
		t.Errorf("%s %s: upstream saw method %s", method, uri, got.method)
	}
	for k, vs := range hdr {
		if g := got.header.Values(k); strings.Join(g, ",") != strings.Join(vs, ",") {
			t.Errorf("%s %s: upstream saw %s %q, want %q", method, uri, k, g, vs)
		}
	}
	if !bytes.Equal(got.body, body) {
		t.Errorf("%s %s: upstream saw body %q, want %q", method, uri, got.body, body)
	}
	return got
}

func TestIntegrationNLBTerminatedTLS(t *testing.T) {
	bin := nginxBinary(t)
	ups, rec := fakeComponents(t)
	p := freePorts(t, 4)
	c := Config{
		Upstreams:     ups,
		ListenAddress: "127.0.0.1",
		Listen:        Listen{HTTP: p[0], GRPC: p[1], Redirect: p[2], Health: p[3]},
	}
	runNginx(t, bin, c)
	httpBase := fmt.Sprintf("http://127.0.0.1:%d", p[0])
	grpcBase := fmt.Sprintf("http://127.0.0.1:%d", p[1])
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	t.Run("http", func(t *testing.T) {
		for _, s := range httpSamples() {
			var body []byte
			if s.method != http.MethodGet {
				body = []byte(`{"sample":"` + s.source + `"}`)
			}
			req, err := http.NewRequest(s.method, httpBase+s.path, bytes.NewReader(body))
			must(t, err)
			hdr := http.Header{
				"Authorization": {"Bearer NNSXS.ABCDEF.GHIJKL"},
				"Content-Type":  {"application/json"},
				"X-Custom":      {"a", "b"},
			}
			for k, v := range hdr {
				req.Header[k] = v
			}
			// A forged client certificate header must not pass.
			req.Header.Set(DefaultClientCertHeader, "forged")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", s.method, s.path, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s %s: status %d", s.method, s.path, resp.StatusCode)
			}
			got := checkUnchanged(t, rec, string(s.want)+"/http", s.method, s.path, hdr, body)
			if got.header == nil {
				continue
			}
			if v := got.header.Get(DefaultClientCertHeader); v != "" {
				t.Errorf("%s %s: forged %s header reached the upstream: %q", s.method, s.path, DefaultClientCertHeader, v)
			}
			if got.header.Get("X-Forwarded-Proto") != "https" || got.header.Get("X-Real-Ip") != "127.0.0.1" {
				t.Errorf("%s %s: proxy headers X-Forwarded-Proto=%q X-Real-IP=%q", s.method, s.path, got.header.Get("X-Forwarded-Proto"), got.header.Get("X-Real-Ip"))
			}
		}
	})

	t.Run("denied", func(t *testing.T) {
		before := rec.count()
		resp, err := client.Get(httpBase + "/metrics")
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || rec.count() != before {
			t.Errorf("/metrics: status %d, forwarded %v", resp.StatusCode, rec.count() != before)
		}
	})

	t.Run("grpc", func(t *testing.T) {
		h2c := h2cClient()
		for _, s := range grpcSamples() {
			body := grpcFrame([]byte("\x0a\x04app1"))
			req, err := http.NewRequest(http.MethodPost, grpcBase+s.method, bytes.NewReader(body))
			must(t, err)
			hdr := http.Header{"Content-Type": {"application/grpc"}, "Authorization": {"Bearer NNSXS.KEY"}}
			for k, v := range hdr {
				req.Header[k] = v
			}
			req.Header.Set("Te", "trailers")
			resp, err := h2c.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", s.method, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK || resp.Trailer.Get("Grpc-Status") != "0" {
				t.Errorf("%s: proto %s status %d grpc-status %q", s.method, resp.Proto, resp.StatusCode, resp.Trailer.Get("Grpc-Status"))
			}
			got := checkUnchanged(t, rec, string(s.want)+"/grpc", http.MethodPost, s.method, hdr, body)
			if got.header != nil && got.proto != "HTTP/2.0" {
				t.Errorf("%s: upstream got %s, want HTTP/2.0 (grpc_pass)", s.method, got.proto)
			}
		}
		// An internal service is answered by the proxy with UNIMPLEMENTED.
		before := rec.count()
		req, _ := http.NewRequest(http.MethodPost, grpcBase+"/ttn.lorawan.v3.GsNs/HandleUplink", bytes.NewReader(grpcFrame(nil)))
		req.Header.Set("Content-Type", "application/grpc")
		resp, err := h2c.Do(req)
		must(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Grpc-Status") != "12" || rec.count() != before {
			t.Errorf("GsNs: grpc-status %q, forwarded %v; want 12 and not forwarded", resp.Header.Get("Grpc-Status"), rec.count() != before)
		}
	})

	t.Run("websocket", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p[0]), 5*time.Second)
		must(t, err)
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprint(conn, "GET /api/v3/console/internal/events/ HTTP/1.1\r\nHost: tts.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		must(t, err)
		if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("X-Upstream") != "console/http" {
			t.Fatalf("WebSocket upgrade: status %d from %q", resp.StatusCode, resp.Header.Get("X-Upstream"))
		}
		fmt.Fprint(conn, "ping\n")
		line, err := br.ReadString('\n')
		if err != nil || line != "ping\n" {
			t.Errorf("WebSocket echo: %q, %v", line, err)
		}
	})

	t.Run("redirect", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/console?x=1", p[2]), nil)
		req.Host = "tts.example.com"
		resp, err := client.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "https://tts.example.com/console?x=1" {
			t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

func TestIntegrationProxyTLS(t *testing.T) {
	bin := nginxBinary(t)
	ups, rec := fakeComponents(t)
	trusted := newCA(t, "trusted BI client CA")
	untrusted := newCA(t, "untrusted CA")
	files := writeTLSFiles(t, trusted)
	peerCert, peerPEM := trusted.keyPair(t, "ns.example.net", x509.ExtKeyUsageClientAuth)
	strangerCert, _ := untrusted.keyPair(t, "stranger.example.net", x509.ExtKeyUsageClientAuth)
	roots := x509.NewCertPool()
	roots.AddCert(files.serverCA.cert)

	client := func(cert *tls.Certificate, h2 bool) *http.Client {
		tc := &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12}
		if cert != nil {
			// Always present the certificate, even when the server's CA list
			// does not name its issuer.
			tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		}
		tr := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		return &http.Client{Timeout: 10 * time.Second, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	post := func(t *testing.T, cl *http.Client, base, uri string, hdr http.Header) (*http.Response, error) {
		req, err := http.NewRequest(http.MethodPost, base+uri, strings.NewReader(homeNSReq))
		must(t, err)
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := cl.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}

	for _, mode := range []ClientCertMode{ClientCertOptional, ClientCertRequired} {
		t.Run(string(mode), func(t *testing.T) {
			p := freePorts(t, 6)
			c := Config{
				SupportProxyTLS: true,
				Upstreams:       ups,
				ListenAddress:   "127.0.0.1",
				Listen:          Listen{HTTP: p[0], GRPC: p[1], HTTPS: p[2], Interop: p[3], Redirect: p[4], Health: p[5]},
				PublicHTTPSPort: p[2],
				CertDir:         files.certDir,
				ClientCert:      ClientCert{Mode: mode, CAFile: files.caFile},
			}
			runNginx(t, bin, c)
			interop := fmt.Sprintf("https://127.0.0.1:%d", p[3])
			jsonHdr := http.Header{"Content-Type": {"application/json"}}

			// A BI peer with a certificate from the trusted CA.
			uri := "/?mode=" + string(mode) + "&peer=trusted"
			resp, err := post(t, client(&peerCert, false), interop, uri, jsonHdr)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("trusted peer: %v %v", resp, err)
			}
			got := checkUnchanged(t, rec, "is/interop", http.MethodPost, uri, jsonHdr, []byte(homeNSReq))
			if got.header != nil {
				certHdr, err := url.PathUnescape(got.header.Get(DefaultClientCertHeader))
				if err != nil || strings.TrimSpace(certHdr) != strings.TrimSpace(string(peerPEM)) {
					t.Errorf("trusted peer: %s header %q does not carry the client certificate (%v)", DefaultClientCertHeader, got.header.Get(DefaultClientCertHeader), err)
				}
			}

			// A peer with a certificate from another CA is refused.
			before := rec.count()
			resp, err = post(t, client(&strangerCert, false), interop, "/?peer=untrusted", jsonHdr)
			if err == nil && resp.StatusCode < 400 {
				t.Errorf("untrusted peer: status %d, want refusal", resp.StatusCode)
			}
			if rec.count() != before {
				t.Error("untrusted peer's request reached the IS")
			}

			// Packet Broker: bearer token, no client certificate.
			pbHdr := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJwYiJ9.c2ln"}}
			uri = "/?mode=" + string(mode) + "&peer=packetbroker"
			before = rec.count()
			resp, err = post(t, client(nil, false), interop, uri, pbHdr)
			switch mode {
			case ClientCertOptional:
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("Packet Broker in optional mode: %v %v", resp, err)
				}
				got := checkUnchanged(t, rec, "is/interop", http.MethodPost, uri, pbHdr, []byte(homeNSReq))
				if got.header != nil && got.header.Get(DefaultClientCertHeader) != "" {
					t.Errorf("Packet Broker: unexpected %s header", DefaultClientCertHeader)
				}
			case ClientCertRequired:
				if (err == nil && resp.StatusCode < 400) || rec.count() != before {
					t.Errorf("no client certificate in required mode must be refused: %v %v", resp, err)
				}
			}

			// 443 serves HTTP/2 and HTTP/1.1.
			https := fmt.Sprintf("https://127.0.0.1:%d", p[2])
			for _, h2 := range []bool{true, false} {
				uri := fmt.Sprintf("/api/v3/users/admin?field_mask=name&h2=%v&mode=%s", h2, mode)
				resp, err := client(nil, h2).Get(https + uri)
				if err != nil {
					t.Fatalf("GET %s: %v", uri, err)
				}
				resp.Body.Close()
				wantMajor := 1
				if h2 {
					wantMajor = 2
				}
				if resp.ProtoMajor != wantMajor || resp.StatusCode != http.StatusOK {
					t.Errorf("443 with h2=%v: %s %d", h2, resp.Proto, resp.StatusCode)
				}
				checkUnchanged(t, rec, "is/http", http.MethodGet, uri, nil, nil)
			}

			// 80 redirects to https.
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/api/v3/applications?x=1", p[4]), nil)
			req.Host = "tts.example.com"
			resp, err = client(nil, false).Do(req)
			must(t, err)
			resp.Body.Close()
			want := fmt.Sprintf("https://tts.example.com:%d/api/v3/applications?x=1", p[2])
			if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
				t.Errorf("redirect: %d %q, want 301 %q", resp.StatusCode, resp.Header.Get("Location"), want)
			}
		})
	}
}
