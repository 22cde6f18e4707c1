package smoke

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate.
type testPKI struct {
	roots          *x509.CertPool
	server, client tls.Certificate
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, subject pkix.Name, usage x509.ExtKeyUsage, ips []net.IP) tls.Certificate {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: subject, IPAddresses: ips,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return testPKI{
		roots:  roots,
		server: leaf(2, pkix.Name{CommonName: "server"}, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)}),
		client: leaf(3, pkix.Name{Organization: []string{"Test"}, CommonName: "ns.test"}, x509.ExtKeyUsageClientAuth, nil),
	}
}

// TestPacketBrokerToken verifies a token as The Things Stack does: keys
// from <issuer>/.well-known/jwks.json over HTTPS, ES256 signature, issuer,
// audience, validity and the Packet Broker cluster claim.
func TestPacketBrokerToken(t *testing.T) {
	pki := newTestPKI(t)
	pb, err := NewPacketBrokerIssuer("127.0.0.1:0", pki.server)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	const aud = "https://tts.example.com:8886"
	tok, err := pb.Token(aud)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.roots}}}
	res, err := client.Get(pb.URL() + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set struct {
		Keys []struct{ Kty, Crv, X, Y, Kid, Alg string }
	}
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS: %v, %+v", err, set)
	}
	k := set.Keys[0]
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var header struct{ Alg, Kid string }
	_ = json.Unmarshal(dec(parts[0]), &header)
	if header.Alg != "ES256" || header.Kid != k.Kid || k.Kty != "EC" || k.Crv != "P-256" {
		t.Fatalf("header %+v, key %+v", header, k)
	}
	point := append([]byte{4}, append(pad32(dec(k.X)), pad32(dec(k.Y))...)...)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		t.Fatalf("published key: %v", err)
	}
	sig := dec(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("signature does not verify with the published key")
	}
	var claims struct {
		Iss      string
		Aud      []string
		Exp, Nbf int64
		PB       struct {
			C bool `json:"c"`
		} `json:"https://iam.packetbroker.net/claims"`
	}
	if err := json.Unmarshal(dec(parts[1]), &claims); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	if claims.Iss != pb.URL() || len(claims.Aud) != 1 || claims.Aud[0] != aud || claims.Exp <= now || claims.Nbf > now || !claims.PB.C {
		t.Fatalf("claims %+v", claims)
	}
}

func TestJoinServerRecordsAndAnswers(t *testing.T) {
	pki := newTestPKI(t)
	js, err := NewJoinServer("127.0.0.1:0", pki.server, pki.roots)
	if err != nil {
		t.Fatal(err)
	}
	defer js.Close()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: pki.roots, Certificates: []tls.Certificate{pki.client},
	}}}
	body := `{"ProtocolVersion":"1.1","TransactionID":7,"MessageType":"JoinReq","SenderID":"000013",` +
		`"SenderNSID":"70B3D57ED0000013","ReceiverID":"1122330000000001","DevEUI":"0102030405060708"}`
	req, _ := http.NewRequest(http.MethodPost, "https://"+js.Addr()+"/bi/join?x=1", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Test", "v")
	req.SetBasicAuth("u", "p")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var ans struct {
		MessageType, SenderID, ReceiverID, ReceiverNSID string
		TransactionID                                   uint32
		Result                                          struct{ ResultCode string }
	}
	if err := json.NewDecoder(res.Body).Decode(&ans); err != nil {
		t.Fatal(err)
	}
	if ans.MessageType != "JoinAns" || ans.Result.ResultCode != "UnknownDevEUI" || ans.SenderID != "1122330000000001" ||
		ans.ReceiverID != "000013" || ans.ReceiverNSID != "70B3D57ED0000013" || ans.TransactionID != 7 {
		t.Fatalf("answer %+v", ans)
	}
	reqs := js.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests recorded", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/bi/join?x=1" || r.Header.Get("X-Test") != "v" || !r.BasicAuth ||
		r.Username != "u" || r.Password != "p" || r.ClientSubject != "CN=ns.test,O=Test" ||
		r.Message.DevEUI != "0102030405060708" || r.Message.SenderNSID != "70B3D57ED0000013" {
		t.Fatalf("recorded %+v", r)
	}
	// Without a client certificate the request still arrives, with no subject.
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.roots}}}
	res2, err := anon.Post("https://"+js.Addr()+"/", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if r := js.Requests()[1]; r.ClientSubject != "" || r.Path != "/" {
		t.Fatalf("anonymous request recorded %+v", r)
	}
}

