package smoke

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// PacketBrokerIssuer stands in for Packet Broker's token issuer. The Things
// Stack's interop server fetches the issuer's keys from
// <issuer>/.well-known/jwks.json and accepts a token signed by one of them
// whose "iss" equals interop.packet-broker.token-issuer, whose "aud"
// contains interop.public-tls-address and whose Packet Broker claims say
// it is a Packet Broker cluster; it then authenticates the caller as NetID
// 000000.
type PacketBrokerIssuer struct {
	key    *ecdsa.PrivateKey
	keyID  string
	url    string
	server *http.Server
	done   chan struct{}
}

// pbClaimsKey is the claim that carries Packet Broker's own claims.
const pbClaimsKey = "https://iam.packetbroker.net/claims"

// NewPacketBrokerIssuer serves the issuer on listenAddr with cert.
func NewPacketBrokerIssuer(listenAddr string, cert tls.Certificate) (*PacketBrokerIssuer, error) {
	// The Things Stack caches the issuer's keys for 10 minutes: sign with
	// the certificate's own P-256 key when it has one, so that an issuer
	// restarted with the same certificate keeps its key.
	key, ok := cert.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		var err error
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, fmt.Errorf("packet broker issuer: generate key: %w", err)
		}
	}
	ln, err := tls.Listen("tcp", listenAddr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, fmt.Errorf("packet broker issuer: listen on %s: %w", listenAddr, err)
	}
	p := &PacketBrokerIssuer{
		key:   key,
		keyID: fmt.Sprintf("smoke-%x", sha256.Sum256(fixed32(key.X)))[:14],
		url:   "https://" + ln.Addr().String(),
		done:  make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", p.serveKeys)
	p.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(p.done)
		_ = p.server.Serve(ln)
	}()
	return p, nil
}

// jwks is the JSON Web Key Set of the issuer's public key.
func (p *PacketBrokerIssuer) jwks() map[string]any {
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]any{"keys": []map[string]string{{
		"kty": "EC",
		"crv": "P-256",
		"x":   b64(fixed32(p.key.X)),
		"y":   b64(fixed32(p.key.Y)),
		"kid": p.keyID,
		"alg": "ES256",
		"use": "sig",
	}}}
}

func (p *PacketBrokerIssuer) serveKeys(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(p.jwks())
}

// URL is the issuer to configure as interop.packet-broker.token-issuer.
func (p *PacketBrokerIssuer) URL() string { return p.url }

// Token returns a Packet Broker token for the audience.
func (p *PacketBrokerIssuer) Token(audience string) (string, error) {
	return p.sign(p.url, audience, time.Now())
}

// sign makes a Packet Broker cluster token (ES256 JWT) from issuer for
// audience, valid from now for 10 minutes.
func (p *PacketBrokerIssuer) sign(issuer, audience string, now time.Time) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": p.keyID})
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(map[string]any{
		"iss":       issuer,
		"sub":       "smoke-cluster",
		"aud":       []string{audience},
		"iat":       now.Unix(),
		"nbf":       now.Add(-time.Minute).Unix(),
		"exp":       now.Add(10 * time.Minute).Unix(),
		pbClaimsKey: map[string]any{"c": true},
	})
	if err != nil {
		return "", err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	signed := b64(header) + "." + b64(claims)
	digest := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, p.key, digest[:])
	if err != nil {
		return "", fmt.Errorf("packet broker issuer: sign: %w", err)
	}
	return signed + "." + b64(append(fixed32(r), fixed32(s)...)), nil
}

// Close stops the issuer.
func (p *PacketBrokerIssuer) Close() error {
	err := p.server.Close()
	<-p.done
	return err
}

// fixed32 is n as 32 big-endian bytes (P-256 coordinates and signature
// halves).
func fixed32(n *big.Int) []byte {
	b := make([]byte, 32)
	return n.FillBytes(b)
}

