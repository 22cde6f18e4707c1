package prdiff

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOverridesAreParsedStrictly(t *testing.T) {
	good := "# reviewed in PR 42\noverrides:\n  - stack: tts-Data\n    logicalId: DatabaseCluster5B53A178\n    reason: engine change; restored from snapshot pre-42\n"
	got, err := ParseOverrides("params/prod.dataloss.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Stack != "tts-Data" || got[0].LogicalID != "DatabaseCluster5B53A178" || got[0].Where != "params/prod.dataloss.yaml:3" {
		t.Errorf("ParseOverrides = %+v", got)
	}
	if got, err := ParseOverrides("f", []byte("")); err != nil || len(got) != 0 {
		t.Errorf("an empty file: %v, %v; want no override and no error", got, err)
	}

	for name, c := range map[string]struct{ text, words string }{
		"unknown key":        {"overrides:\n  - stack: tts-Data\n    logicalId: A\n    reason: r\n    expires: 2026-01-01\n", "f:5: unknown key expires; the file holds one key, overrides"},
		"unknown top key":    {"allow:\n  - stack: tts-Data\n", "f:1: unknown key allow"},
		"missing reason":     {"overrides:\n  - stack: tts-Data\n    logicalId: A\n", "f:2: reason: missing"},
		"blank reason":       {"overrides:\n  - stack: tts-Data\n    logicalId: A\n    reason: '  '\n", "f:2: reason: missing"},
		"missing stack":      {"overrides:\n  - logicalId: A\n    reason: r\n", "f:2: stack: want the full stack name"},
		"bad logical id":     {"overrides:\n  - stack: tts-Data\n    logicalId: Data/Database\n    reason: r\n", "f:2: logicalId: want the logical id"},
		"twice":              {"overrides:\n  - {stack: tts-Data, logicalId: A, reason: r}\n  - {stack: tts-Data, logicalId: A, reason: s}\n", "f:3: tts-Data/A is already allowed at f:2"},
		"not a list":         {"overrides: tts-Data\n", "cannot unmarshal"},
		"key given twice":    {"overrides: []\noverrides: []\n", "already defined"},
		"every problem once": {"overrides:\n  - {stack: tts-Data, logicalId: A}\n  - {stack: tts-Data, logicalId: B}\n", "f:2: reason: missing; say why losing the data of A is acceptable and how it is recovered\nf:3: reason: missing"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseOverrides("f", []byte(c.text))
			if err == nil || !strings.Contains(err.Error(), c.words) {
				t.Errorf("error = %v, want one with %q", err, c.words)
			}
		})
	}
}

func TestLoadOverridesOfAnEnvironment(t *testing.T) {
	dir := t.TempDir()
	if got, err := LoadOverrides(dir, "prod"); err != nil || got != nil {
		t.Errorf("without a file: %v, %v; want none", got, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "params"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "params", "prod.dataloss.yaml"), []byte("overrides:\n  - {stack: tts-Data, logicalId: A, reason: r}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadOverrides(dir, "prod")
	if err != nil || len(got) != 1 || got[0].Where != "params/prod.dataloss.yaml:2" {
		t.Errorf("LoadOverrides = %+v, %v", got, err)
	}
}

func TestEnvironmentsAreTheParameterFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"example.yaml", "prod.yaml", "prod.dataloss.yaml", "model.go", "Notes.yaml"} {
		if err := os.MkdirAll(filepath.Join(dir, "params"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "params", f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Environments(dir)
	if err != nil || strings.Join(got, ",") != "example,prod" {
		t.Errorf("Environments = %v, %v; want example,prod", got, err)
	}
}

// TestReadmeOverrideExampleIsValid keeps the example of README.md loadable.
func TestReadmeOverrideExampleIsValid(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("../../..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(data), "```yaml\n")
	for _, b := range blocks[1:] {
		text, _, _ := strings.Cut(b, "```")
		if !strings.Contains(text, "overrides:") {
			continue
		}
		got, err := ParseOverrides("README.md", []byte(text))
		if err != nil || len(got) != 1 || !strings.Contains(got[0].Reason, "orphaned instance") {
			t.Errorf("the README's override example: %+v, %v", got, err)
		}
		return
	}
	t.Error("README.md has no override example (a yaml block with overrides:)")
}
