package params

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/testpki"
)

// proxyTLS is good with the proxy terminating TLS and interop on.
const proxyTLS = good + "SupportProxyTLS: true\nAcmeEmail: ops@example.net\nInteropEnabled: true\n"

func loadFS(t *testing.T, data string, files fstest.MapFS) (*Params, Problems) {
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
	if w := warningsOf(problems, "InteropClientCertMode"); p == nil || len(w) != 1 || !strings.Contains(w[0].Message, "Packet Broker") {
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
		name, file, location, key, words string
	}{
		{"mode without proxy TLS", good + "InteropEnabled: true\nInteropClientCertMode: optional\nInteropClientCAFile: bi/ca.pem\n",
			"params/test.yaml:9", "InteropClientCertMode", "the Network Load Balancer terminates TLS on 8886"},
		{"mode without proxy TLS says what to do", good + "InteropEnabled: true\nInteropClientCertMode: required\n",
			"params/test.yaml:9", "InteropClientCertMode", "Set SupportProxyTLS: true"},
		{"CA file without proxy TLS", good + "InteropEnabled: true\nInteropClientCAFile: bi/ca.pem\n",
			"params/test.yaml:9", "InteropClientCAFile", "can neither ask for nor verify"},
		{"unknown mode", proxyTLS + "InteropClientCertMode: on\n", "params/test.yaml:11", "InteropClientCertMode", "use off, optional or required"},
		{"without interop", good + "SupportProxyTLS: true\nAcmeEmail: ops@example.net\nInteropClientCertMode: optional\nInteropClientCAFile: bi/ca.pem\n",
			"params/test.yaml:10", "InteropClientCertMode", "set InteropEnabled: true"},
		{"mode without CA file", proxyTLS + "InteropClientCertMode: optional\n", "params/test.yaml:11", "InteropClientCertMode", "set InteropClientCAFile"},
		{"CA file with mode off", proxyTLS + "InteropClientCAFile: bi/ca.pem\n", "params/test.yaml:11", "InteropClientCAFile", "set InteropClientCertMode: optional"},
		{"CA file outside", proxyTLS + "InteropClientCertMode: optional\nInteropClientCAFile: ../ca.pem\n", "params/test.yaml:12", "InteropClientCAFile", "below the parameter file"},
		{"CA file missing", proxyTLS + "InteropClientCertMode: optional\nInteropClientCAFile: bi/missing.pem\n", "params/test.yaml:12", "InteropClientCAFile", "cannot read params/bi/missing.pem"},
		{"leaf instead of CA", proxyTLS + "InteropClientCertMode: optional\nInteropClientCAFile: bi/leaf.pem\n", "params/test.yaml:12", "InteropClientCAFile", "params/bi/leaf.pem: certificate 1 (CN=ns.example.net) is not a CA certificate"},
		{"private key in the bundle", proxyTLS + "InteropClientCertMode: optional\nInteropClientCAFile: bi/key.pem\n", "params/test.yaml:12", "InteropClientCAFile", "params/bi/key.pem: PEM block 2 is a PRIVATE KEY"},
		{"no PEM", proxyTLS + "InteropClientCertMode: optional\nInteropClientCAFile: bi/text.pem\n", "params/test.yaml:12", "InteropClientCAFile", "params/bi/text.pem: holds no PEM certificate"},
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
			expectProblem(t, problems, c.location, c.key, c.words)
		})
	}
}

func TestCheckCABundleRefusesExpiredAndFutureCAs(t *testing.T) {
	ca := testpki.New(t)
	if err := CheckCABundle(ca.RootPEM, time.Now()); err != nil {
		t.Fatalf("a current CA is refused: %v", err)
	}
	if err := CheckCABundle(ca.RootPEM, time.Now().AddDate(11, 0, 0)); err == nil || !strings.Contains(err.Error(), "expired on") {
		t.Errorf("expired CA: %v, want an error saying it expired", err)
	}
	if err := CheckCABundle(ca.RootPEM, time.Now().AddDate(0, 0, -1)); err == nil || !strings.Contains(err.Error(), "valid only from") {
		t.Errorf("future CA: %v, want an error saying from when it is valid", err)
	}
	if err := CheckCABundle([]byte(strings.Repeat("x", MaxClientCABytes+1)), time.Now()); err == nil || !strings.Contains(err.Error(), "task definition") {
		t.Errorf("oversized bundle: %v", err)
	}
}
