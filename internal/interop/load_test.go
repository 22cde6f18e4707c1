package interop

import (
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"
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
	name    string
	files   map[string]string
	file    string
	marker  string // text on the expected line; "" means line 0 (no line)
	sev     Severity
	substrs []string
	opts    *Options
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
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-server: unknown key", `did you mean "join-servers"`}},
		{name: "unknown entry key", files: withConfig("join-servers:\n  - file: 'js.yml'\n    join-eui: #<\n      - 'EC656E0000000000/24'\n"),
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-servers[0].join-eui: unknown key"}},
		{name: "unknown Join Server key", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nfqdm: 'x' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"fqdm: unknown key", "fail at start"}},
		{name: "TTI enterprise type key", files: withConfig("join-servers:\n  - file: 'js.yml'\n    type: 'ttjsv2' #<\n"),
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-servers[0].type: unknown key"}},
		{name: "duplicate key", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nfqdn: 'other.example.com' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"fqdn: key appears twice (first on line 1)"}},
		{name: "YAML syntax error", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nheaders:\n  X-A: 'b'\n   X-B: 'c' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"invalid YAML"}},
		{name: "second YAML document", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\n--- #<\nport: 1\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"second YAML document"}},
		{name: "join-servers not a list", files: withConfig("join-servers: 'js.yml' #<\n"),
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-servers: expected a list"}},
		{name: "join-euis not a list", files: withConfig("join-servers:\n  - file: 'js.yml'\n    join-euis: 'EC656E0000000000/24' #<\n"),
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-servers[0].join-euis: expected a list"}},
		{name: "prefix without length", files: withConfig("join-servers:\n  - file: 'js.yml'\n    join-euis:\n      - 'EC656E0000000000/24'\n      - 'EC656E0000000000' #<\n"),
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-servers[0].join-euis[1]", "slash"}},
		{name: "prefix with bits past its length", files: withConfig("join-servers:\n  - file: 'js.yml'\n    join-euis:\n      - 'EC656E0000000001/24' #<\n"),
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-servers[0].join-euis[0]", "did you mean EC656E0000000000/24"}},
		{name: "prefix length 65", files: withConfig("join-servers:\n  - file: 'js.yml'\n    join-euis:\n      - 'EC656E0000000000/65' #<\n"),
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-euis[0]", "0 to 64"}},
		{name: "empty prefix matches everything in TTS", files: withConfig("join-servers:\n  - file: 'js.yml'\n    join-euis:\n      - '' #<\n"),
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-euis[0]", "0000000000000000/0"}},
		{name: "same prefix twice for both components",
			files: map[string]string{"config.yml": "join-servers:\n  - file: 'js.yml'\n    join-euis:\n      - 'EC656E0000000000/24'\n  - file: 'js2.yml'\n    join-euis:\n      - 'ec656e0000000000/24' #<\n", "js.yml": goodJS, "js2.yml": goodJS},
			file:  "config.yml", marker: "#<", sev: Error, substrs: []string{"join-servers[1].join-euis[0]", "already listed for as and ns on line 4", "unstable sort"}},
		{name: "same /64 prefix twice for ns only",
			files: map[string]string{"config.yml": "join-servers:\n  - file: 'js.yml'\n    components: ['ns']\n    join-euis:\n      - 'EC656E0000000001/64'\n  - file: 'js2.yml'\n    join-euis:\n      - 'EC656E0000000001/64' #<\n", "js.yml": goodJS, "js2.yml": goodJS},
			file:  "config.yml", marker: "#<", sev: Error, substrs: []string{"already listed for ns on line 5", "all listed Join Servers at once"}},
		{name: "same prefix twice in one entry", files: withConfig("join-servers:\n  - file: 'js.yml'\n    join-euis:\n      - 'EC656E0000000000/24'\n      - 'EC656E0000000000/24' #<\n"),
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-euis[1]", "in this same entry"}},
		{name: "missing Join Server file", files: map[string]string{"config.yml": "join-servers:\n  - file: './tti/js.yml' #<\n    join-euis: ['EC656E0000000000/24']\n"},
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-servers[0].file", "tti/js.yml", "not found"}},
		{name: "file outside the repository", files: withConfig("join-servers:\n  - file: '../js.yml' #<\n    join-euis: ['EC656E0000000000/24']\n"),
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-servers[0].file", "outside the repository"}},
		{name: "absolute file path", files: withConfig("join-servers:\n  - file: '/etc/js.yml' #<\n    join-euis: ['EC656E0000000000/24']\n"),
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-servers[0].file", "absolute path"}},
		{name: "file name in the wrong case", files: withConfig("join-servers:\n  - file: 'JS.yml' #<\n    join-euis: ['EC656E0000000000/24']\n"),
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-servers[0].file", `"js.yml" exists`, "case-sensitive"}},
		{name: "missing file key", files: withConfig("join-servers:\n  - join-euis: ['EC656E0000000000/24'] #<\n"),
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-servers[0]: missing 'file:'"}},
		{name: "unknown component", files: withConfig("join-servers:\n  - file: 'js.yml'\n    components: ['ns', 'js'] #<\n    join-euis: ['EC656E0000000000/24']\n"),
			file: "config.yml", marker: "#<", sev: Error, substrs: []string{"join-servers[0].components[1]", `"js"`, "ns (Network Server) or as"}},
		{name: "protocol unknown", files: withJS("fqdn: 'js.example.com'\nprotocol: 'bi1.1' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"protocol:", "unknown_protocol", "did you mean 'BI1.1'"}},
		{name: "protocol missing", files: withJS("fqdn: 'js.example.com' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"protocol: missing", "'BI1.0' or protocol: 'BI1.1'"}},
		{name: "BI1.1 from NS without sender-ns-id", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.1' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"sender-ns-id: missing", "missing_ns_id"}},
		{name: "sender-ns-id with BI1.0", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nsender-ns-id: '0102030405060708' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"sender-ns-id: not supported with protocol BI1.0", "ns_id_not_supported"}},
		{name: "sender-ns-id not an EUI", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.1'\nsender-ns-id: '01020304' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"sender-ns-id:", "16 hexadecimal digits"}},
		{name: "two key targets clash",
			files: map[string]string{"config.yml": "join-servers:\n  - file: 'js.yml'\n    join-euis: ['EC656E0000000000/24']\n  - file: 'js.yaml'\n    join-euis: ['1122330000000000/24']\n", "c.pem": cert,
				"js.yml":  "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem'\n  key: {secret: 'k1'}\n",
				"js.yaml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem'\n  key: {secret: 'k2'} #<\n"},
			file: "js.yaml", marker: "#<", sev: Error, substrs: []string{"tls.key:", "js.tls-key.pem"}},
		{name: "fqdn missing", files: withJS("protocol: 'BI1.0' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"fqdn: missing"}},
		{name: "fqdn is a URL", files: withJS("fqdn: 'https://js.example.com/api' #<\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"fqdn:", "is a URL"}},
		{name: "fqdn bad label", files: withJS("fqdn: 'js_1.example.com' #<\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"fqdn:", `label "js_1"`}},
		{name: "dns lookup not supported", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ndns: 'joineuis.lora-alliance.org' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"dns:", "does not support DNS lookup"}},
		{name: "scheme unsupported", files: withJS("scheme: 'ftp' #<\nfqdn: 'js.example.com'\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"scheme:", `"ftp"`}},
		{name: "port quoted", files: withJS("fqdn: 'js.example.com'\nport: '443' #<\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"port:", "without quotes"}},
		{name: "port out of range", files: withJS("fqdn: 'js.example.com'\nport: 70000 #<\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"port:", "1 to 65535"}},
		{name: "port zero", files: withJS("fqdn: 'js.example.com'\nport: 0 #<\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"port:", "1 to 65535"}},
		{name: "fqdn wrong type", files: withJS("fqdn: 12 #<\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"fqdn: expected a string", "the number 12"}},
		{name: "paths not a mapping", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\npaths: 'api/join' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"paths: expected a mapping"}},
		{name: "path with fragment", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\npaths:\n  join: 'api?x=1#top' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"paths.join:", "fragment", "would get /api?x=1"}},
		{name: "invalid header name", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nheaders:\n  X Custom: 'a' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"headers.X Custom:", "not a valid HTTP header name"}},
		{name: "header twice in different case", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nheaders:\n  X-A: 'a'\n  x-a: 'b' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"headers.x-a:", "same header as on line 4"}},
		{name: "password without username", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth: #<\n  password: {secret: 'js/password'}\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"basic-auth: password without username"}},
		{name: "secret name invalid", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password: {secret: 'my password!'} #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"basic-auth.password.secret:", "not a valid Secrets Manager secret name"}},
		{name: "secret ARN invalid", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password:\n    secret: 'arn:aws:secretsmanager:eu-west-1:1234:secret:x' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"basic-auth.password.secret:", "not a Secrets Manager secret ARN", "12 digits"}},
		{name: "secret reference unknown key", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password:\n    secret: 'js/password'\n    version: 'AWSCURRENT' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"basic-auth.password.version: unknown key", "secret, json-key"}},
		{name: "secret reference without secret", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password:\n    json-key: 'password' #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"basic-auth.password:", "needs 'secret:"}},
		{name: "root CA file missing",
			files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  root-ca: 'ca.pem' #<\n  certificate: 'c.pem'\n  key: {secret: 'k'}\n"),
			file:  "js.yml", marker: "#<", sev: Error, substrs: []string{"tls.root-ca:", "ca.pem", "not found"}},
		{name: "root CA without client certificate",
			files: map[string]string{"config.yml": goodConfig, "ca.pem": ca, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls: #<\n  root-ca: 'ca.pem'\n"},
			file:  "js.yml", marker: "#<", sev: Error, substrs: []string{"tls:", "empty TLS source"}},
		{name: "certificate without key",
			files: map[string]string{"config.yml": goodConfig, "c.pem": cert, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem' #<\n"},
			file:  "js.yml", marker: "#<", sev: Error, substrs: []string{"tls:", "certificate without key"}},
		{name: "key-vault with certificate",
			files: map[string]string{"config.yml": goodConfig, "c.pem": cert, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  source: 'key-vault' #<\n  certificate: 'c.pem'\n"},
			file:  "js.yml", marker: "#<", sev: Error, substrs: []string{"tls.source:", "key-vault", "ignores certificate and key", "source: 'file'"}},
		{name: "unknown TLS source",
			files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  source: 'acme' #<\n"),
			file:  "js.yml", marker: "#<", sev: Error, substrs: []string{"tls.source:", `"acme"`}},
		{name: "certificate not PEM",
			files: map[string]string{"config.yml": goodConfig, "c.pem": "not a certificate", "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem' #<\n  key: {secret: 'k'}\n"},
			file:  "js.yml", marker: "#<", sev: Error, substrs: []string{"tls.certificate:", "no PEM certificate"}},
		{name: "key does not match certificate",
			files: map[string]string{"config.yml": goodConfig, "c.pem": otherCert, "k.pem": key, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem'\n  key: 'k.pem' #<\n"},
			file:  "js.yml", marker: "#<", sev: Error, substrs: []string{"tls.key:", "does not match the certificate in c.pem"}},
		{name: "expired client certificate",
			files: map[string]string{"config.yml": goodConfig, "c.pem": expired, "k.pem": expiredKey, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem' #<\n  key: 'k.pem'\n"},
			file:  "js.yml", marker: "#<", sev: Error, substrs: []string{"tls.certificate:", "expired on 2030-05-31"}},
		{name: "private key inside certificate file",
			files: map[string]string{"config.yml": goodConfig, "c.pem": cert + key, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem' #<\n  key: {secret: 'k'}\n"},
			file:  "js.yml", marker: "#<", sev: Error, substrs: []string{"tls.certificate:", "holds a private key"}},
		{name: "TLS path outside the repository",
			files: map[string]string{"config.yml": "join-servers:\n  - file: 'sub/js.yml'\n    join-euis: ['EC656E0000000000/24']\n", "sub/js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: '../../c.pem' #<\n  key: {secret: 'k'}\n"},
			file:  "sub/js.yml", marker: "#<", sev: Error, substrs: []string{"tls.certificate:", "outside the repository"}},
		{name: "TLS paths are relative to the Join Server file",
			files: map[string]string{"config.yml": "join-servers:\n  - file: 'sub/js.yml'\n    join-euis: ['EC656E0000000000/24']\n", "c.pem": cert, "sub/js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem' #<\n  key: {secret: 'k'}\n"},
			file:  "sub/js.yml", marker: "#<", sev: Error, substrs: []string{"tls.certificate:", "sub/c.pem", "not found"}},
		{name: "missing config.yml", files: map[string]string{"js.yml": goodJS},
			file: "config.yml", marker: "", sev: Error, substrs: []string{"cannot read config.yml", "join-servers: []"}},
		{name: "empty Join Server file", files: withJS(""),
			file: "js.yml", marker: "", sev: Error, substrs: []string{"the file is empty"}},

		// Warnings.
		{name: "numeric password not echoed", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password: 8675309 #<\n"),
			file: "js.yml", marker: "#<", sev: Error, substrs: []string{"basic-auth.password:", "YAML type int"}},
		{name: "literal password", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password: 'hunter2' #<\n"),
			file: "js.yml", marker: "#<", sev: Warning, substrs: []string{"basic-auth.password:", "literal secret in git", "{secret:"}},
		{name: "literal credential header", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nheaders:\n  X-Api-Key: 'abc' #<\n"),
			file: "js.yml", marker: "#<", sev: Warning, substrs: []string{"headers.X-Api-Key:", "literal secret in git"}},
		{name: "literal key file",
			files: map[string]string{"config.yml": goodConfig, "c.pem": cert, "k.pem": key, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem'\n  key: 'k.pem' #<\n"},
			file:  "js.yml", marker: "#<", sev: Warning, substrs: []string{"tls.key:", "literal secret in git", "k.pem"}},
		{name: "certificate expires within 30 days",
			files: func() map[string]string {
				c, k := genCert(t, certOpts{notAfter: testNow.Add(10 * 24 * time.Hour)})
				return map[string]string{"config.yml": goodConfig, "c.pem": c, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem' #<\n  key: {secret: 'k'}\n", "unused": k}
			}(),
			file: "js.yml", marker: "#<", sev: Warning, substrs: []string{"tls.certificate:", "expires on 2030-06-11", "in 10 days"}},
		{name: "certificate not for client auth",
			files: map[string]string{"config.yml": goodConfig, "c.pem": serverOnly, "k.pem": serverOnlyKey, "js.yml": "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\ntls:\n  certificate: 'c.pem' #<\n  key: {secret: 'k'}\n"},
			file:  "js.yml", marker: "#<", sev: Warning, substrs: []string{"tls.certificate:", "clientAuth"}},
		{name: "plain http", files: withJS("scheme: 'http' #<\nfqdn: 'js.example.com'\nprotocol: 'BI1.0'\n"),
			file: "js.yml", marker: "#<", sev: Warning, substrs: []string{"scheme:", "unencrypted"}},
		{name: "empty components list", files: withConfig("join-servers:\n  - file: 'js.yml'\n    components: [] #<\n    join-euis: ['EC656E0000000000/24']\n"),
			file: "config.yml", marker: "#<", sev: Warning, substrs: []string{"join-servers[0].components:", "both as and ns"}},
		{name: "leading slash in path", files: withJS("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\npaths:\n  join: '/api/join' #<\n"),
			file: "js.yml", marker: "#<", sev: Warning, substrs: []string{"paths.join:", "https://js.example.com:443//api/join"}},
		{name: "unreferenced Join Server file", files: map[string]string{"config.yml": goodConfig, "js.yml": goodJS, "old/js.yml": goodJS},
			file: "old/js.yml", marker: "", sev: Warning, substrs: []string{"not referenced from config.yml"}},
		{name: "stray private key", files: map[string]string{"config.yml": goodConfig, "js.yml": goodJS, "old-key.pem": key},
			file: "old-key.pem", marker: "", sev: Warning, substrs: []string{"private key", "not referenced"}},
		{name: "sender-ns-id only used by AS", files: withConfig("join-servers:\n  - file: 'js.yml'\n    components: ['as']\n    join-euis: ['EC656E0000000000/24']\n"),
			file: "js.yml", marker: "#<", sev: Warning, substrs: []string{"sender-ns-id:", "only the Application Server"}},
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
			requireProblem(t, probs, tc.sev, tc.file, line, tc.substrs...)
			for _, p := range probs {
				for _, secret := range []string{"hunter2", "8675309"} {
					if strings.Contains(p.Message, secret) {
						t.Errorf("message reveals a secret: %s", p)
					}
				}
			}
			if tc.sev == Warning && probs.HasErrors() {
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
		sub  string
	}{
		{"config.yml", 3, "EC656E0000000001/24"},
		{"config.yml", 6, "missing.yml"},
		{"a.yml", 2, "BI9"},
		{"a.yml", 3, "prot: unknown key"},
		{"b.yml", 1, "fqdn: missing"},
		{"b.yml", 1, "port:"},
	} {
		requireProblem(t, probs, Error, want.file, want.line, want.sub)
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
