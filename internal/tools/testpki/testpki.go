// Package testpki issues throw-away certificates for tests: a root, an
// intermediate and leaves signed by the intermediate, like a public CA.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// CA is a root plus an intermediate.
type CA struct {
	Root, Inter       *x509.Certificate
	RootKey, InterKey *ecdsa.PrivateKey
	RootPEM, InterPEM []byte
}

// New creates a CA valid from an hour ago for ten years.
func New(t testing.TB) *CA {
	t.Helper()
	now := time.Now()
	ca := &CA{}
	ca.RootKey = key(t)
	ca.Root, ca.RootPEM = sign(t, &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "testpki root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, ca.RootKey, ca.RootKey)
	ca.InterKey = key(t)
	ca.Inter, ca.InterPEM = sign(t, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "testpki intermediate"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, ca.Root, ca.InterKey, ca.RootKey)
	return ca
}

// Leaf is an issued certificate.
type Leaf struct {
	Cert    *x509.Certificate
	CertPEM []byte
	KeyPEM  []byte // PKCS#8
}

// Issue signs a leaf for names (host names or IP addresses) valid from
// notBefore to notAfter.
func (ca *CA) Issue(t testing.TB, names []string, notBefore, notAfter time.Time) Leaf {
	t.Helper()
	var dns []string
	var ips []net.IP
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, n)
		}
	}
	k := key(t)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	c, p := sign(t, &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: names[0]}, DNSNames: dns, IPAddresses: ips,
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca.Inter, k, ca.InterKey)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return Leaf{Cert: c, CertPEM: p, KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})}
}

// IssueDays signs a leaf valid from an hour ago for the given days; negative
// days give a leaf that expired that long ago.
func (ca *CA) IssueDays(t testing.TB, names []string, days float64) Leaf {
	now := time.Now()
	notAfter := now.Add(time.Duration(days * 24 * float64(time.Hour)))
	notBefore := now.Add(-time.Hour)
	if !notAfter.After(notBefore) {
		notBefore = notAfter.Add(-90 * 24 * time.Hour)
	}
	return ca.Issue(t, names, notBefore, notAfter)
}

func key(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sign(t testing.TB, tmpl, parent *x509.Certificate, k, parentKey *ecdsa.PrivateKey) (*x509.Certificate, []byte) {
	t.Helper()
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