func TestUDPExchangeWithFakeGatewayServer(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	eui := euiBytes(0x0102030405060708)
	got := make(chan []byte, 2)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, addr, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			p := append([]byte(nil), buf[:n]...)
			got <- p
			ack := map[byte]byte{udpPushData: udpPushAck, udpPullData: udpPullAck}[p[3]]
			_, _ = conn.WriteTo([]byte{2, 0xff, 0xff, ack}, addr) // wrong token first: ignored
			_, _ = conn.WriteTo([]byte{2, p[1], p[2], ack}, addr)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := udpExchange(ctx, conn.LocalAddr().String(), udpPacket(udpPushData, 0, eui, statJSON()), udpPushAck); err != nil {
		t.Fatal(err)
	}
	p := <-got
	if p[0] != 2 || p[3] != udpPushData || [8]byte(p[4:12]) != eui || !json.Valid(p[12:]) || !strings.Contains(string(p[12:]), `"stat"`) {
		t.Fatalf("PUSH_DATA % x", p)
	}
	if err := udpExchange(ctx, conn.LocalAddr().String(), udpPacket(udpPullData, 0, eui, nil), udpPullAck); err != nil {
		t.Fatal(err)
	}
	if p := <-got; len(p) != 12 || p[3] != udpPullData {
		t.Fatalf("PULL_DATA % x", p)
	}
}

func TestJoinRequestLayout(t *testing.T) {
	phy := joinRequest(euiBytes(0x1122330000000001), euiBytes(0x0102030405060708), 0xABCD, [4]byte{9, 9, 9, 9})
	want := []byte{0x00, 0x01, 0, 0, 0, 0, 0x33, 0x22, 0x11, 8, 7, 6, 5, 4, 3, 2, 1, 0xCD, 0xAB, 9, 9, 9, 9}
	if string(phy) != string(want) {
		t.Fatalf("join-request % x, want % x", phy, want)
	}
	var v struct {
		Rxpk []struct {
			Freq float64
			Size int
			Data string
		}
	}
	if err := json.Unmarshal(rxpkJSON(868.1, "SF7BW125", 1, phy), &v); err != nil || v.Rxpk[0].Size != 23 || v.Rxpk[0].Freq != 868.1 {
		t.Fatalf("rxpk %+v %v", v, err)
	}
}

func TestMQTTConnectAgainstFakeBroker(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				hdr := make([]byte, 2)
				if _, err := io.ReadFull(c, hdr); err != nil || hdr[0] != 0x10 {
					return
				}
				body := make([]byte, hdr[1]) // short packets: one length byte
				if _, err := io.ReadFull(c, body); err != nil {
					return
				}
				// protocol name, level, flags, keep alive, then client id, username, password
				rest := body[10:]
				var fields []string
				for range 3 {
					n := binary.BigEndian.Uint16(rest)
					fields = append(fields, string(rest[2:2+n]))
					rest = rest[2+n:]
				}
				rc := byte(5)
				if string(body[:6]) == "\x00\x04MQTT" && body[6] == 4 && body[7] == 0xC2 && fields[1] == "app" && fields[2] == "key" {
					rc = 0
				}
				_, _ = c.Write([]byte{0x20, 2, 0, rc})
			}()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if rc, err := mqttTry(ctx, ln.Addr().String(), "app", "key"); err != nil || rc != 0 {
		t.Fatalf("good key: %d %v", rc, err)
	}
	if rc, err := mqttTry(ctx, ln.Addr().String(), "app", "nope"); err != nil || rc != 5 {
		t.Fatalf("wrong key: %d %v", rc, err)
	}
	if got := mqttLength(321); string(got) != "\xc1\x02" {
		t.Fatalf("remaining length % x", got)
	}
}

