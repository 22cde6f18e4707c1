// Package certsecret defines the JSON document that holds the proxy's TLS
// certificate in AWS Secrets Manager. The Certbot deploy hook writes it, the
// proxy sidecar (certsync) and the Certbot task read it. Both directions go
// through this package so that the format and its validation are defined once.
package certsecret

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/pemkey"
)

// FormatVersion is the value of the "format" field written by this package.
const FormatVersion = 1

// Sentinel errors, usable with errors.Is on the result of Validate.
var (
	ErrMalformed   = errors.New("certificate secret is malformed")
	ErrKeyMismatch = errors.New("private key does not match the certificate")
	ErrExpired     = errors.New("certificate is expired or not yet valid")
	ErrNoChain     = errors.New("certificate chain is missing or does not sign the certificate")
	ErrDomain      = errors.New("certificate does not cover the required domain")
)

// Secret is the stored document. PEM fields hold PEM text; the metadata fields
// (Serial, NotBefore, NotAfter, Domains) are derived from the leaf certificate
// and checked against it by Validate, so a reader can trust them after
// validation and an operator can read them in the console.
type Secret struct {
	Format      int       `json:"format"`
	Domains     []string  `json:"domains"`
	Serial      string    `json:"serial"`
	NotBefore   time.Time `json:"notBefore"`
	NotAfter    time.Time `json:"notAfter"`
	Certificate string    `json:"certificate"`
	Chain       string    `json:"chain"`
	FullChain   string    `json:"fullchain"`
	PrivateKey  string    `json:"privateKey"`
}

// New builds a Secret from PEM data: the leaf certificate, the chain (the
// intermediates, in order) and the private key. The metadata is derived from
// the leaf. New checks that the data parses; call Validate for the full check.
func New(certPEM, chainPEM, keyPEM []byte) (*Secret, error) {
	leaves, err := parseCerts(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: leaf certificate: %v", ErrMalformed, err)
	}
	if len(leaves) != 1 {
		return nil, fmt.Errorf("%w: expected exactly one leaf certificate, found %d", ErrMalformed, len(leaves))
	}
	leaf := leaves[0]
	cert := strings.TrimSpace(string(certPEM)) + "\n"
	chain := strings.TrimSpace(string(chainPEM))
	if chain != "" {
		chain += "\n"
	}
	return &Secret{
		Format:      FormatVersion,
		Domains:     certDomains(leaf),
		Serial:      SerialHex(leaf),
		NotBefore:   leaf.NotBefore.UTC(),
		NotAfter:    leaf.NotAfter.UTC(),
		Certificate: cert,
		Chain:       chain,
		FullChain:   cert + chain,
		PrivateKey:  strings.TrimSpace(string(keyPEM)) + "\n",
	}, nil
}

// FromLineage reads a Certbot lineage directory (cert.pem, chain.pem,
// privkey.pem, as in /etc/letsencrypt/live/NAME) and builds a Secret.
func FromLineage(dir string) (*Secret, error) {
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read %s from certbot lineage %s (is RENEWED_LINEAGE right?): %w", name, dir, err)
		}
		return b, nil
	}
	cert, err := read("cert.pem")
	if err != nil {
		return nil, err
	}
	chain, err := read("chain.pem")
	if err != nil {
		return nil, err
	}
	key, err := read("privkey.pem")
	if err != nil {
		return nil, err
	}
	return New(cert, chain, key)
}

// Parse decodes a stored document. It checks the JSON shape and format
// version only; call Validate before using the certificate.
func Parse(data []byte) (*Secret, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Secret
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: decode JSON: %v", ErrMalformed, err)
	}
	if s.Format != FormatVersion {
		return nil, fmt.Errorf("%w: format %d, this program reads format %d (update the program or re-issue the certificate)", ErrMalformed, s.Format, FormatVersion)
	}
	return &s, nil
}

// Marshal encodes the document. The output depends only on the certificate
// data, so storing the same certificate twice yields identical bytes.
func (s *Secret) Marshal() ([]byte, error) {
	return json.MarshalIndent(s, "", "  ")
}

// Checks selects the optional parts of Validate.
type Checks struct {
	// Now is the time for the expiry check. Zero means time.Now().
	Now time.Time
	// Domains must each be covered by the certificate (wildcards allowed:
	// "*.example.com" is covered by a certificate for "*.example.com").
	Domains []string
}

// Parsed holds the decoded certificate material of a valid Secret.
type Parsed struct {
	Leaf  *x509.Certificate
	Chain []*x509.Certificate
	Key   crypto.Signer
}

