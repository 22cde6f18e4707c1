package ttsconfig

import (
	"strings"
	"testing"
)

func inputs() Inputs {
	return Inputs{
		DomainName: "tts.example.com", Region: "eu-west-1", ServiceDomain: "tts.local",
		GRPCPort: 1884, HTTPPort: 1885, InteropPort: 1886,
		NetID: "000013", TenantID: "example", NSID: "70B3D57ED0000001",
		InteropEnabled: true, PacketBroker: true, PacketBrokerTokenIssuer: "https://iam.packetbroker.net",
		PublicTLSAddress: "https://tts.example.com:8886", InteropPrefix: "interop-repository", ConsoleClientID: "console",
	}
}

func settingsOf(p *Plan, c Component) map[string]Setting {
	out := map[string]Setting{}
	for _, s := range p.Settings(c) {
		out[s.Key] = s
	}
	return out
}

// The Identity Server's interop keys in each valid combination, exactly.
func TestInteropKeysOfEachCombination(t *testing.T) {
	interopKeys := func(p *Plan) map[string]string {
		out := map[string]string{}
		for k, s := range settingsOf(p, IdentityServer) {
			if strings.HasPrefix(k, "interop.") || strings.HasPrefix(k, "is.network.") {
				out[k] = s.Value
			}
		}
		return out
	}
	cases := []struct {
		name        string
		interop, pb bool
		address     string
		want        map[string]string
	}{
		{"off", false, false, "", map[string]string{"interop.listen": "", "interop.listen-tls": ""}},
		{"interop", true, false, "https://tts.example.com:8886", map[string]string{
			"interop.listen": ":1886", "interop.listen-tls": "", "interop.public-tls-address": "https://tts.example.com:8886",
			"is.network.net-id": "000013", "is.network.tenant-id": "example", "is.network.ns-id": "70B3D57ED0000001"}},
		{"interop without public address", true, false, "", map[string]string{
			"interop.listen": ":1886", "interop.listen-tls": "",
			"is.network.net-id": "000013", "is.network.tenant-id": "example", "is.network.ns-id": "70B3D57ED0000001"}},
		{"packet broker", true, true, "https://interop.example.com:8886", map[string]string{
			"interop.listen": ":1886", "interop.listen-tls": "", "interop.public-tls-address": "https://interop.example.com:8886",
			"interop.packet-broker.enabled": "true", "interop.packet-broker.token-issuer": "https://iam.packetbroker.net",
			"is.network.net-id": "000013", "is.network.tenant-id": "example", "is.network.ns-id": "70B3D57ED0000001"}},
	}
	for _, c := range cases {
		in := inputs()
		in.InteropEnabled, in.PacketBroker, in.PublicTLSAddress = c.interop, c.pb, c.address
		p, err := New(in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := interopKeys(p)
		for k, v := range c.want {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("%s: %s = %q (set: %v), want %q", c.name, k, g, ok, v)
			}
		}
		for k := range got {
			if _, ok := c.want[k]; !ok {
				t.Errorf("%s: unexpected %s = %q", c.name, k, got[k])
			}
		}
	}
}

func TestContradictionsAreRefused(t *testing.T) {
	in := inputs()
	in.InteropEnabled = false
	if _, err := New(in); err == nil || !strings.Contains(err.Error(), "needs interop") {
		t.Errorf("Packet Broker without interop: %v", err)
	}
	in = inputs()
	in.PublicTLSAddress = ""
	if _, err := New(in); err == nil || !strings.Contains(err.Error(), "public TLS address") {
		t.Errorf("Packet Broker without public address: %v", err)
	}
}