func TestProtoAndGRPC(t *testing.T) {
	// AuthInfoResponse{oauth_access_token: {user_ids: {user_id: "admin"}}, is_admin: true}
	user := append([]byte{0x0a, 5}, "admin"...)
	ids := append([]byte{0x0a, byte(len(user))}, user...)
	msg := append([]byte{0x12, byte(len(ids))}, ids...)
	msg = append(msg, 0x20, 1)
	body := grpcFrame(msg)
	got, err := grpcMessage(body)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := protoPath(got, 2, 1, 1); !ok || string(u) != "admin" || !protoBool(got, 4) {
		t.Fatalf("decoded %q %v", u, ok)
	}
	if _, err := grpcMessage(body[:len(body)-1]); err == nil {
		t.Fatal("truncated message accepted")
	}
}

func TestCSRFTokenFromTemplate(t *testing.T) {
	page := []byte(`var config = {SITE_NAME:"x",CSRF_TOKEN:"ab\u002bc\/d\u003d\x3d",PAGE_DATA:{}}`)
	tok, err := csrfToken(page)
	if err != nil || tok != "ab+c/d==" {
		t.Fatalf("token %q %v", tok, err)
	}
}

func TestJoinEUIChoiceAvoidsMoreSpecificPrefixes(t *testing.T) {
	s := &scenario{t: Target{JoinServers: []JoinServerCase{
		{JoinEUIPrefix: "0000000000000000/0"},
		{JoinEUIPrefix: "8000000000000000/1"},
		{JoinEUIPrefix: "1122330000000000/24"},
	}}}
	for range 50 {
		eui, err := s.joinEUIFor(0)
		if err != nil || eui>>63 == 1 {
			t.Fatalf("fallback picked %016X %v", eui, err)
		}
		eui, err = s.joinEUIFor(2)
		if err != nil || eui>>40 != 0x112233 {
			t.Fatalf("/24 picked %016X %v", eui, err)
		}
	}
}

func TestNoSecretInLogs(t *testing.T) {
	s := &scenario{t: Target{Secrets: []string{"", "s3cr3t"}, Logs: func() []LogLine {
		return []LogLine{{Process: "is", Text: "ok"}, {Process: "ns", Text: "key=s3cr3t"}}
	}}}
	if _, err := s.noSecretInLogs(context.Background()); err == nil || strings.Contains(err.Error(), "s3cr3t") ||
		!strings.Contains(err.Error(), "secret #1 in a line of ns") {
		t.Fatalf("leak report %v", err)
	}
}

// pad32 left-pads a big-endian coordinate to the 32 bytes of P-256.
func pad32(b []byte) []byte {
	if len(b) >= 32 {
		return b
	}
	return append(make([]byte, 32-len(b)), b...)
}

// The Identity Server's mail is multipart with quoted-printable parts; the
// password is read from the decoded text.
func TestTemporaryPasswordFromTheMail(t *testing.T) {
	raw := "From: noreply@tts.example.com\r\nTo: admin@tts.example.com\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"You can now go to https://tts.example.com/oauth/update-password?user=3Dadmin&current=3DAB=\r\nCD to change it.\r\n" +
		"Alternatively, you can use the temporary password \"ABCD1234=\r\nEFGH\" directly.\r\n" +
		"--b1\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>html</p>\r\n--b1--\r\n"
	got, err := temporaryPassword([]byte(raw))
	if err != nil || got != "ABCD1234EFGH" {
		t.Fatalf("temporaryPassword = %q, %v; want ABCD1234EFGH", got, err)
	}
	if _, err := temporaryPassword([]byte("Subject: x\r\n\r\nno password here\r\n")); err == nil {
		t.Error("a mail without a password gave one")
	}
}

// TestAESCMAC checks the MIC function against the examples of RFC 4493.
func TestAESCMAC(t *testing.T) {
	key, _ := hex.DecodeString("2b7e151628aed2a6abf7158809cf4f3c")
	for msg, want := range map[string]string{
		"":                                 "bb1d6929e95937287fa37d129b756746",
		"6bc1bee22e409f96e93d7e117393172a": "070a16b46b4d4144f79bdd9dd04a287c",
		"6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411": "dfa66747de9ae63030ca32611497c827",
	} {
		m, _ := hex.DecodeString(msg)
		got, err := aesCMAC(key, m)
		if err != nil || hex.EncodeToString(got[:]) != want {
			t.Errorf("CMAC(%s) = %x %v, want %s", msg, got, err, want)
		}
	}
}
