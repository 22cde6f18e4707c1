package interop

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/pemkey"
)

// ExpiryWarning is how long before a certificate expires the checker warns.
const ExpiryWarning = 30 * 24 * time.Hour

// pemBlocks decodes all PEM blocks of data, skipping text around them.
func pemBlocks(data []byte) []*pem.Block {
	var blocks []*pem.Block
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return blocks
		}
		blocks = append(blocks, b)
	}
}

// certificates parses the CERTIFICATE blocks of a PEM file, reporting
// problems on field f. It returns nil when the file is unusable.
func (l *loader) certificates(c *fileCheck, f field, p, what string) []*x509.Certificate {
	data, err := l.read(p)
	if err != nil {
		c.errorf("interop.unreadable-file", f.val, f.path, "cannot read %s: %v", p, unwrapPathError(err))
		return nil
	}
	blocks := pemBlocks(data)
	var certs []*x509.Certificate
	for i, b := range blocks {
		switch {
		case strings.Contains(b.Type, "PRIVATE KEY"):
			c.errorf("interop.key-in-certificates", f.val, f.path, "%s holds a private key (PEM block %d, %q); a %s file must hold only certificates. Remove the key from it and keep keys in AWS Secrets Manager", p, i+1, b.Type, what)
			return nil
		case b.Type != "CERTIFICATE":
			continue // TTS (crypto/tls) skips other blocks too
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			c.errorf("interop.bad-certificate", f.val, f.path, "%s: PEM block %d is not a valid X.509 certificate (%v); replace the file with the PEM the issuer gave you", p, i+1, err)
			return nil
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		c.errorf("interop.no-certificate", f.val, f.path, "%s contains no PEM certificate ('-----BEGIN CERTIFICATE-----'); give a PEM-encoded %s file (DER files must be converted: openssl x509 -inform der -in FILE -out FILE.pem)", p, what)
		return nil
	}
	return certs
}

// validity reports on one certificate's dates; it returns true if expired.
func (l *loader) validity(c *fileCheck, f field, p string, cert *x509.Certificate, expiredIsError bool) bool {
	now := l.opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	name := cert.Subject.String()
	if name == "" {
		name = "(no subject)"
	}
	date := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }
	switch {
	case now.After(cert.NotAfter):
		sev := diag.Warning
		if expiredIsError {
			sev = diag.Error
		}
		c.add(sev, "interop.certificate-expired", f.val, f.path, "certificate %q in %s expired on %s; TLS handshakes with it fail. Get a renewed certificate and replace the file", name, p, date(cert.NotAfter))
		return true
	case now.Add(ExpiryWarning).After(cert.NotAfter):
		days := int(cert.NotAfter.Sub(now).Hours() / 24)
		c.warnf("interop.certificate-expiring", f.val, f.path, "certificate %q in %s expires on %s (in %d days); renew it before then", name, p, date(cert.NotAfter), days)
	case now.Before(cert.NotBefore):
		c.warnf("interop.certificate-not-yet-valid", f.val, f.path, "certificate %q in %s is not valid before %s; TLS handshakes with it fail until then", name, p, date(cert.NotBefore))
	}
	return false
}

func (l *loader) checkRootCA(c *fileCheck, f field, p string) {
	certs := l.certificates(c, f, p, "root CA")
	if certs == nil {
		return
	}
	// An expired CA in a bundle is harmless while another one is valid.
	expired := 0
	for _, cert := range certs {
		if l.validity(c, f, p, cert, len(certs) == 1) {
			expired++
		}
	}
	if len(certs) > 1 && expired == len(certs) {
		c.errorf("interop.ca-expired", f.val, f.path, "every certificate in %s has expired; the Join Server's TLS certificate cannot be verified. Replace the file with the current CA", p)
	}
}

func (l *loader) checkCertificate(c *fileCheck, f field, p string) []*x509.Certificate {
	certs := l.certificates(c, f, p, "client certificate")
	if certs == nil {
		return nil
	}
	for _, cert := range certs {
		l.validity(c, f, p, cert, true)
	}
	leaf := certs[0]
	if len(leaf.ExtKeyUsage) > 0 {
		ok := false
		for _, u := range leaf.ExtKeyUsage {
			if u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny {
				ok = true
			}
		}
		if !ok {
			c.warnf("interop.not-client-certificate", f.val, f.path, "the first certificate in %s is not issued for TLS client authentication (its extended key usage lacks clientAuth); Join Servers that check it will refuse the connection. Ask the issuer for a client certificate", p)
		}
	}
	return certs
}

func (l *loader) checkKeyPair(c *fileCheck, f field, keyPath, certPath string, certs []*x509.Certificate) {
	keyPEM, err := l.read(keyPath)
	if err != nil {
		c.errorf("interop.unreadable-file", f.val, f.path, "cannot read %s: %v", keyPath, unwrapPathError(err))
		return
	}
	if msg := checkKeyPEM(keyPEM); msg != "" {
		c.errorf("interop.bad-private-key", f.val, f.path, "%s: %s", keyPath, msg)
		return
	}
	if certs == nil {
		return // certificate missing or broken: reported already
	}
	certPEM, _ := l.read(certPath)
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		c.errorf("interop.key-mismatch", f.val, f.path, "the key in %s does not match the certificate in %s (%v); TTS fails at start. Use the key the certificate was issued for", keyPath, certPath, err)
	}
}

// checkKeyPEM returns "" if data holds one usable PEM private key, else what is wrong.
func checkKeyPEM(data []byte) string {
	blocks := pemBlocks(data)
	var keys []*pem.Block
	for _, b := range blocks {
		if strings.HasSuffix(b.Type, "PRIVATE KEY") {
			keys = append(keys, b)
		}
	}
	switch {
	case len(keys) == 0:
		return "no PEM private key found ('-----BEGIN PRIVATE KEY-----', 'EC PRIVATE KEY' or 'RSA PRIVATE KEY'); give the client key in PEM form"
	case len(keys) > 1:
		return fmt.Sprintf("%d private keys found; give exactly one", len(keys))
	}
	b := keys[0]
	if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
		return "the private key is encrypted with a passphrase, which TTS cannot use; decrypt it (openssl pkey -in KEY -out KEY.plain)"
	}
	if _, err := pemkey.Parse(b); errors.Is(err, pemkey.ErrUnsupportedType) {
		return fmt.Sprintf("unsupported private key type %q; use PKCS#8 ('PRIVATE KEY'), 'EC PRIVATE KEY' or 'RSA PRIVATE KEY'", b.Type)
	} else if err != nil {
		return fmt.Sprintf("the private key does not parse (%v)", err)
	}
	return ""
}
