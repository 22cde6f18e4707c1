package test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBadParameterFileFailsCleanly runs the app binary as the CDK CLI does
// (context in CDK_CONTEXT_JSON, working directory the project) on a file with
// an unknown key, a wrong type and a missing required value.
func TestBadParameterFileFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	bin := buildApp(t, dir)
	if err := os.MkdirAll(filepath.Join(dir, "params"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := "StackPrefix: tts\n" +
		"Region: eu-west-1\n" +
		"DomainName: tts.example.com\n" +
		"HostedZoneId: Z0123456789EXAMPLE00\n" +
		"HostedZoneName: example.com\n" +
		"SupportProxyTls: true\n" +
		"NatGateways: two\n"
	if err := os.WriteFile(filepath.Join(dir, "params", "broken.yaml"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, out := runAppFailing(t, bin, dir, "broken")
	for _, want := range []string{
		"params/broken.yaml:1: error: Account: required parameter is missing",
		"params/broken.yaml:6: error: SupportProxyTls: unknown parameter; did you mean SupportProxyTLS?",
		"params/broken.yaml:7: error: NatGateways: want a whole number; got \"two\"",
		"3 problem(s) in the parameters",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"panic", "goroutine ", ".go:"} {
		if strings.Contains(out+stdout, bad) {
			t.Errorf("output contains %q (a Go panic or stack trace):\n%s", bad, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cdk.out", "manifest.json")); err == nil {
		t.Error("a cloud assembly was written although the parameters are invalid")
	}
}

// TestBadInteropRepositoryFailsCleanly runs the app on valid parameters that
// name an interop repository with mistakes: the synthesis stops before any
// stack is built, and every mistake is named with file and line.
func TestBadInteropRepositoryFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	bin := buildApp(t, dir)
	example, err := os.ReadFile(filepath.Join("..", "params", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	paramsFile := strings.Replace(string(example), "InteropRepository: example-interop", "InteropRepository: bad-interop", 1)
	if paramsFile == string(example) {
		t.Fatal("params/example.yaml no longer names example-interop; update this test")
	}
	files := map[string]string{
		"params/staging.yaml": paramsFile,
		"params/bad-interop/config.yml": "join-servers:\n" +
			"  - file: ./js.yml\n" +
			"    join-euis: ['EC656E0000000000/20']\n" +
			"  - file: ./missing.yml\n" +
			"    join-euis: ['EC656E00000000FF/24']\n",
		"params/bad-interop/js.yml": "fqdn: js.example.com\n" +
			"protocol: BI1.1\n" +
			"sender-ns-id: '70B3D57ED0000001'\n" +
			"portt: 443\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stdout, out := runAppFailing(t, bin, dir, "staging")
	for _, want := range []string{
		"params/bad-interop/config.yml:4: error:",
		"missing.yml",
		"params/bad-interop/config.yml:5: error:",
		"params/bad-interop/js.yml:4: error:",
		"portt",
		"problem(s) in the interop repository",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"panic", "goroutine "} {
		if strings.Contains(out+stdout, bad) {
			t.Errorf("output contains %q:\n%s", bad, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cdk.out", "manifest.json")); err == nil {
		t.Error("a cloud assembly was written although the interop repository is invalid")
	}
}

// buildApp builds the app binary into dir.
func buildApp(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "app")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runAppFailing runs the app as the CDK CLI does (context in
// CDK_CONTEXT_JSON, working directory dir) for environment env, requires a
// non-zero exit status and returns its stdout and stderr.
func runAppFailing(t *testing.T, bin, dir, env string) (stdout, stderr string) {
	t.Helper()
	ctx, _ := json.Marshal(map[string]any{"env": env})
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CDK_CONTEXT_JSON="+string(ctx), "CDK_OUTDIR="+filepath.Join(dir, "cdk.out"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() == 0 {
		t.Fatalf("app exited with %v, want a non-zero exit status; stderr:\n%s", err, errOut.String())
	}
	return out.String(), errOut.String()
}

// TestExampleMailboxesWarnAndSynthesize runs the app binary as the CDK CLI
// does on the example (whose addresses are in example.com) with an alarm
// address in example.org: each address gets a warning that names what will
// not work, and the synthesis still succeeds.
func TestExampleMailboxesWarnAndSynthesize(t *testing.T) {
	dir := t.TempDir()
	bin := buildApp(t, dir)
	ctx, err := cdkJSONContext()
	if err != nil {
		t.Fatal(err)
	}
	ctx["AlarmEmail"] = "alarms@example.org"
	ctxJSON, _ := json.Marshal(ctx)
	out := filepath.Join(dir, "cdk.out")
	cmd := exec.Command(bin)
	cmd.Dir = ".." // the app builds its deploy-time function from go.mod's folder
	cmd.Env = append(os.Environ(), "CDK_CONTEXT_JSON="+string(ctxJSON), "CDK_OUTDIR="+out)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("app: %v, want success; stderr:\n%s", err, stderr.String())
	}
	for _, want := range []string{
		"Let's Encrypt refuses to register an ACME account",
		`params/example.yaml: warning: AdminEmail: "admin@tts.example.com" is in example.com`,
		"administrator user cannot receive mail",
		`warning: AlarmEmail: "alarms@example.org" is in example.org`,
		"alarms (services, target groups, data tier, certificates, proxy errors) go nowhere",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if !regexp.MustCompile(`(?m)^params/example\.yaml:[0-9]+: warning: AcmeEmail: "ops@example\.com" is in example\.com`).MatchString(stderr.String()) {
		t.Errorf("stderr lacks the AcmeEmail warning with file and line:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		t.Errorf("no cloud assembly written: %v", err)
	}
}
