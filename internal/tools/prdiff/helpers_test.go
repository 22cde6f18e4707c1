package prdiff

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// res builds a template resource.
type res map[string]any

// tpl builds a template from resources by logical id.
func tpl(resources map[string]res) map[string]any {
	return map[string]any{"Resources": resources}
}

func writeJSON(t *testing.T, file string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeAssembly writes a minimal cloud assembly, as `cdk synth` would: a
// manifest.json naming one stack artifact per template, in the given order.
func writeAssembly(t *testing.T, dir string, order []string, templates map[string]map[string]any) {
	t.Helper()
	// The manifest keeps the order of the stacks, as synthesis writes it.
	manifest := `{"version": "54.0.0", "artifacts": {`
	for i, name := range order {
		if i > 0 {
			manifest += ","
		}
		manifest += `"` + name + `": {"type": "aws:cloudformation:stack", "environment": "aws://123456789012/eu-west-1",` +
			`"properties": {"templateFile": "` + name + `.template.json"}}`
		writeJSON(t, filepath.Join(dir, name+".template.json"), templates[name])
	}
	manifest += "}}"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
}

// requireNpx returns the CDK runner, or skips (fails under CI=true) when
// npx is missing.
func requireNpx(t *testing.T) CDK {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the CDK CLI (a few seconds)")
	}
	if _, err := exec.LookPath("npx"); err != nil {
		msg := "MISSING TOOL npx: the data-loss guard tests run the real CDK CLI (npx -y aws-cdk@" + DefaultCDKVersion + "); install Node.js 20 or later"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: a missing tool is a failure)")
		}
		t.Skip(msg)
	}
	return CDK{Command: DefaultCDK(), Scratch: t.TempDir()}
}
