package params

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/testpki"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// proxyTLS is good with the proxy terminating TLS and interop on.
const proxyTLS = good + "SupportProxyTLS: true\nAcmeEmail: ops@example.net\nInteropEnabled: true\n"

func loadFS(t *testing.T, data string, files fstest.MapFS) (*Params, diag.List) {
	t.Helper()
	files["test.yaml"] = &fstest.MapFile{Data: []byte(data)}
	return Load(Source{File: "params/test.yaml", FS: files, Dir: "."}, []byte(data), nil)
}

func TestClientCABundleIsLoadedAndChecked(t *testing.T) {
	ca := testpki.New(t)
	bundle := append(append([]byte{}, ca.RootPEM...), ca.InterPEM...)
	p, problems := loadFS(t, proxyTLS+"InteropClientCertMode: optional\nInteropClientCAFile: bi/ca.pem\n",
		fstest.MapFS{"bi/ca.pem": {Data: bundle}})
	if p == nil {
		t.Fatalf("rejected:\n%v", problems)
	}
	if string(p.InteropClientCA()) != string(bundle) {
		t.Error("InteropClientCA does not return the file's content")
	}
	if p.InteropClientCertMode != ClientCertOptional {
		t.Errorf("mode %q", p.InteropClientCertMode)
	}

	// Required mode with Packet Broker: accepted, with a warning.
	p, problems = loadFS(t, proxyTLS+"InteropPacketBrokerEnabled: true\nInteropClientCertMode: required\nInteropClientCAFile: bi/ca.pem\n",
		fstest.MapFS{"bi/ca.pem": {Data: bundle}})
	if w := warningsOf(problems, "InteropClientCertMode"); p == nil || len(w) != 1 || w[0].Code != "params.client-cert-refuses-packet-broker" {
		t.Errorf("required mode with Packet Broker: %v, want one warning about Packet Broker", problems)
	}

	// Defaults: off, nothing loaded.
	p, _ = load(t, good, nil)
	if p.InteropClientCertMode != ClientCertOff || p.InteropClientCA() != nil {
		t.Errorf("default mode %q with CA %q, want off and none", p.InteropClientCertMode, p.InteropClientCA())
	}
}

func TestBadClientCertParameters(t *testing.T) {
	ca := testpki.New(t)
	leaf := ca.IssueDays(t, []string{"ns.example.net"}, 30)
	files := fstest.MapFS{
		"bi/ca.pem":   {Data: ca.RootPEM},
		"bi/leaf.pem": {Data: leaf.CertPEM},
		"bi/key.pem":  {Data: append(append([]byte{}, ca.RootPEM...), leaf.KeyPEM...)},
		"bi/text.pem": {Data: []byte("not a certificate\n")},
	}
	for _, c := range []struct {
		name, file, location, key, code string
	}{
		{"mode without proxy TLS", good + "InteropEnabled: true\nInteropClientCertMode: optional\nInteropClientCAFile: bi/ca.pem\n",
			"params/test.yaml:9", "InteropClientCertMode", "params.client-cert-needs-proxy-tls"},
		{"mode without proxy TLS says what to do", good + "InteropEnabled: true\nInteropClientCertMode: required\n",
			"params/test.yaml:9", "InteropClientCertMode", "params.client-cert-needs-proxy-tls"},
		{"CA file without proxy TLS", good + "InteropEnabled: true\nInteropClientCAFile: bi/ca.pem\n",
			"params/test.yaml:9", "InteropClientCAFile", "params.client-cert-needs-proxy-tls"},
		{"unknown mode", proxyTLS + "InteropClientCertMode: on\n", "params/test.yaml:11", "InteropClientCertMode", "params.client-cert-mode"},
		{"without interop", good + "SupportProxyTLS: true\nAcmeEmail: ops@example.net\nInteropClientCertMode: optional\nInteropClientCAFile: bi/ca.pem\n",
			"params/test.yaml:10", "InteropClientCertMode", "params.client-cert-needs-interop"},
		{"mode without CA file", proxyTLS + "InteropClientCertMode: optional\n", "params/test.yaml:11", "InteropClientCertMode", "params.client-ca-missing"},
		{"CA file with mode off", proxyTLS + "InteropClientCAFile: bi/ca.pem\n", "params/test.yaml:11", "InteropClientCAFile", "params.client-ca-unused"},
		{"CA file outside", proxyTLS + "InteropClientCertMode: optional\nInteropClientCAFile: ../ca.pem\n", "params/test.yaml:12", "InteropClientCAFile", "params.client-ca-path"},
		{"CA file missing", proxyTLS + "InteropClientCertMode: optional\nInteropClientCAFile: bi/missing.pem\n", "params/test.yaml:12", "InteropClientCAFile", "params.client-ca-unreadable"},
		{"leaf instead of CA", proxyTLS + "InteropClientCertMode: optional\nInteropClientCAFile: bi/leaf.pem\n", "params/test.yaml:12", "InteropClientCAFile", "params.ca-bundle-not-ca"},
		{"private key in the bundle", proxyTLS + "InteropClientCertMode: optional\nInteropClientCAFile: bi/key.pem\n", "params/test.yaml:12", "InteropClientCAFile", "params.ca-bundle-not-certificate"},
		{"no PEM", proxyTLS + "InteropClientCertMode: optional\nInteropClientCAFile: bi/text.pem\n", "params/test.yaml:12", "InteropClientCAFile", "params.ca-bundle-empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for k, v := range files {
				fsys[k] = v
			}
			p, problems := loadFS(t, c.file, fsys)
			if p != nil {
				t.Error("accepted; want an error")
			}
			expectProblem(t, problems, c.location, c.key, c.code)
		})
	}
}

func TestCheckCABundleRefusesExpiredAndFutureCAs(t *testing.T) {
	ca := testpki.New(t)
	if got := CheckCABundle(ca.RootPEM, time.Now()); len(got) > 0 {
		t.Fatalf("a current CA is refused: %v", got)
	}
	if got := CheckCABundle(ca.RootPEM, time.Now().AddDate(11, 0, 0)); !got.Has("params.ca-bundle-expired") {
		t.Errorf("expired CA: %v, want an error saying it expired", got)
	}
	if got := CheckCABundle(ca.RootPEM, time.Now().AddDate(0, 0, -1)); !got.Has("params.ca-bundle-not-yet-valid") {
		t.Errorf("future CA: %v, want an error saying from when it is valid", got)
	}
	if got := CheckCABundle([]byte(strings.Repeat("x", MaxClientCABytes+1)), time.Now()); !got.Has("params.ca-bundle-too-large") {
		t.Errorf("oversized bundle: %v", got)
	}
}
