package ttsconfig

import (
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

func inputs() Inputs {
	return Inputs{
		DomainName: "tts.example.com", Region: "eu-west-1", ServiceDomain: "tts.local",
		NetID: "000013", TenantID: "example", NSID: "70B3D57ED0000001",
		InteropEnabled: true, PacketBroker: true, PacketBrokerTokenIssuer: "https://iam.packetbroker.net",
		PublicTLSAddress: "https://tts.example.com:8886", InteropPrefix: "interop-repository", ConsoleClientID: "console",
		RateLimitingDigest: "0123456789abcdef",
		EmailSender:        "noreply@tts.example.com", EmailSenderName: "Example Network",
	}
}

func settingsOf(p *Plan, c ports.Component) map[string]Setting {
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
		for k, s := range settingsOf(p, ports.IdentityServer) {
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
	for _, c := range ports.Deployed() {
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
	for _, c := range ports.Deployed() {
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
	for _, c := range ports.Deployed() {
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
	for _, c := range []ports.Component{ports.NetworkServer, ports.ApplicationServer} {
		set := settingsOf(p, c)
		pre := string(c) + ".interop."
		if set[pre+"config-source"].Value != "blob" || set[pre+"blob.bucket"].Ref != RefInteropBucket || set[pre+"blob.path"].Value != "interop-repository" {
			t.Errorf("%s: interop repository not read from the bucket: %+v %+v %+v", c, set[pre+"config-source"], set[pre+"blob.bucket"], set[pre+"blob.path"])
		}
		if set["blob.provider"].Value != "aws" || set["blob.aws.region"].Value != "eu-west-1" {
			t.Errorf("%s: blob provider not AWS in the region", c)
		}
	}
	if settingsOf(p, ports.NetworkServer)["ns.interop.id"].Value != "70B3D57ED0000001" {
		t.Error("ns.interop.id is not the NSID")
	}
	in := inputs()
	in.NetID = "000014"
	q, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	if p.Digest(ports.NetworkServer) == q.Digest(ports.NetworkServer) || p.Digest(ports.IdentityServer) == q.Digest(ports.IdentityServer) {
		t.Error("a changed NetID does not change the digests of NS and IS")
	}
	if p.Digest(ports.GatewayServer) != q.Digest(ports.GatewayServer) {
		t.Error("a changed NetID changes the Gateway Server's digest; it would restart for nothing")
	}
}

func TestEnvNamesOfSettings(t *testing.T) {
	s := Setting{Key: "interop.public-tls-address"}
	if s.Env() != "TTN_LW_INTEROP_PUBLIC_TLS_ADDRESS" {
		t.Errorf("Env() = %s", s.Env())
	}
}

// Every component serves HTTP and gets the shared cookie keys, and reads the
// frequency plans from the image's folder, never from a URL.
func TestEveryComponentSharesCookieKeysAndReadsFrequencyPlansFromTheImage(t *testing.T) {
	p, err := New(inputs())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ports.Deployed() {
		set := settingsOf(p, c)
		if set["http.cookie.hash-key"].Secret != SecretCookieHashKey || set["http.cookie.block-key"].Secret != SecretCookieBlockKey {
			t.Errorf("%s: cookie keys %+v %+v, want the shared secrets", c, set["http.cookie.hash-key"], set["http.cookie.block-key"])
		}
		if set["frequency-plans.config-source"].Value != "directory" || set["frequency-plans.directory"].Value != ImageFrequencyPlansDir {
			t.Errorf("%s: frequency plans %+v %+v, want the directory %s", c, set["frequency-plans.config-source"], set["frequency-plans.directory"], ImageFrequencyPlansDir)
		}
	}
}

// The Gateway Server opens no port that no listener reaches: the TTI gateway
// frontend is off, plain and TLS.
func TestTTIGatewayFrontendIsOff(t *testing.T) {
	p, err := New(inputs())
	if err != nil {
		t.Fatal(err)
	}
	set := settingsOf(p, ports.GatewayServer)
	for _, k := range []string{"gs.ttigw.listen", "gs.ttigw.listen-tls"} {
		if s, ok := set[k]; !ok || s.Value != "" || s.Kind() != "environment" {
			t.Errorf("%s = %+v (set %v), want the empty string", k, s, ok)
		}
	}
}

// Public URLs of the Application Server and the Identity Server: webhook
// downlinks go through the proxy; templates come from the image with no
// fallback URL; pictures advertise no URL that nothing serves.
func TestApplicationAndIdentityServerPublicURLs(t *testing.T) {
	p, err := New(inputs())
	if err != nil {
		t.Fatal(err)
	}
	as := settingsOf(p, ports.ApplicationServer)
	want := map[string]string{
		"as.webhooks.downlink.public-address": "https://tts.example.com/api/v3",
		"as.webhooks.templates.directory":     ImageWebhookTemplatesDir,
		"as.webhooks.templates.url":           "",
	}
	for k, v := range want {
		if s, ok := as[k]; !ok || s.Value != v {
			t.Errorf("as: %s = %+v (set %v), want %q", k, s, ok, v)
		}
	}
	is := settingsOf(p, ports.IdentityServer)
	for _, pic := range []string{"is.profile-picture.", "is.end-device-picture."} {
		if s, ok := is[pic+"bucket-url"]; !ok || s.Value != "" {
			t.Errorf("is: %sbucket-url = %+v (set %v), want empty", pic, s, ok)
		}
		if is[pic+"disable-upload"].Value != "true" {
			t.Errorf("is: %sdisable-upload = %+v, want true", pic, is[pic+"disable-upload"])
		}
	}
	for _, c := range ports.Deployed() {
		for _, s := range p.Settings(c) {
			if strings.Contains(s.Value, "localhost") {
				t.Errorf("%s: %s = %q points at localhost", c, s.Key, s.Value)
			}
		}
	}
}

// Every component reads the rate limiting profiles at start: a new file
// changes every component's digest, and so restarts its tasks.
func TestRateLimitingChangesEveryDigest(t *testing.T) {
	in := inputs()
	a, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	in.RateLimitingDigest = "fedcba9876543210"
	b, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ports.Deployed() {
		if a.Digest(c) == b.Digest(c) {
			t.Errorf("%s: the digest does not change with the rate limiting profiles", c)
		}
	}
}

// E-mail: the Identity Server's SMTP settings with EmailSender, SES's
// STARTTLS port of the region, credentials as members of one JSON secret;
// none without (TTS's empty provider sends nothing).
func TestEmailSettings(t *testing.T) {
	p, err := New(inputs())
	if err != nil {
		t.Fatal(err)
	}
	is := settingsOf(p, ports.IdentityServer)
	for k, want := range map[string]string{
		"is.email.provider":                "smtp",
		"is.email.smtp.address":            "email-smtp.eu-west-1.amazonaws.com:587",
		"is.email.sender-address":          "noreply@tts.example.com",
		"is.email.sender-name":             "Example Network",
		"is.email.network.name":            "Example Network",
		"is.email.network.assets-base-url": "https://tts.example.com/assets",
	} {
		if is[k].Value != want || is[k].Kind() != "parameter" {
			t.Errorf("%s = %+v, want the parameter %q", k, is[k], want)
		}
	}
	for k, member := range map[string]string{"is.email.smtp.username": "username", "is.email.smtp.password": "password"} {
		if s := is[k]; s.Secret != SecretSMTPCredentials || s.SecretKey != member || s.Kind() != "secret" {
			t.Errorf("%s = %+v, want member %s of %s", k, s, member, SecretSMTPCredentials)
		}
	}
	for _, c := range ports.Deployed() {
		if c == ports.IdentityServer {
			continue
		}
		for _, s := range p.Settings(c) {
			if strings.HasPrefix(s.Key, "is.email.") {
				t.Errorf("%s gets %s; only the Identity Server sends e-mail", c, s.Key)
			}
		}
	}
	in := inputs()
	in.EmailSender = ""
	off, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	for k := range settingsOf(off, ports.IdentityServer) {
		if strings.HasPrefix(k, "is.email.") && k != "is.email.network.console-url" && k != "is.email.network.identity-server-url" && k != "is.email.network.assets-base-url" {
			t.Errorf("without EmailSender the Identity Server gets %s", k)
		}
	}
	if off.Digest(ports.IdentityServer) == p.Digest(ports.IdentityServer) || off.Digest(ports.NetworkServer) != p.Digest(ports.NetworkServer) {
		t.Error("switching e-mail must restart the Identity Server, and only it")
	}
	in.EmailSender, in.EmailSenderName = "noreply@tts.example.com", ""
	if _, err := New(in); err == nil {
		t.Error("a sender without a name was accepted")
	}
}
