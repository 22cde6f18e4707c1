package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const example = "../../../../params/example-interop"

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb, time.Now())
	return code, out.String(), errb.String()
}

func writeRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheckExample(t *testing.T) {
	code, out, errOut := runCLI(t, "check", example)
	if code != 0 || out != "" {
		t.Fatalf("check example: code %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "OK, 4 Join Server file(s), 0 warning(s)") {
		t.Errorf("summary missing: %s", errOut)
	}
}

func TestCheckReportsErrorsAndWarnings(t *testing.T) {
	dir := writeRepo(t, map[string]string{
		"config.yml": "join-servers:\n  - file: 'js.yml'\n    join-euis: ['EC656E0000000001/24']\n",
		"js.yml":     "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password: 'secret'\n",
	})
	code, out, _ := runCLI(t, "check", dir)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{
		filepath.ToSlash(filepath.Join(dir, "config.yml")) + ":3: error: join-servers[0].join-euis[0]: ",
		filepath.ToSlash(filepath.Join(dir, "js.yml")) + ":5: warning: basic-auth.password: literal secret in git",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "'secret'") || strings.Contains(out, `"secret"`) {
		t.Errorf("output reveals the literal password:\n%s", out)
	}
}

func TestCheckWarningsOnlyExitsZero(t *testing.T) {
	dir := writeRepo(t, map[string]string{
		"config.yml": "join-servers:\n  - file: 'js.yml'\n    join-euis: ['EC656E0000000000/24']\n",
		"js.yml":     "scheme: 'http'\nfqdn: 'js.example.com'\nprotocol: 'BI1.0'\n",
	})
	code, out, _ := runCLI(t, "check", dir)
	if code != 0 || !strings.Contains(out, ":1: warning: scheme:") {
		t.Errorf("code %d, output:\n%s", code, out)
	}
}

func TestResolve(t *testing.T) {
	code, out, errOut := runCLI(t, "resolve", example, "--component", "ns", "--join-eui", "EC656E0000001234")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	for _, want := range []string{
		"JoinEUI EC656E0000001234 from ns -> Join Server tti/ns.yml",
		"matching prefix:  EC656E0000000000/24 (config.yml:12, join-servers[0])",
		"less specific:    0000000000000000/0 -> fallback/js.yml",
		"scheme:        https (default)",
		"port:          443 (default)",
		"join:        https://join.cloud.thethings.industries:443   <- used by ns",
		"sender-ns-id:  70B3D57ED0000001",
		"password:    {secret tts-example/interop/tti-join-server, json-key ns-password}",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Flags before the folder work too, and as gets its own file.
	code, out, _ = runCLI(t, "resolve", "--component=as", "--join-eui=ec656e0000001234", example)
	if code != 0 || !strings.Contains(out, "-> Join Server tti/as.yml") || !strings.Contains(out, "(not used by as)") {
		t.Errorf("as resolution: code %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "resolve", example, "--component", "as", "--join-eui", "1122330000000042")
	if code != 0 || !strings.Contains(out, "key:         {secret tts-example/interop/example-js-client-key} -> written to example-js/js.tls-key.pem") {
		t.Errorf("TLS resolution: code %d\n%s", code, out)
	}
}

func TestResolveLiteralHidden(t *testing.T) {
	dir := writeRepo(t, map[string]string{
		"config.yml": "join-servers:\n  - file: 'js.yml'\n    join-euis: ['EC656E0000000000/24']\n",
		"js.yml":     "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password: 'hunter2'\nheaders:\n  Authorization-Token: 'tok123'\n  X-Plain: 'visible'\n",
	})
	code, out, _ := runCLI(t, "resolve", dir, "--component", "ns", "--join-eui", "EC656E0000000001")
	if code != 0 || strings.Contains(out, "hunter2") || strings.Contains(out, "tok123") {
		t.Errorf("code %d; literals must be hidden:\n%s", code, out)
	}
	if !strings.Contains(out, "password:    (literal, hidden)") || !strings.Contains(out, "X-Plain: visible") {
		t.Errorf("unexpected output:\n%s", out)
	}
}

func TestResolveNoMatch(t *testing.T) {
	dir := writeRepo(t, map[string]string{"config.yml": "join-servers: []\n"})
	code, out, _ := runCLI(t, "resolve", dir, "--component", "ns", "--join-eui", "EC656E0000001234")
	if code != 1 || !strings.Contains(out, "No Join Server for JoinEUI EC656E0000001234 from ns") {
		t.Errorf("code %d:\n%s", code, out)
	}
}

func TestResolveRefusesInvalidRepository(t *testing.T) {
	dir := writeRepo(t, map[string]string{"config.yml": "join-servers:\n  - file: 'missing.yml'\n    join-euis: ['EC656E0000000000/24']\n"})
	code, _, errOut := runCLI(t, "resolve", dir, "--component", "ns", "--join-eui", "EC656E0000001234")
	if code != 1 || !strings.Contains(errOut, "config.yml:2: error: join-servers[0].file") {
		t.Errorf("code %d:\n%s", code, errOut)
	}
}

func TestUsage(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "Usage:"},
		{[]string{"check", "-h"}, 0, "Usage:"},
		{nil, 2, "Usage:"},
		{[]string{"lint", example}, 2, `unknown command "lint"`},
		{[]string{"check"}, 2, "want exactly one DIR"},
		{[]string{"check", "/nonexistent/dir"}, 2, "is not a folder"},
		{[]string{"check", example, "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"resolve", example, "--component", "ns"}, 2, "--component and --join-eui are required"},
		{[]string{"resolve", example, "--component", "js", "--join-eui", "EC656E0000001234"}, 2, `unknown component "js"`},
		{[]string{"resolve", example, "--component", "ns", "--join-eui", "EC656E"}, 2, "16 hexadecimal digits"},
		{[]string{"check", example, "--ns-interop-id", "xyz"}, 2, "--ns-interop-id"},
	}
	for _, c := range cases {
		code, out, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%v: code %d, want %d with %q; got:\n%s%s", c.args, code, c.code, c.want, out, errOut)
		}
	}
}

func TestNSInteropIDFlag(t *testing.T) {
	dir := writeRepo(t, map[string]string{
		"config.yml": "join-servers:\n  - file: 'js.yml'\n    join-euis: ['EC656E0000000000/24']\n",
		"js.yml":     "fqdn: 'js.example.com'\nprotocol: 'BI1.1'\n",
	})
	if code, out, _ := runCLI(t, "check", dir); code != 1 || !strings.Contains(out, "sender-ns-id: missing") {
		t.Errorf("without ns.interop.id: code %d\n%s", code, out)
	}
	code, out, _ := runCLI(t, "resolve", dir, "--ns-interop-id", "0102030405060708", "--component", "ns", "--join-eui", "EC656E0000000001")
	if code != 0 || !strings.Contains(out, "sender-ns-id:  0102030405060708 (from ns.interop.id)") {
		t.Errorf("with ns.interop.id: code %d\n%s", code, out)
	}
}
