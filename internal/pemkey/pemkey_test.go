package pemkey

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
)

func TestParseEveryForm(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		block pem.Block
	}{
		{"PKCS#8 EC", pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8(ec)}},
		{"PKCS#8 RSA", pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8(rk)}},
		{"PKCS#8 Ed25519", pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8(ed)}},
		{"SEC 1", pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}},
		{"PKCS#1", pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}},
	} {
		if _, err := Parse(&c.block); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if _, err := Parse(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: pkcs8(ec)}); !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("encrypted key: %v, want ErrUnsupportedType", err)
	}
	if _, err := Parse(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("junk")}); err == nil || errors.Is(err, ErrUnsupportedType) {
		t.Errorf("malformed key: %v, want a parse error", err)
	}
}
