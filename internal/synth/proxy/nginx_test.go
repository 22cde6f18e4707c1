package proxy

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// nginxBinary returns the nginx executable. Where nginx is missing the test
// says so loudly and skips; under CI=true that is a failure.
func nginxBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "NGINX NOT FOUND: install nginx (apt-get install nginx-light or nginx) to run the proxy's nginx tests"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: a missing tool is a failure)")
	}
	t.Log("!!!!!!!! " + msg + " !!!!!!!!")
	t.Skip(msg)
	return ""
}

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a leaf certificate PEM and key PEM.
func (ca *testCA) issue(t *testing.T, cn string, dns []string, ips []net.IP, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     dns,
		IPAddresses:  ips,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func (ca *testCA) keyPair(t *testing.T, cn string, usage x509.ExtKeyUsage) (tls.Certificate, []byte) {
	t.Helper()
	c, k := ca.issue(t, cn, []string{cn}, nil, usage)
	pair, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return pair, c
}

// tlsFiles writes a server certificate for localhost/127.0.0.1 and a client
// CA bundle into a temp dir.
type tlsFiles struct {
	certDir, caFile string
	serverCA        *testCA
}

func writeTLSFiles(t *testing.T, clientCA *testCA) tlsFiles {
	t.Helper()
	dir := t.TempDir()
	certDir := filepath.Join(dir, "tls")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	serverCA := newCA(t, "test server CA")
	c, k := serverCA.issue(t, "localhost", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}, x509.ExtKeyUsageServerAuth)
	must(t, os.WriteFile(filepath.Join(certDir, CertFile), append(c, serverCA.pem...), 0o600))
	must(t, os.WriteFile(filepath.Join(certDir, KeyFile), k, 0o600))
	caFile := filepath.Join(dir, "bi-client-ca.pem")
	must(t, os.WriteFile(caFile, clientCA.pem, 0o600))
	return tlsFiles{certDir: certDir, caFile: caFile, serverCA: serverCA}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// loopbackUpstreams points every component at distinct loopback ports (which
// need not listen for `nginx -t`).
func loopbackUpstreams() map[ports.Component]Upstream {
	out := make(map[ports.Component]Upstream)
	for i, c := range ports.Components() {
		out[c] = Upstream{
			HTTP:    fmt.Sprintf("127.0.0.1:%d", 21000+i),
			GRPC:    fmt.Sprintf("127.0.0.1:%d", 22000+i),
			Interop: fmt.Sprintf("127.0.0.1:%d", 23000+i),
		}
	}
	return out
}

// nginxTest runs `nginx -t` on the configuration.
func nginxTest(t *testing.T, bin, conf string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "nginx.conf")
	must(t, os.WriteFile(file, []byte(conf), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-t", "-p", dir, "-c", file, "-e", "stderr").CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t rejected the configuration: %v\n%s\n--- nginx.conf ---\n%s", err, out, numbered(conf))
	}
	if bytes.Contains(out, []byte("[warn]")) || bytes.Contains(out, []byte("[emerg]")) {
		t.Errorf("nginx -t warned:\n%s", out)
	}
}

func numbered(s string) string {
	var b strings.Builder
	for i, l := range strings.Split(s, "\n") {
		fmt.Fprintf(&b, "%4d %s\n", i+1, l)
	}
	return b.String()
}

func testUser() string {
	if os.Geteuid() == 0 {
		return "root"
	}
	return ""
}

func TestNginxAcceptsEveryMode(t *testing.T) {
	bin := nginxBinary(t)
	clientCA := newCA(t, "BI client CA")
	files := writeTLSFiles(t, clientCA)
	tmp := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(tmp, "temp"), 0o700))
	base := Config{
		Upstreams: loopbackUpstreams(),
		PIDFile:   filepath.Join(tmp, "nginx.pid"),
		TempDir:   filepath.Join(tmp, "temp"),
		User:      testUser(),
		CertDir:   files.certDir,
	}
	cases := map[string]func(c *Config){
		"nlb-tls":                func(c *Config) {},
		"nlb-tls-proxy-protocol": func(c *Config) { c.ProxyProtocol, c.TrustedProxyCIDRs = true, []string{"10.0.0.0/16"} },
		"proxy-tls-cert-off":     func(c *Config) { c.SupportProxyTLS = true },
		"proxy-tls-no-interop":   func(c *Config) { c.SupportProxyTLS, c.NoInterop = true, true },
		"proxy-tls-cert-optional": func(c *Config) {
			c.SupportProxyTLS = true
			c.ClientCert = ClientCert{Mode: ClientCertOptional, CAFile: files.caFile}
		},
		"proxy-tls-cert-required": func(c *Config) {
			c.SupportProxyTLS = true
			c.ClientCert = ClientCert{Mode: ClientCertRequired, CAFile: files.caFile, Header: "X-SSL-Client-Cert", VerifyDepth: 3}
		},
		"proxy-tls-proxy-protocol": func(c *Config) {
			c.SupportProxyTLS = true
			c.ProxyProtocol, c.TrustedProxyCIDRs = true, []string{"10.0.0.0/16", "fd00::/8"}
			c.ClientCert = ClientCert{Mode: ClientCertOptional, CAFile: files.caFile}
		},
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			c := base
			mod(&c)
			conf, err := Render(c)
			if err != nil {
				t.Fatal(err)
			}
			nginxTest(t, bin, conf)
		})
	}
}

