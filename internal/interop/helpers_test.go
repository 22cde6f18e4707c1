package interop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// testNow is the fixed "now" of the tests that build their own certificates.
var testNow = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// repoFS builds a repository from path -> content. Content may contain the
// marker "#<" at the end of a line; tests find expected lines with lineOf.
func repoFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for p, c := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(c)}
	}
	return fsys
}

// lineOf returns the 1-based line of the first line of content containing marker.
func lineOf(t *testing.T, content, marker string) int {
	t.Helper()
	for i, l := range strings.Split(content, "\n") {
		if strings.Contains(l, marker) {
			return i + 1
		}
	}
	t.Fatalf("marker %q not found in:\n%s", marker, content)
	return 0
}

// findProblem returns the problem with the code (any code when code is "")
// in file at line.
func findProblem(ps diag.List, code, file string, line int) *diag.Diagnostic {
	for i, p := range ps {
		if (code == "" || p.Code == code) && p.File == file && p.Line == line {
			return &ps[i]
		}
	}
	return nil
}

func requireProblem(t *testing.T, ps diag.List, code, file string, line int) {
	t.Helper()
	if findProblem(ps, code, file, line) == nil {
		t.Errorf("want %s at %s:%d; got:\n%s", code, file, line, dump(ps))
	}
}

func dump(ps diag.List) string {
	if len(ps) == 0 {
		return "  (no problems)"
	}
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.Code + " " + p.String() + "\n")
	}
	return b.String()
}

type certOpts struct {
	notBefore, notAfter time.Time
	eku                 []x509.ExtKeyUsage
	isCA                bool
}

// genCert returns a self-signed EC P-256 certificate and its PKCS#8 key, in PEM.
func genCert(t *testing.T, o certOpts) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if o.notBefore.IsZero() {
		o.notBefore = testNow.AddDate(-1, 0, 0)
	}
	if o.notAfter.IsZero() {
		o.notAfter = testNow.AddDate(5, 0, 0)
	}
	if o.eku == nil && !o.isCA {
		o.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "test"},
		NotBefore:    o.notBefore, NotAfter: o.notAfter,
		ExtKeyUsage: o.eku, IsCA: o.isCA, BasicConstraintsValid: o.isCA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}
