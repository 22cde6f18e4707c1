package test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadParameterFileFailsCleanly runs the app binary as the CDK CLI does
// (context in CDK_CONTEXT_JSON, working directory the project) on a file with
// an unknown key, a wrong type and a missing required value.
func TestBadParameterFileFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "app")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
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
	ctx, _ := json.Marshal(map[string]any{"env": "broken"})
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CDK_CONTEXT_JSON="+string(ctx), "CDK_OUTDIR="+filepath.Join(dir, "cdk.out"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() == 0 {
		t.Fatalf("app exited with %v, want a non-zero exit status; stderr:\n%s", err, stderr.String())
	}
	out := stderr.String()
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
		if strings.Contains(out+stdout.String(), bad) {
			t.Errorf("output contains %q (a Go panic or stack trace):\n%s", bad, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cdk.out", "manifest.json")); err == nil {
		t.Error("a cloud assembly was written although the parameters are invalid")
	}
}
