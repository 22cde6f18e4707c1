// Package pemkey reads a private key from its PEM block, in the three forms
// that Go's TLS stack and The Things Stack accept: PKCS#8 ("PRIVATE KEY"),
// SEC 1 ("EC PRIVATE KEY") and PKCS#1 ("RSA PRIVATE KEY"). The interop
// repository's checker and the proxy's certificate secret both use it, so
// that a key one of them accepts is a key the other accepts.
package pemkey

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ErrUnsupportedType is returned (wrapped) for a block of another type, an
// encrypted key among them.
var ErrUnsupportedType = errors.New("unsupported private key type")

// Types are the PEM block types Parse reads.
func Types() []string { return []string{"PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"} }

// Parse returns the key of b as a crypto.Signer.
func Parse(b *pem.Block) (crypto.Signer, error) {
	var k any
	var err error
	switch b.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("%w %q", ErrUnsupportedType, b.Type)
	}
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: a %T cannot sign", ErrUnsupportedType, k)
	}
	return s, nil
}
