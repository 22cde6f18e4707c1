package prdiff

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func workflowFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("../../..", ".github", "workflows", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflow in .github/workflows (%v)", err)
	}
	return files
}

// TestWorkflowsPassActionlint runs actionlint, pinned as a Go tool of this
// module (go tool actionlint), on every workflow. actionlint checks the
// scripts of run: steps with shellcheck when it is installed.
func TestWorkflowsPassActionlint(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Log("shellcheck is not installed: actionlint checks the workflows but not the shell scripts of their run: steps (apt-get install shellcheck to check them too)")
	}
	args := []string{"tool", "actionlint", "-no-color"}
	for _, f := range workflowFiles(t) {
		rel, err := filepath.Rel("../../..", f)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, rel)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = "../../.." // the module root, where .github is
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("actionlint found problems (%v):\n%s", err, out)
	}
}

// TestWorkflowsArePinnedAndNeedNoAWSCredentials checks what actionlint does
// not: every action pinned to a full commit with its release in a comment,
// minimal permissions, and no AWS credentials anywhere.
func TestWorkflowsArePinnedAndNeedNoAWSCredentials(t *testing.T) {
	pinned := regexp.MustCompile(`^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$`)
	for _, file := range workflowFiles(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "uses:") && !pinned.MatchString(line) {
				t.Errorf("%s:%d: pin the action to a full commit SHA with its release as a comment (uses: owner/action@<40 hex> # vX.Y.Z): %s", file, i+1, strings.TrimSpace(line))
			}
		}
		lower := strings.ToLower(string(data))
		for _, banned := range []string{"aws-actions/", "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "role-to-assume", "id-token"} {
			if strings.Contains(lower, banned) {
				t.Errorf("%s mentions %q: the pull-request checks must run without AWS credentials", file, banned)
			}
		}
		if m := regexp.MustCompile(`secrets\.\w+`).FindString(string(data)); m != "" {
			t.Errorf("%s uses %s: the checks need no secret beyond the job's own token (github.token)", file, m)
		}
		var wf struct {
			Permissions map[string]string         `yaml:"permissions"`
			Jobs        map[string]map[string]any `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(data, &wf); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		want := map[string]string{"contents": "read", "pull-requests": "write"}
		if len(wf.Permissions) != len(want) || wf.Permissions["contents"] != "read" || wf.Permissions["pull-requests"] != "write" {
			t.Errorf("%s: permissions = %v, want exactly %v", file, wf.Permissions, want)
		}
		for name, job := range wf.Jobs {
			if _, ok := job["permissions"]; ok {
				t.Errorf("%s: job %s widens the permissions; keep them at the top, minimal", file, name)
			}
		}
	}
}

// TestMakefilePinsTheSameCLI keeps the Makefile's CDK_VERSION and the
// default of prdiff (used by its tests) the same.
func TestMakefilePinsTheSameCLI(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("../../..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^CDK_VERSION\s*:?=\s*(\S+)\s*$`).FindStringSubmatch(string(data))
	if m == nil || m[1] != DefaultCDKVersion {
		t.Errorf("the Makefile pins CDK_VERSION %v, prdiff.DefaultCDKVersion is %s; make them the same", m, DefaultCDKVersion)
	}
}
