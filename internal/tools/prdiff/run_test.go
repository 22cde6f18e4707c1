package prdiff

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSynth stands in for `make synth`: it copies the hand-written assembly
// of the environment (-c env=NAME) to the output folder (-o DIR).
const fakeSynth = `#!/bin/sh
while [ $# -gt 0 ]; do
  case "$1" in
    -c) env="${2#env=}"; shift ;;
    -o) out="$2"; shift ;;
  esac
  shift
done
mkdir -p "$out" && cp assemblies/"$env"/* "$out"/
`

// fakeProject writes a project whose `make synth` copies hand-written
// assemblies, so that Run is tested end to end (git worktree, environments,
// overrides, the real CDK CLI) without a CDK app.
func fakeProject(t *testing.T, dir string, data, edge map[string]res) {
	t.Helper()
	files := map[string]string{
		"Makefile":            "synth:\n\tsh synth.sh $(ARGS)\n",
		"synth.sh":            fakeSynth,
		"params/example.yaml": "StackPrefix: t\n",
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeAssembly(t, filepath.Join(dir, "assemblies", "example"), []string{"t-Data", "t-Edge"},
		map[string]map[string]any{"t-Data": tpl(data), "t-Edge": tpl(edge)})
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestRunComparesAWorkingTreeWithItsBase(t *testing.T) {
	cdk := requireNpx(t)
	repo := t.TempDir()
	fakeProject(t, repo,
		map[string]res{"Database": database("tts-db", true), "Blobs": bucket()},
		map[string]res{"Listener443": listener(true)})
	gitIn(t, repo, "init", "--quiet")
	gitIn(t, repo, "add", ".")
	gitIn(t, repo, "commit", "--quiet", "-m", "base")

	// The change under review: the database is replaced (allowed, with a
	// reason), the bucket removed (refused), the listener changed; and a new
	// environment appears.
	fakeProject(t, repo,
		map[string]res{"Database": database("tts-db-2", true)},
		map[string]res{"Listener443": listener(false)})
	override := "overrides:\n  - stack: t-Data\n    logicalId: Database\n    reason: renamed on purpose, restored from snapshot\n"
	if err := os.WriteFile(filepath.Join(repo, "params", "example.dataloss.yaml"), []byte(override), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "params", "lab.yaml"), []byte("StackPrefix: lab\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeAssembly(t, filepath.Join(repo, "assemblies", "lab"), []string{"lab-Data"},
		map[string]map[string]any{"lab-Data": tpl(map[string]res{"Blobs": bucket()})})

	report, err := Run(context.Background(), Options{Repo: repo, Base: "HEAD", CDK: cdk, CDKVersion: DefaultCDKVersion, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	md := report.Markdown()
	if !report.Failed() {
		t.Errorf("the guard passes although a bucket is removed:\n%s", md)
	}
	for _, want := range []string{
		"### Environment `example`",
		"| `t-Data` | 0 | 0 | 1 | 1 | - |",
		"| `t-Edge` | 0 | 1 | 0 | 0 | - |",
		"- modified `Listener443` AWS::ElasticLoadBalancingV2::Listener: Certificates, Protocol, SslPolicy",
		"- **refused** `t-Data` `Blobs` AWS::S3::Bucket: removed from the stack",
		"- allowed by params/example.dataloss.yaml:2: `t-Data` `Database` AWS::RDS::DBCluster: will be replaced",
		"### Environment `lab`",
		"New environment: every resource is added.",
		"| `lab-Data` (new stack) | 1 | 0 | 0 | 0 | - |",
		"Data-loss guard for `lab`: passed",
		"**Data-loss guard: FAILED.**",
		// The listener keeps its target group but stops terminating TLS.
		"Availability guard for `example`: **FAILED**\n- **listener** listener 443 of",
		"protocol TLS -> TCP with the same target group",
		"Availability guard for `lab`: passed",
		"**Availability guard: FAILED.**",
		// The cost (make cost): the bucket's month of storage goes, the
		// database's storage and I/O stay; the new environment's bucket.
		"Estimated monthly cost (`make cost`): $3.32 before, $3.30 after: **-$0.02** (-0.7%).\n- per kind: S3, CDN -$0.02\n- per stack: `t-Data` -$0.02\n",
		"Estimated monthly cost (`make cost`): $0.02 (new environment).",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Index(md, "`t-Data`") > strings.Index(md, "`t-Edge`") {
		t.Error("stacks are not in the order of deployment (the manifest's)")
	}
	if list := gitIn(t, repo, "worktree", "list"); strings.Count(list, "\n") != 1 {
		t.Errorf("the temporary worktree is left behind:\n%s", list)
	}

	// The committed revision against itself: nothing changes, nothing to run.
	same, err := Run(context.Background(), Options{Repo: repo, Base: "HEAD", Head: "HEAD", CDK: cdk, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if same.Failed() || len(same.Envs) != 1 || len(same.Envs[0].Stacks) != 2 || len(same.Envs[0].Stacks[0].Diff.Changes) != 0 {
		t.Errorf("HEAD against HEAD: %s", same.Markdown())
	}

	if _, err := Run(context.Background(), Options{Repo: repo, Base: "origin/main", CDK: cdk}); err == nil || !strings.Contains(err.Error(), "make diff BASE=HEAD~1") {
		t.Errorf("a missing base: error %v, want one that says how to pick another", err)
	}
}
