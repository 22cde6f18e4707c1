package interop

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

func TestKeyVaultSource(t *testing.T) {
	cert, _ := genCert(t, certOpts{})
	ca, _ := genCert(t, certOpts{isCA: true})
	head := "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  source: 'key-vault' #<\n"
	for _, c := range []struct {
		name, tls string
		sev       diag.Severity
		code      string
	}{
		{"alone", "", diag.Error, "interop.key-vault"},
		{"with certificate and key", "  certificate: 'c.pem'\n  key: {secret: 'k'}\n", diag.Error, "interop.key-vault"},
		{"with root-ca only", "  root-ca: 'ca.pem'\n", diag.Warning, "interop.key-vault-root-ca"},
	} {
		t.Run(c.name, func(t *testing.T) {
			js := head + c.tls
			_, probs := Load(repoFS(map[string]string{"config.yml": goodConfig, "js.yml": js, "c.pem": cert, "ca.pem": ca}), ".", testNow)
			requireProblem(t, probs, c.code, "js.yml", lineOf(t, js, "#<"))
			if c.sev == diag.Warning && probs.HasErrors() {
				t.Errorf("want only the warning:\n%s", dump(probs))
			}
		})
	}
}

// TestClientCertificateCallbackFailure backs the key-vault messages with a
// real TLS handshake: with source key-vault TTS installs a
// GetClientCertificate callback that asks the key vault, which has no
// certificate for the empty name and returns an error. Go then aborts the
// handshake as soon as the server asks for a client certificate, even when
// the server only requests one; a server that asks for none is reached.
func TestClientCertificateCallbackFailure(t *testing.T) {
	for _, c := range []struct {
		auth   tls.ClientAuthType
		wantOK bool
	}{
		{tls.NoClientCert, true},
		{tls.RequestClientCert, false},
		{tls.RequireAnyClientCert, false},
	} {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		srv.TLS = &tls.Config{ClientAuth: c.auth}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
		srv.StartTLS()
		roots := x509.NewCertPool()
		roots.AddCert(srv.Certificate())
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: roots,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				return nil, errors.New("certificate_not_found")
			},
		}}}
		res, err := client.Post(srv.URL, "application/json", nil)
		if err == nil {
			res.Body.Close()
		}
		if (err == nil) != c.wantOK {
			t.Errorf("server %v: error %v, want success %v", c.auth, err, c.wantOK)
		}
		srv.Close()
	}
}