// Validate checks the document: all PEM parses, the private key matches the
// leaf, the leaf is within its validity period, the chain is present and its
// first certificate signed the leaf, the fullchain is leaf+chain, the metadata
// matches the leaf and the leaf covers the required domains. All problems are
// reported at once, each wrapping one of the sentinel errors.
func (s *Secret) Validate(c Checks) (*Parsed, error) {
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	var errs []error
	leaves, err := parseCerts([]byte(s.Certificate))
	if err != nil || len(leaves) != 1 {
		if err == nil {
			err = fmt.Errorf("expected one certificate, found %d", len(leaves))
		}
		return nil, fmt.Errorf("%w: certificate: %v", ErrMalformed, err)
	}
	leaf := leaves[0]
	p := &Parsed{Leaf: leaf}

	chain, err := parseCerts([]byte(s.Chain))
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("%w: chain: %v", ErrMalformed, err))
	case len(chain) == 0:
		errs = append(errs, fmt.Errorf("%w: the chain holds no certificate", ErrNoChain))
	default:
		p.Chain = chain
		if err := leaf.CheckSignatureFrom(chain[0]); err != nil {
			errs = append(errs, fmt.Errorf("%w: first chain certificate %q did not sign the leaf: %v", ErrNoChain, chain[0].Subject, err))
		}
	}
	full, err := parseCerts([]byte(s.FullChain))
	if err != nil {
		errs = append(errs, fmt.Errorf("%w: fullchain: %v", ErrMalformed, err))
	} else if len(full) != 1+len(chain) || !full[0].Equal(leaf) || !slices.EqualFunc(full[1:], chain, (*x509.Certificate).Equal) {
		errs = append(errs, fmt.Errorf("%w: fullchain is not the certificate followed by the chain", ErrMalformed))
	}

	key, err := parseKey([]byte(s.PrivateKey))
	if err != nil {
		errs = append(errs, fmt.Errorf("%w: private key: %v", ErrMalformed, err))
	} else {
		p.Key = key
		if !publicKeysEqual(key.Public(), leaf.PublicKey) {
			errs = append(errs, fmt.Errorf("%w (serial %s)", ErrKeyMismatch, SerialHex(leaf)))
		}
	}

	if now.Before(leaf.NotBefore) || !now.Before(leaf.NotAfter) {
		errs = append(errs, fmt.Errorf("%w: serial %s valid %s to %s, now %s", ErrExpired, SerialHex(leaf),
			leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	}

	if s.Serial != SerialHex(leaf) || !s.NotAfter.Equal(leaf.NotAfter) || !s.NotBefore.Equal(leaf.NotBefore) ||
		!slices.Equal(s.Domains, certDomains(leaf)) {
		errs = append(errs, fmt.Errorf("%w: metadata (serial, notBefore, notAfter, domains) does not match the certificate", ErrMalformed))
	}
	for _, d := range c.Domains {
		if !Covers(leaf, d) {
			errs = append(errs, fmt.Errorf("%w: %q (certificate names: %s)", ErrDomain, d, strings.Join(leaf.DNSNames, ", ")))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// DaysLeft returns the days until NotAfter (negative when expired).
func (s *Secret) DaysLeft(now time.Time) float64 {
	return s.NotAfter.Sub(now).Hours() / 24
}

// VersionToken returns a deterministic Secrets Manager ClientRequestToken for
// this certificate (UUID-shaped, derived from the certificate). Storing the
// same certificate twice then creates one version only.
func (s *Secret) VersionToken() string {
	h := sha256.Sum256([]byte(s.Certificate))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// Covers reports whether the certificate names include domain. A wildcard
// domain ("*.example.com") must appear literally; a plain name may be covered
// by a wildcard name.
func Covers(cert *x509.Certificate, domain string) bool {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if strings.HasPrefix(domain, "*.") {
		for _, n := range cert.DNSNames {
			if strings.EqualFold(n, domain) {
				return true
			}
		}
		return false
	}
	return cert.VerifyHostname(domain) == nil
}

// SerialHex formats a certificate serial number as lower-case hex, the way
// the deploy hook, the sidecar and the tests compare serials.
func SerialHex(c *x509.Certificate) string {
	return fmt.Sprintf("%x", c.SerialNumber)
}

func certDomains(c *x509.Certificate) []string {
	d := slices.Clone(c.DNSNames)
	if d == nil {
		d = []string{}
	}
	return d
}

func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := data
	for i := 0; i < 32; i++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("unexpected PEM block %q", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("trailing data that is not a PEM certificate")
	}
	return out, nil
}

func parseKey(data []byte) (crypto.Signer, error) {
	b, rest := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM block")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("more than one PEM block")
	}
	return pemkey.Parse(b)
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	switch a.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		if e, ok := a.(equaler); ok {
			return e.Equal(b)
		}
	}
	return false
}
