package params

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// Client certificate modes of InteropClientCertMode (proxy.ClientCertMode
// spells them the same).
const (
	ClientCertOff      = "off"
	ClientCertOptional = "optional"
	ClientCertRequired = "required"
)

// MaxClientCABytes bounds InteropClientCAFile: the bundle travels in the
// proxy's task definition (at most 64 KiB, shared with the nginx.conf).
const MaxClientCABytes = 12 * 1024

// checkClientCert checks InteropClientCertMode and InteropClientCAFile, and
// loads and checks the CA bundle file.
func (l *loader) checkClientCert() {
	p := l.params
	mode, file := p.InteropClientCertMode, p.InteropClientCAFile
	switch mode {
	case ClientCertOff, ClientCertOptional, ClientCertRequired:
	default:
		l.errorf("params.client-cert-mode", "InteropClientCertMode", "%q is not a mode; use off, optional or required", mode)
		return
	}
	if mode == ClientCertOff && file == "" {
		return
	}
	key := "InteropClientCertMode"
	if mode == ClientCertOff {
		key = "InteropClientCAFile"
	}
	if !p.SupportProxyTLS {
		l.errorf("params.client-cert-needs-proxy-tls", key, "needs SupportProxyTLS: true. With SupportProxyTLS false the Network Load Balancer terminates TLS on 8886, and it can neither ask for nor verify client certificates, so the Identity Server would never see one. "+
			"Set SupportProxyTLS: true (the reverse proxy then terminates TLS with a Let's Encrypt certificate and checks client certificates), or remove InteropClientCertMode and InteropClientCAFile")
		return
	}
	if !p.InteropEnabled {
		l.errorf("params.client-cert-needs-interop", key, "checks the client certificates of Backend Interfaces on 8886, which is off: set InteropEnabled: true, or remove InteropClientCertMode and InteropClientCAFile")
		return
	}
	if mode == ClientCertOff {
		l.errorf("params.client-ca-unused", "InteropClientCAFile", "is set, but InteropClientCertMode is off, so nothing uses it: set InteropClientCertMode: optional (or required), or remove the line")
		return
	}
	if file == "" {
		l.errorf("params.client-ca-missing", "InteropClientCertMode", "%s needs the CAs that issue your peers' client certificates: set InteropClientCAFile to a PEM file of them, relative to the parameter file (e.g. prod-interop/client-ca.pem)", mode)
		return
	}
	clean := path.Clean(file)
	if path.IsAbs(file) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(file, `\`) {
		l.errorf("params.client-ca-path", "InteropClientCAFile", "%q must be a file below the parameter file's folder, written with '/' (e.g. prod-interop/client-ca.pem)", file)
		return
	}
	src := p.source
	shown := path.Join(path.Dir(src.File), clean)
	if src.FS == nil {
		l.errorf("params.client-ca-unreadable", "InteropClientCAFile", "%s cannot be read: the parameters were not loaded from a folder", shown)
		return
	}
	data, err := fs.ReadFile(src.FS, path.Join(src.Dir, clean))
	if err != nil {
		l.errorf("params.client-ca-unreadable", "InteropClientCAFile", "cannot read %s (%v); put the PEM bundle of the client CAs there, or correct the path (it is relative to the parameter file)", shown, err)
		return
	}
	if problems := CheckCABundle(data, l.now); len(problems) > 0 {
		for _, d := range problems {
			l.errorf(d.Code, "InteropClientCAFile", "%s: %s", shown, d.Message)
		}
		return
	}
	if mode == ClientCertRequired && p.InteropPacketBrokerEnabled {
		l.warnf("params.client-cert-refuses-packet-broker", "InteropClientCertMode", "is required, so Packet Broker, which authenticates with a bearer token and presents no client certificate, is refused on 8886; use optional to let it through")
	}
	p.interopClientCA = data
}

// CheckCABundle checks a PEM bundle of client CA certificates: at least one
// certificate, nothing but certificates, each a CA (basic constraints CA:TRUE)
// and valid at now, at most MaxClientCABytes. It returns every problem, each
// without a position or path: the caller knows where the bundle came from.
func CheckCABundle(data []byte, now time.Time) diag.List {
	var errs diag.List
	if len(data) > MaxClientCABytes {
		errs.Errorf("params.ca-bundle-too-large", "", "has %d bytes, more than %d: it travels in the proxy's task definition; keep only the CAs of your Backend Interfaces peers", len(data), MaxClientCABytes)
		return errs
	}
	n := 0
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		if block.Type != "CERTIFICATE" {
			errs.Errorf("params.ca-bundle-not-certificate", "", "PEM block %d is a %s; the bundle must hold only CA certificates (BEGIN CERTIFICATE)", n, block.Type)
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			errs.Errorf("params.ca-bundle-unparsable", "", "certificate %d does not parse: %v", n, err)
			continue
		}
		name := fmt.Sprintf("certificate %d (%s)", n, c.Subject)
		if !c.BasicConstraintsValid || !c.IsCA {
			errs.Errorf("params.ca-bundle-not-ca", "", "%s is not a CA certificate (basic constraints CA:TRUE); put the CAs that issue the peers' certificates here, not the peers' own certificates", name)
		}
		switch {
		case now.After(c.NotAfter):
			errs.Errorf("params.ca-bundle-expired", "", "%s expired on %s; replace it with the CA's current certificate", name, c.NotAfter.UTC().Format(time.DateOnly))
		case now.Before(c.NotBefore):
			errs.Errorf("params.ca-bundle-not-yet-valid", "", "%s is valid only from %s; check the clock or the certificate", name, c.NotBefore.UTC().Format(time.RFC3339))
		}
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		errs.Errorf("params.ca-bundle-trailing-text", "", "holds text that is not PEM after the last certificate; keep only BEGIN/END CERTIFICATE blocks")
	}
	if n == 0 {
		return diag.List{diag.Errorf("params.ca-bundle-empty", "", "holds no PEM certificate; put the CA certificates (-----BEGIN CERTIFICATE-----) of your Backend Interfaces peers in it")}
	}
	return errs
}