func TestRenderUsesPortTableDefaults(t *testing.T) {
	conf, err := Render(Config{Upstreams: ServiceConnectUpstreams("tts.local"), SupportProxyTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"listen 1885;", "listen 1884 http2;", "listen 443 ssl http2;", "listen 8886 ssl;", "listen 80;", "listen 1880;",
		"server is.tts.local:1885;", "server is.tts.local:1884;", "server is.tts.local:1886;",
		"ssl_certificate /etc/nginx/tls/fullchain.pem;", "ssl_certificate_key /etc/nginx/tls/privkey.pem;",
		"ssl_protocols TLSv1.2 TLSv1.3;", "worker_shutdown_timeout 60s;",
		"location /ttn.lorawan.v3.AppAs/ {", "grpc_pass grpc://tts_as_grpc;",
		"proxy_set_header X-Client-Cert \"\";",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("rendered configuration lacks %q", want)
		}
	}
	for _, internal := range InternalServices() {
		if strings.Contains(conf, "/"+internal.Service+"/") {
			t.Errorf("internal service %s is routed", internal.Service)
		}
	}
	nlb, err := Render(Config{Upstreams: ServiceConnectUpstreams("tts.local")})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(nlb, "ssl_certificate") || strings.Contains(nlb, "8886") {
		t.Error("NLB-terminated mode must not need certificates nor serve 8886")
	}
}

func TestNoInteropLeavesOutTheInteropListener(t *testing.T) {
	conf, err := Render(Config{Upstreams: ServiceConnectUpstreams("tts.local"), SupportProxyTLS: true, NoInterop: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(conf, "listen 443 ssl http2;") {
		t.Error("NoInterop must keep the HTTPS listener")
	}
	if strings.Contains(conf, "8886") || strings.Contains(conf, "1886") || strings.Contains(conf, "tts_is_interop") {
		t.Error("NoInterop must leave out the interop listener and its upstream")
	}
	_, err = Render(Config{Upstreams: ServiceConnectUpstreams("tts.local"), SupportProxyTLS: true, NoInterop: true,
		ClientCert: ClientCert{Mode: ClientCertOptional, CAFile: "/etc/nginx/bi/ca.pem"}})
	if !hasProblem(err, "proxy.client-cert-needs-interop", "ClientCert.Mode") {
		t.Errorf("client certificates without the interop listener must be refused, got %v", err)
	}
}

func TestValidateReportsAllProblems(t *testing.T) {
	ups := ServiceConnectUpstreams("tts.local")
	delete(ups, ports.DeviceRepository)
	ups[ports.GatewayServer] = Upstream{HTTP: "gs.tts.local", GRPC: "gs.tts.local:1884"}
	ups["qrs"] = Upstream{HTTP: "qrs:1", GRPC: "qrs:2"}
	_, err := Render(Config{
		Upstreams:  ups,
		Listen:     Listen{HTTP: 1884},
		ClientCert: ClientCert{Mode: "sometimes", Header: "Bad Header"},
	})
	if err == nil {
		t.Fatal("Render accepted an invalid configuration")
	}
	for _, want := range []struct{ code, path string }{
		{"proxy.missing-upstream", "Upstreams"},
		{"proxy.bad-address", `Upstreams["gs"].HTTP`},
		{"proxy.unknown-component", "Upstreams"},
		{"proxy.port-conflict", "Listen.GRPC"},
		{"proxy.unknown-client-cert-mode", "ClientCert.Mode"},
		{"proxy.bad-header-name", "ClientCert.Header"},
	} {
		if !hasProblem(err, want.code, want.path) {
			t.Errorf("no %s at %s:\n%v", want.code, want.path, err)
		}
	}

	_, err = Render(Config{Upstreams: ServiceConnectUpstreams("tts.local"), ClientCert: ClientCert{Mode: ClientCertRequired}})
	if !hasProblem(err, "proxy.client-cert-needs-proxy-tls", "ClientCert.Mode") || !hasProblem(err, "proxy.bad-path", "ClientCert.CAFile") {
		t.Errorf("client certificates without proxy TLS or CA file must be refused, got %v", err)
	}
	_, err = Render(Config{Upstreams: ServiceConnectUpstreams("tts.local"), ProxyProtocol: true})
	if !hasProblem(err, "proxy.missing-trusted-cidrs", "TrustedProxyCIDRs") {
		t.Errorf("PROXY protocol without trusted CIDRs must be refused, got %v", err)
	}
	ups = ServiceConnectUpstreams("tts.local")
	ups[ports.IdentityServer] = Upstream{HTTP: "is:1885", GRPC: "is:1884"}
	_, err = Render(Config{Upstreams: ups, SupportProxyTLS: true})
	if !hasProblem(err, "proxy.bad-address", `Upstreams["is"].Interop`) {
		t.Errorf("proxy TLS without an IS interop upstream must be refused, got %v", err)
	}
}

// hasProblem tells whether err holds a diagnostic of the code about path.
func hasProblem(err error, code, path string) bool {
	for _, d := range diag.FromError(err) {
		if d.Code == code && d.Path == path {
			return true
		}
	}
	return false
}