// JoinServer stands in for an external Join Server (LoRaWAN Backend
// Interfaces). It records every request and answers a JoinReq with a
// JoinAns whose Result is UnknownDevEUI: the scenario only proves that the
// request arrives as the Join Server file says.
type JoinServer struct {
	addr   string
	server *http.Server
	done   chan struct{}

	mu       sync.Mutex
	requests []JoinServerRequest
}

// JoinServerRequest is one request a JoinServer received.
type JoinServerRequest struct {
	Method, Path string // Path includes the query, if any
	Header       http.Header
	// BasicAuth is set when the request carried basic authentication.
	BasicAuth          bool
	Username, Password string
	// ClientSubject is the subject of the client certificate, when one was
	// presented and verified.
	ClientSubject string
	// Body is the raw body and Message its Backend Interfaces header and
	// the fields the scenario checks.
	Body    []byte
	Message BIMessage
}

// BIMessage is the part of a Backend Interfaces message the scenario reads.
type BIMessage struct {
	ProtocolVersion string
	TransactionID   uint32
	MessageType     string
	SenderID        string
	ReceiverID      string
	SenderNSID      string `json:",omitempty"`
	DevEUI          string `json:",omitempty"`
	MACVersion      string `json:",omitempty"`
	PHYPayload      string `json:",omitempty"`
}

// NewJoinServer serves a Join Server on listenAddr with cert, asking clients
// for a certificate signed by clientCAs (optional, as a Join Server that
// authenticates by certificate would verify it).
func NewJoinServer(listenAddr string, cert tls.Certificate, clientCAs *x509.CertPool) (*JoinServer, error) {
	conf := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		ClientAuth:   tls.RequestClientCert,
	}
	if clientCAs != nil {
		conf.ClientAuth = tls.VerifyClientCertIfGiven
		conf.ClientCAs = clientCAs
	}
	ln, err := tls.Listen("tcp", listenAddr, conf)
	if err != nil {
		return nil, fmt.Errorf("join server stand-in: listen on %s: %w", listenAddr, err)
	}
	j := &JoinServer{addr: ln.Addr().String(), done: make(chan struct{})}
	j.server = &http.Server{Handler: http.HandlerFunc(j.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(j.done)
		_ = j.server.Serve(ln)
	}()
	return j, nil
}

func (j *JoinServer) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	req := JoinServerRequest{
		Method: r.Method,
		Path:   r.URL.RequestURI(),
		Header: r.Header.Clone(),
		Body:   body,
	}
	req.Username, req.Password, req.BasicAuth = r.BasicAuth()
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		req.ClientSubject = r.TLS.PeerCertificates[0].Subject.String()
	}
	_ = json.Unmarshal(body, &req.Message)
	j.mu.Lock()
	j.requests = append(j.requests, req)
	j.mu.Unlock()

	msg := req.Message
	answerType := map[string]string{
		"JoinReq":    "JoinAns",
		"RejoinReq":  "RejoinAns",
		"AppSKeyReq": "AppSKeyAns",
		"HomeNSReq":  "HomeNSAns",
	}[msg.MessageType]
	if answerType == "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	ans := map[string]any{
		"ProtocolVersion": msg.ProtocolVersion,
		"TransactionID":   msg.TransactionID,
		"MessageType":     answerType,
		"SenderID":        msg.ReceiverID,
		"ReceiverID":      msg.SenderID,
		"Result":          map[string]string{"ResultCode": "UnknownDevEUI", "Description": "smoke stand-in"},
	}
	if msg.SenderNSID != "" {
		ans["ReceiverNSID"] = msg.SenderNSID
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ans)
}

// Requests returns every request received so far.
func (j *JoinServer) Requests() []JoinServerRequest {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]JoinServerRequest(nil), j.requests...)
}

// Addr is host:port where it listens.
func (j *JoinServer) Addr() string { return j.addr }

// Close stops it.
func (j *JoinServer) Close() error {
	err := j.server.Close()
	<-j.done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}