// Every TLS listener a component has by the TTS reference is off: TLS ends
// in front of the tasks, and TTS fails at start without a certificate.
func TestEveryTLSListenerIsOff(t *testing.T) {
	p, err := New(inputs())
	if err != nil {
		t.Fatal(err)
	}
	known := KnownKeys()
	for _, c := range Components() {
		set := settingsOf(p, c)
		for k := range known {
			if !strings.HasSuffix(k, ".listen-tls") {
				continue
			}
			global := !strings.Contains(strings.TrimSuffix(k, ".listen-tls"), ".")
			ownAPI := strings.HasPrefix(k, string(c)+".") && strings.Count(k, ".") == 2
			if !global && !ownAPI {
				continue
			}
			if s, ok := set[k]; !ok || s.Value != "" || s.Kind() != "environment" {
				t.Errorf("%s: %s must be set to the empty string (got %+v, set %v)", c, k, s, ok)
			}
		}
	}
}

// Credentials always come from Secrets Manager, never from Parameter Store
// or the task definition.
func TestCredentialsAreSecrets(t *testing.T) {
	p, err := New(inputs())
	if err != nil {
		t.Fatal(err)
	}
	sensitive := func(k string) bool {
		for _, s := range []string{"password", "secret", "keys", "-key", "database-uri", "token"} {
			if strings.Contains(k, s) && !strings.HasSuffix(k, "-url") && k != "interop.packet-broker.token-issuer" {
				return true
			}
		}
		return false
	}
	n := 0
	for _, c := range Components() {
		for _, s := range p.Settings(c) {
			if sensitive(s.Key) {
				n++
				if s.Kind() != "secret" {
					t.Errorf("%s: %s is a %s; credentials must be Secrets Manager references", c, s.Key, s.Kind())
				}
			}
		}
	}
	if n == 0 {
		t.Error("no credential found; the test looks for keys like *.password and cluster.keys")
	}
}

func TestNoKeyHasTwoParameterValues(t *testing.T) {
	p, err := New(inputs())
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]Setting{}
	for _, s := range p.Parameters() {
		params[s.Key] = s
		if s.Kind() != "parameter" {
			t.Errorf("%s: %s in Parameters", s.Key, s.Kind())
		}
	}
	for _, c := range Components() {
		for _, s := range p.Settings(c) {
			if s.Kind() == "parameter" && params[s.Key] != s {
				t.Errorf("%s: %s is %+v, the shared parameter is %+v", c, s.Key, s, params[s.Key])
			}
		}
	}
	if err := Check(p.Keys()...); err != nil {
		t.Error(err)
	}
}

func TestBlobInteropAndDigest(t *testing.T) {
	p, err := New(inputs())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Component{NetworkServer, ApplicationServer} {
		set := settingsOf(p, c)
		pre := string(c) + ".interop."
		if set[pre+"config-source"].Value != "blob" || set[pre+"blob.bucket"].Ref != RefInteropBucket || set[pre+"blob.path"].Value != "interop-repository" {
			t.Errorf("%s: interop repository not read from the bucket: %+v %+v %+v", c, set[pre+"config-source"], set[pre+"blob.bucket"], set[pre+"blob.path"])
		}
		if set["blob.provider"].Value != "aws" || set["blob.aws.region"].Value != "eu-west-1" {
			t.Errorf("%s: blob provider not AWS in the region", c)
		}
	}
	if settingsOf(p, NetworkServer)["ns.interop.id"].Value != "70B3D57ED0000001" {
		t.Error("ns.interop.id is not the NSID")
	}
	in := inputs()
	in.NetID = "000014"
	q, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	if p.Digest(NetworkServer) == q.Digest(NetworkServer) || p.Digest(IdentityServer) == q.Digest(IdentityServer) {
		t.Error("a changed NetID does not change the digests of NS and IS")
	}
	if p.Digest(GatewayServer) != q.Digest(GatewayServer) {
		t.Error("a changed NetID changes the Gateway Server's digest; it would restart for nothing")
	}
}

func TestEnvNamesOfSettings(t *testing.T) {
	s := Setting{Key: "interop.public-tls-address"}
	if s.Env() != "TTN_LW_INTEROP_PUBLIC_TLS_ADDRESS" {
		t.Errorf("Env() = %s", s.Env())
	}
}
