package smoke

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// The signatures the rehearsal relies on. The bodies are filled in by the
// scenario's implementation.

// PacketBrokerIssuer stands in for Packet Broker's token issuer.
type PacketBrokerIssuer struct{}

// NewPacketBrokerIssuer serves the issuer on listenAddr with cert.
func NewPacketBrokerIssuer(listenAddr string, cert tls.Certificate) (*PacketBrokerIssuer, error) {
	return nil, errors.New("not implemented")
}

// URL is the issuer to configure as interop.packet-broker.token-issuer.
func (p *PacketBrokerIssuer) URL() string { return "" }

// Token returns a Packet Broker token for the audience.
func (p *PacketBrokerIssuer) Token(audience string) (string, error) {
	return "", errors.New("not implemented")
}

// Close stops the issuer.
func (p *PacketBrokerIssuer) Close() error { return nil }

// JoinServer stands in for an external Join Server.
type JoinServer struct{}

// NewJoinServer serves a Join Server on listenAddr with cert, asking clients
// for a certificate signed by clientCAs (optional, as a Join Server that
// authenticates by certificate would verify it).
func NewJoinServer(listenAddr string, cert tls.Certificate, clientCAs *x509.CertPool) (*JoinServer, error) {
	return nil, errors.New("not implemented")
}

// Addr is host:port where it listens.
func (j *JoinServer) Addr() string { return "" }

// Close stops it.
func (j *JoinServer) Close() error { return nil }

// Run runs every check of the scenario against t, in order, and returns one
// result per check.
func Run(ctx context.Context, t Target) []Result { return nil }
