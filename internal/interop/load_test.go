package interop

import (
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

const (
	goodConfig = "join-servers:\n  - file: 'js.yml'\n    join-euis:\n      - 'EC656E0000000000/24'\n"
	goodJS     = "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\n"
)

func TestExampleRepository(t *testing.T) {
	repo, probs := Load(os.DirFS("../../params/example-interop"), ".", time.Now())
	if len(probs) != 0 {
		t.Fatalf("the example repository must be clean, got:\n%s", dump(probs))
	}
	if got := len(repo.Entries); got != 4 {
		t.Errorf("entries = %d, want 4", got)
	}
	for _, p := range []string{"tti/ns.yml", "tti/as.yml", "example-js/js.yml", "fallback/js.yml"} {
		if repo.JoinServers[p] == nil {
			t.Errorf("Join Server %s not loaded", p)
		}
	}
	// No private key may sit in the example: the TLS key is a secret reference.
	js := repo.JoinServers["example-js/js.yml"]
	if js.TLS == nil || js.TLS.KeyRef == nil || js.TLS.KeyFile != "" {
		t.Fatalf("example-js TLS key must be a secret reference, got %+v", js.TLS)
	}
	if js.Paths.Join != "api/v1/lbi/joinreq" || js.URL(js.Paths.Join) != "https://js.example.com:7009/api/v1/lbi/joinreq" {
		t.Errorf("example-js join URL = %s", js.URL(js.Paths.Join))
	}
	// The example's certificates must stay valid for years, not weeks.
	if _, probs := Load(os.DirFS("../../params/example-interop"), ".", time.Now().AddDate(5, 0, 0)); len(probs) != 0 {
		t.Errorf("the example's certificates must be valid for at least 5 more years:\n%s", dump(probs))
	}
	var refs []string
	for _, r := range repo.SecretRefs {
		refs = append(refs, r.File+" "+r.Path()+" "+r.SecretID+" "+r.JSONKey+" "+string(r.Kind)+" "+r.Target)
	}
	want := []string{
		"example-js/js.yml tls.key tts-example/interop/example-js-client-key  pem-file example-js/js.tls-key.pem",
		"tti/as.yml basic-auth.password tts-example/interop/tti-join-server as-password inline ",
		"tti/ns.yml basic-auth.password tts-example/interop/tti-join-server ns-password inline ",
	}
	if strings.Join(refs, "\n") != strings.Join(want, "\n") {
		t.Errorf("secret refs:\n%s\nwant:\n%s", strings.Join(refs, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range repo.Files() {
		if strings.Contains(string(f.Data), "PRIVATE KEY") {
			t.Errorf("%s holds a private key; the example must not", f.Path)
		}
	}
	var paths []string
	for _, f := range repo.Files() {
		paths = append(paths, f.Path)
	}
	if got := strings.Join(paths, " "); got != "config.yml example-js/client.pem example-js/js.yml example-js/root-ca.pem fallback/js.yml tti/as.yml tti/ns.yml" {
		t.Errorf("files to deploy: %s", got)
	}
}

func TestEmptyRepositories(t *testing.T) {
	for name, config := range map[string]string{
		"empty list":    "join-servers: []\n",
		"empty file":    "",
		"only comments": "# nothing yet\n",
		"null list":     "join-servers:\n",
		"EmptyConfig":   EmptyConfig,
	} {
		t.Run(name, func(t *testing.T) {
			repo, probs := Load(repoFS(map[string]string{"config.yml": config}), ".", testNow)
			if len(probs) != 0 {
				t.Fatalf("want no problems, got:\n%s", dump(probs))
			}
			if len(repo.Entries) != 0 || len(repo.Files()) != 1 || repo.Files()[0].Path != ConfigFile {
				t.Errorf("want only config.yml, got %d entries, files %v", len(repo.Entries), repo.Files())
			}
		})
	}
}

func TestLoadInSubdirectory(t *testing.T) {
	fsys := repoFS(map[string]string{"params/interop/config.yml": goodConfig, "params/interop/js.yml": goodJS})
	repo, probs := Load(fsys, "params/interop", testNow)
	if len(probs) != 0 || repo.JoinServers["js.yml"] == nil {
		t.Fatalf("want js.yml loaded without problems, got:\n%s", dump(probs))
	}
}

// badCase is a repository with one mistake: want names the file and the
// marker of the line where the problem must be reported.
type badCase struct {
	name   string
	files  map[string]string
	file   string
	marker string // text on the expected line; "" means line 0 (no line)
	sev    diag.Severity
	code   string
	opts   *Options
}

func withJS(js string) map[string]string {
	return map[string]string{"config.yml": goodConfig, "js.yml": js}
}

func withConfig(config string) map[string]string {
	return map[string]string{"config.yml": config, "js.yml": goodJS}
}

func TestBadRepositories(t *testing.T) {
	cert, key := genCert(t, certOpts{})
	otherCert, _ := genCert(t, certOpts{})
	expired, expiredKey := genCert(t, certOpts{notBefore: testNow.AddDate(-2, 0, 0), notAfter: testNow.AddDate(0, 0, -1)})
	serverOnly, serverOnlyKey := genCert(t, certOpts{eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	ca, _ := genCert(t, certOpts{isCA: true})

	cases := []badCase{
		{name: "unknown top-level key", files: withConfig("join-server: #<\n  - file: 'js.yml'\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.unknown-key"},
		{name: "unknown entry key", files: withConfig("join-servers:\n  - file: 'js.yml'\n    join-eui: #<\n      - 'EC656E0000000000/24'\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.unknown-key"},
		{name: "unknown Join Server key", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nfqdm: 'x' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.unknown-key"},
		{name: "TTI enterprise type key", files: withConfig("join-servers:\n  - file: 'js.yml'\n    type: 'ttjsv2' #<\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.unknown-key"},
		{name: "duplicate key", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nfqdn: 'other.example.com' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.duplicate-key"},
		{name: "YAML syntax error", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nheaders:\n  X-A: 'b'\n   X-B: 'c' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.yaml-syntax"},
		{name: "second YAML document", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\n--- #<\nport: 1\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.multiple-documents"},
		{name: "join-servers not a list", files: withConfig("join-servers: 'js.yml' #<\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.wrong-type"},
		{name: "join-euis not a list", files: withConfig("join-servers:\n  - file: 'js.yml'\n    join-euis: 'EC656E0000000000/24' #<\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.wrong-type"},
		{name: "prefix without length", files: withConfig("join-servers:\n  - file: 'js.yml'\n    join-euis:\n      - 'EC656E0000000000/24'\n      - 'EC656E0000000000' #<\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.bad-prefix"},
		{name: "prefix with bits past its length", files: withConfig("join-servers:\n  - file: 'js.yml'\n    join-euis:\n      - 'EC656E0000000001/24' #<\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.bad-prefix"},
		{name: "prefix length 65", files: withConfig("join-servers:\n  - file: 'js.yml'\n    join-euis:\n      - 'EC656E0000000000/65' #<\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.bad-prefix"},
		{name: "empty prefix matches everything in TTS", files: withConfig("join-servers:\n  - file: 'js.yml'\n    join-euis:\n      - '' #<\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.empty-prefix"},
		{name: "same prefix twice for both components",
			files: map[string]string{"config.yml": "join-servers:\n  - file: 'js.yml'\n    join-euis:\n      - 'EC656E0000000000/24'\n  - file: 'js2.yml'\n    join-euis:\n      - 'ec656e0000000000/24' #<\n", "js.yml": goodJS, "js2.yml": goodJS},
			file:  "config.yml", marker: "#<", sev: diag.Error, code: "interop.duplicate-prefix"},
		{name: "same /64 prefix twice for ns only",
			files: map[string]string{"config.yml": "join-servers:\n  - file: 'js.yml'\n    components: ['ns']\n    join-euis:\n      - 'EC656E0000000001/64'\n  - file: 'js2.yml'\n    join-euis:\n      - 'EC656E0000000001/64' #<\n", "js.yml": goodJS, "js2.yml": goodJS},
			file:  "config.yml", marker: "#<", sev: diag.Error, code: "interop.duplicate-prefix"},
		{name: "same prefix twice in one entry", files: withConfig("join-servers:\n  - file: 'js.yml'\n    join-euis:\n      - 'EC656E0000000000/24'\n      - 'EC656E0000000000/24' #<\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.duplicate-prefix"},
		{name: "missing Join Server file", files: map[string]string{"config.yml": "join-servers:\n  - file: './tti/js.yml' #<\n    join-euis: ['EC656E0000000000/24']\n"},
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.bad-reference"},
		{name: "file outside the repository", files: withConfig("join-servers:\n  - file: '../js.yml' #<\n    join-euis: ['EC656E0000000000/24']\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.path-outside"},
		{name: "absolute file path", files: withConfig("join-servers:\n  - file: '/etc/js.yml' #<\n    join-euis: ['EC656E0000000000/24']\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.absolute-path"},
		{name: "file name in the wrong case", files: withConfig("join-servers:\n  - file: 'JS.yml' #<\n    join-euis: ['EC656E0000000000/24']\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.bad-reference"},
		{name: "missing file key", files: withConfig("join-servers:\n  - join-euis: ['EC656E0000000000/24'] #<\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.missing-file"},
		{name: "unknown component", files: withConfig("join-servers:\n  - file: 'js.yml'\n    components: ['ns', 'js'] #<\n    join-euis: ['EC656E0000000000/24']\n"),
			file: "config.yml", marker: "#<", sev: diag.Error, code: "interop.unknown-component"},
		{name: "protocol unknown", files: withJS("fqdn: 'js.example.com'\nprotocol: 'bi1.1' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.bad-protocol"},
		{name: "protocol missing", files: withJS("fqdn: 'js.example.com' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.missing-protocol"},
		{name: "BI1.1 from NS without sender-ns-id", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.1' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.missing-nsid"},
		{name: "sender-ns-id with BI1.0", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nsender-ns-id: '0102030405060708' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.nsid-unsupported"},
		{name: "sender-ns-id not an EUI", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.1'\nsender-ns-id: '01020304' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.bad-nsid"},
		{name: "two key targets clash",
			files: map[string]string{"config.yml": "join-servers:\n  - file: 'js.yml'\n    join-euis: ['EC656E0000000000/24']\n  - file: 'js.yaml'\n    join-euis: ['1122330000000000/24']\n", "c.pem": cert,
				"js.yml":  "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem'\n  key: {secret: 'k1'}\n",
				"js.yaml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem'\n  key: {secret: 'k2'} #<\n"},
			file: "js.yaml", marker: "#<", sev: diag.Error, code: "interop.key-target-conflict"},
		{name: "fqdn missing", files: withJS("protocol: 'BI1.0' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.missing-fqdn"},
		{name: "fqdn is a URL", files: withJS("fqdn: 'https://js.example.com/api' #<\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.bad-fqdn"},
		{name: "fqdn bad label", files: withJS("fqdn: 'js_1.example.com' #<\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.bad-fqdn"},
		{name: "dns lookup not supported", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ndns: 'joineuis.lora-alliance.org' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.dns-unsupported"},
		{name: "scheme unsupported", files: withJS("scheme: 'ftp' #<\nfqdn: 'js.example.com'\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.bad-scheme"},
		{name: "port quoted", files: withJS("fqdn: 'js.example.com'\nport: '443' #<\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.wrong-type"},
		{name: "port out of range", files: withJS("fqdn: 'js.example.com'\nport: 70000 #<\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.bad-port"},
		{name: "port zero", files: withJS("fqdn: 'js.example.com'\nport: 0 #<\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.bad-port"},
		{name: "fqdn wrong type", files: withJS("fqdn: 12 #<\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.wrong-type"},
		{name: "paths not a mapping", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\npaths: 'api/join' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.not-a-mapping"},
		{name: "path with fragment", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\npaths:\n  join: 'api?x=1#top' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.path-fragment"},
		{name: "invalid header name", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nheaders:\n  X Custom: 'a' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.bad-header-name"},
		{name: "header twice in different case", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nheaders:\n  X-A: 'a'\n  x-a: 'b' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.duplicate-header"},
		{name: "password without username", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth: #<\n  password: {secret: 'js/password'}\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.password-without-username"},
		{name: "secret name invalid", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password: {secret: 'my password!'} #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.bad-secret-ref"},
		{name: "secret ARN invalid", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password:\n    secret: 'arn:aws:secretsmanager:eu-west-1:1234:secret:x' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.bad-secret-ref"},
		{name: "secret reference unknown key", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password:\n    secret: 'js/password'\n    version: 'AWSCURRENT' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.unknown-key"},
		{name: "secret reference without secret", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password:\n    json-key: 'password' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.bad-secret-ref"},
		{name: "root CA file missing",
			files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  root-ca: 'ca.pem' #<\n  certificate: 'c.pem'\n  key: {secret: 'k'}\n"),
			file:  "js.yml", marker: "#<", sev: diag.Error, code: "interop.bad-reference"},
		{name: "root CA without client certificate",
			files: map[string]string{"config.yml": goodConfig, "ca.pem": ca, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls: #<\n  root-ca: 'ca.pem'\n"},
			file:  "js.yml", marker: "#<", sev: diag.Error, code: "interop.missing-client-cert"},
		{name: "certificate without key",
			files: map[string]string{"config.yml": goodConfig, "c.pem": cert, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem' #<\n"},
			file:  "js.yml", marker: "#<", sev: diag.Error, code: "interop.key-missing"},
		{name: "key-vault with certificate",
			files: map[string]string{"config.yml": goodConfig, "c.pem": cert, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  source: 'key-vault' #<\n  certificate: 'c.pem'\n"},
			file:  "js.yml", marker: "#<", sev: diag.Error, code: "interop.key-vault"},
		{name: "unknown TLS source",
			files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  source: 'acme' #<\n"),
			file:  "js.yml", marker: "#<", sev: diag.Error, code: "interop.bad-tls-source"},
		{name: "certificate not PEM",
			files: map[string]string{"config.yml": goodConfig, "c.pem": "not a certificate", "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem' #<\n  key: {secret: 'k'}\n"},
			file:  "js.yml", marker: "#<", sev: diag.Error, code: "interop.no-certificate"},
		{name: "key does not match certificate",
			files: map[string]string{"config.yml": goodConfig, "c.pem": otherCert, "k.pem": key, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem'\n  key: 'k.pem' #<\n"},
			file:  "js.yml", marker: "#<", sev: diag.Error, code: "interop.key-mismatch"},
		{name: "expired client certificate",
			files: map[string]string{"config.yml": goodConfig, "c.pem": expired, "k.pem": expiredKey, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem' #<\n  key: 'k.pem'\n"},
			file:  "js.yml", marker: "#<", sev: diag.Error, code: "interop.certificate-expired"},
		{name: "private key inside certificate file",
			files: map[string]string{"config.yml": goodConfig, "c.pem": cert + key, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem' #<\n  key: {secret: 'k'}\n"},
			file:  "js.yml", marker: "#<", sev: diag.Error, code: "interop.key-in-certificates"},
		{name: "TLS path outside the repository",
			files: map[string]string{"config.yml": "join-servers:\n  - file: 'sub/js.yml'\n    join-euis: ['EC656E0000000000/24']\n", "sub/js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: '../../c.pem' #<\n  key: {secret: 'k'}\n"},
			file:  "sub/js.yml", marker: "#<", sev: diag.Error, code: "interop.path-outside"},
		{name: "TLS paths are relative to the Join Server file",
			files: map[string]string{"config.yml": "join-servers:\n  - file: 'sub/js.yml'\n    join-euis: ['EC656E0000000000/24']\n", "c.pem": cert, "sub/js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem' #<\n  key: {secret: 'k'}\n"},
			file:  "sub/js.yml", marker: "#<", sev: diag.Error, code: "interop.bad-reference"},
		{name: "missing config.yml", files: map[string]string{"js.yml": goodJS},
			file: "config.yml", marker: "", sev: diag.Error, code: "interop.missing-config"},
		{name: "empty Join Server file", files: withJS(""),
			file: "js.yml", marker: "", sev: diag.Error, code: "interop.empty-file"},

		// Warnings.
		{name: "numeric password not echoed", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password: 8675309 #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Error, code: "interop.wrong-type"},
		{name: "literal password", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password: 'hunter2' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Warning, code: "interop.literal-secret"},
		{name: "literal credential header", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nheaders:\n  X-Api-Key: 'abc' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Warning, code: "interop.literal-secret"},
		{name: "literal key file",
			files: map[string]string{"config.yml": goodConfig, "c.pem": cert, "k.pem": key, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem'\n  key: 'k.pem' #<\n"},
			file:  "js.yml", marker: "#<", sev: diag.Warning, code: "interop.literal-secret"},
		{name: "certificate expires within 30 days",
			files: func() map[string]string {
				c, k := genCert(t, certOpts{notAfter: testNow.Add(10 * 24 * time.Hour)})
				return map[string]string{"config.yml": goodConfig, "c.pem": c, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem' #<\n  key: {secret: 'k'}\n", "unused": k}
			}(),
			file: "js.yml", marker: "#<", sev: diag.Warning, code: "interop.certificate-expiring"},
		{name: "certificate not for client auth",
			files: map[string]string{"config.yml": goodConfig, "c.pem": serverOnly, "k.pem": serverOnlyKey, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem' #<\n  key: {secret: 'k'}\n"},
			file:  "js.yml", marker: "#<", sev: diag.Warning, code: "interop.not-client-certificate"},
		{name: "plain http", files: withJS("scheme: 'http' #<\nfqdn: 'js.example.com'\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: diag.Warning, code: "interop.plain-http"},
		{name: "empty components list", files: withConfig("join-servers:\n  - file: 'js.yml'\n    components: [] #<\n    join-euis: ['EC656E0000000000/24']\n"),
			file: "config.yml", marker: "#<", sev: diag.Warning, code: "interop.empty-components"},
		{name: "leading slash in path", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\npaths:\n  join: '/api/join' #<\n"),
			file: "js.yml", marker: "#<", sev: diag.Warning, code: "interop.path-leading-slash"},
		{name: "unreferenced Join Server file", files: map[string]string{"config.yml": goodConfig, "js.yml": goodJS, "old/js.yml": goodJS},
			file: "old/js.yml", marker: "", sev: diag.Warning, code: "interop.unreferenced-file"},
		{name: "stray private key", files: map[string]string{"config.yml": goodConfig, "js.yml": goodJS, "old-key.pem": key},
			file: "old-key.pem", marker: "", sev: diag.Warning, code: "interop.unreferenced-key"},
		{name: "sender-ns-id only used by AS", files: withConfig("join-servers:\n  - file: 'js.yml'\n    components: ['as']\n    join-euis: ['EC656E0000000000/24']\n"),
			file: "js.yml", marker: "#<", sev: diag.Warning, code: "interop.nsid-unused"},
	}
	// The last case needs its own Join Server file.
	cases[len(cases)-1].files["js.yml"] = "fqdn: 'js.example.com'\nprotocol: 'BI1.1'\nsender-ns-id: '0102030405060708' #<\n"

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Now: testNow}
			if tc.opts != nil {
				opts = *tc.opts
			}
			_, probs := LoadWithOptions(repoFS(tc.files), ".", opts)
			line := 0
			if tc.marker != "" {
				line = lineOf(t, tc.files[tc.file], tc.marker)
			}
			requireProblem(t, probs, tc.code, tc.file, line)
			for _, p := range probs {
				for _, secret := range []string{"hunter2", "8675309"} {
					if strings.Contains(p.Message, secret) {
						t.Errorf("message reveals a secret: %s", p)
					}
				}
			}
			if tc.sev == diag.Warning && probs.HasErrors() {
				t.Errorf("a warning case must not produce errors:\n%s", dump(probs))
			}
		})
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	files := map[string]string{
		"config.yml": "join-servers:\n  - file: 'a.yml'\n    join-euis: ['EC656E0000000001/24']\n  - file: 'b.yml'\n    join-euis: ['1122330000000000/24']\n  - file: 'missing.yml'\n    join-euis: ['2200000000000000/8']\n",
		"a.yml":      "fqdn: 'js.example.com'\nprotocol: 'BI9'\nprot: 1\n",
		"b.yml":      "port: 'x'\nprotocol: 'BI1.0'\n",
	}
	_, probs := Load(repoFS(files), ".", testNow)
	for _, want := range []struct {
		file string
		line int
		code string
	}{
		{"config.yml", 3, "interop.bad-prefix"},
		{"config.yml", 6, "interop.bad-reference"},
		{"a.yml", 2, "interop.bad-protocol"},
		{"a.yml", 3, "interop.unknown-key"},
		{"b.yml", 1, "interop.missing-fqdn"},
		{"b.yml", 1, "interop.wrong-type"},
	} {
		requireProblem(t, probs, want.code, want.file, want.line)
	}
	// config.yml problems come first.
	if probs[0].File != ConfigFile {
		t.Errorf("problems must start with config.yml, got %s", probs[0].File)
	}
}

func TestSenderNSIDFromNSInteropID(t *testing.T) {
	files := withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.1'\n")
	id, _ := ParseEUI64("0102030405060708")
	_, probs := LoadWithOptions(repoFS(files), ".", Options{Now: testNow, NSInteropID: &id})
	if len(probs) != 0 {
		t.Errorf("with ns.interop.id set, BI1.1 without sender-ns-id is valid; got:\n%s", dump(probs))
	}
	// An AS-only BI1.1 Join Server needs no NSID either.
	files = withConfig("join-servers:\n  - file: 'js.yml'\n    components: ['as']\n    join-euis: ['EC656E0000000000/24']\n")
	files["js.yml"] = "fqdn: 'js.example.com'\nprotocol: 'BI1.1'\n"
	if _, probs := Load(repoFS(files), ".", testNow); len(probs) != 0 {
		t.Errorf("AS-only BI1.1 without sender-ns-id is valid; got:\n%s", dump(probs))
	}
}

func TestSamePrefixForDifferentComponentsIsValid(t *testing.T) {
	files := map[string]string{
		"config.yml": "join-servers:\n  - file: 'ns.yml'\n    components: ['ns']\n    join-euis: ['EC656E0000000000/24']\n  - file: 'as.yml'\n    components: ['as']\n    join-euis: ['EC656E0000000000/24']\n",
		"ns.yml":     goodJS, "as.yml": goodJS,
	}
	if _, probs := Load(repoFS(files), ".", testNow); len(probs) != 0 {
		t.Errorf("want no problems, got:\n%s", dump(probs))
	}
}

func TestValidateSecretID(t *testing.T) {
	for _, ok := range []string{
		"tts/interop/js-password",
		"a",
		"name_with+=.@-chars",
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:tts/interop/js-AbCdEf",
		"arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x-AbCdEf",
		"arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x",
	} {
		if err := ValidateSecretID(ok); err != nil {
			t.Errorf("ValidateSecretID(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{
		"", "with space", "emoji-☃", strings.Repeat("a", 513),
		"arn:aws:secretsmanager:eu-west-1:123456789012:parameter:x",
		"arn:aws:s3:::bucket",
		"arn:aws:secretsmanager:EU-WEST-1:123456789012:secret:x",
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:bad name",
	} {
		if err := ValidateSecretID(bad); err == nil {
			t.Errorf("ValidateSecretID(%q) = nil, want an error", bad)
		}
	}
}

// FuzzLoad feeds arbitrary bytes as config.yml and Join Server file: Load must
// never panic, and every problem must name a file.
func FuzzLoad(f *testing.F) {
	f.Add(goodConfig, goodJS)
	f.Add("join-servers: [{file: js.yml, join-euis: ['0000000000000000/0'], components: [ns]}]", "fqdn: a\nprotocol: BI1.1\ntls: {key: {secret: x}}\nheaders: {a: *b}")
	f.Add("join-servers:\n  - &a {file: js.yml}\n  - *a\n", "<<: {fqdn: x}\nbasic-auth: [1]\n")
	f.Fuzz(func(t *testing.T, config, js string) {
		_, probs := Load(repoFS(map[string]string{"config.yml": config, "js.yml": js}), ".", testNow)
		for _, p := range probs {
			if p.File == "" || p.Message == "" {
				t.Fatalf("problem without file or message: %+v", p)
			}
		}
	})
}
