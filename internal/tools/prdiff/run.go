package prdiff

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cost"
)

// Options of Run.
type Options struct {
	// Repo is the project's working tree.
	Repo string
	// Base is the git revision compared against, e.g. origin/main.
	Base string
	// Head is the git revision to compare; empty compares the working tree
	// (with its uncommitted changes).
	Head string
	// CDK runs the CLI; CDK.Scratch is set by Run.
	CDK CDK
	// CDKVersion is shown in the report.
	CDKVersion string
	// Jobs bounds the CLI processes and syntheses run at once (at least 1).
	Jobs int
	// Log receives progress lines.
	Log io.Writer
}

// envName is how params.FromContext names environments (params/NAME.yaml).
var envName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Environments lists the environments of a project: params/NAME.yaml.
func Environments(projectDir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(projectDir, "params", "*.yaml"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		if envName.MatchString(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Run synthesizes every environment at the base revision (in a temporary git
// worktree, with that revision's own Makefile) and at the head, diffs every
// stack with the CDK CLI and applies the data-loss and availability guards.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Jobs < 1 {
		o.Jobs = 1
	}
	if len(o.CDK.Command) == 0 {
		return nil, fmt.Errorf("no command for the CDK CLI; pass e.g. -cdk 'npx -y aws-cdk@%s'", DefaultCDKVersion)
	}
	scratch, err := os.MkdirTemp("", "prdiff-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	o.CDK.Scratch = scratch

	baseRev, err := resolve(ctx, o.Repo, o.Base)
	if err != nil {
		return nil, err
	}
	baseDir := filepath.Join(scratch, "base")
	if err := addWorktree(ctx, o.Repo, baseDir, baseRev); err != nil {
		return nil, err
	}
	defer removeWorktree(o.Repo, baseDir)
	report := &Report{Base: describeRev(o.Base, baseRev), Head: "the working tree", CDKVersion: o.CDKVersion}
	headDir := o.Repo
	if o.Head != "" {
		headRev, err := resolve(ctx, o.Repo, o.Head)
		if err != nil {
			return nil, err
		}
		headDir = filepath.Join(scratch, "head")
		if err := addWorktree(ctx, o.Repo, headDir, headRev); err != nil {
			return nil, err
		}
		defer removeWorktree(o.Repo, headDir)
		report.Head = describeRev(o.Head, headRev)
	}

	baseEnvs, err := Environments(baseDir)
	if err != nil {
		return nil, err
	}
	headEnvs, err := Environments(headDir)
	if err != nil {
		return nil, err
	}
	for _, env := range union(baseEnvs, headEnvs) {
		e, err := o.diffEnv(ctx, env, baseDir, headDir, contains(baseEnvs, env), contains(headEnvs, env))
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", env, err)
		}
		report.Envs = append(report.Envs, *e)
	}
	return report, nil
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

func (o Options) diffEnv(ctx context.Context, env, baseDir, headDir string, inBase, inHead bool) (*EnvReport, error) {
	e := &EnvReport{Name: env, OverrideFile: OverrideFileOf(env)}
	overrides, err := LoadOverrides(headDir, env)
	if err != nil {
		return nil, err
	}
	if !inHead {
		e.Note = "The environment's parameter file was removed. Nothing is deployed for it any more; its stacks stay as they are until destroyed by hand."
		return e, nil
	}
	if !inBase {
		e.Note = "New environment: every resource is added."
	}

	// Synthesize both sides at once.
	dirs := map[string]string{"base": filepath.Join(o.CDK.Scratch, "asm-base-"+env), "head": filepath.Join(o.CDK.Scratch, "asm-head-"+env)}
	srcs := map[string]string{"base": baseDir, "head": headDir}
	sides := []string{"head"}
	if inBase {
		sides = append(sides, "base")
	}
	errs := make([]error, len(sides))
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.Jobs)
	for i, side := range sides {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			o.logf("synthesizing %s at the %s", env, side)
			_, errs[i] = o.CDK.Synthesize(ctx, srcs[side], env, dirs[side])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sides[i], err)
		}
	}
	head, err := ReadAssembly(dirs["head"])
	if err != nil {
		return nil, err
	}
	base := &Assembly{Stacks: map[string]*Stack{}}
	if inBase {
		if base, err = ReadAssembly(dirs["base"]); err != nil {
			return nil, err
		}
	}
	empty := filepath.Join(o.CDK.Scratch, "empty.template.json")
	if err := os.WriteFile(empty, []byte("{}\n"), 0o644); err != nil {
		return nil, err
	}

	ids := head.IDs()
	for _, id := range base.IDs() {
		if head.Stacks[id] == nil {
			ids = append(ids, id)
		}
	}
	stacks := make([]StackReport, len(ids))
	errs = make([]error, len(ids))
	for i, id := range ids {
		b, h := base.Stacks[id], head.Stacks[id]
		switch {
		case h == nil:
			stacks[i] = StackReport{Name: b.Name, Note: "left the app: the CDK does not delete it, nothing changes in it"}
			continue
		case b != nil && bytes.Equal(b.Raw, h.Raw):
			stacks[i] = StackReport{Name: h.Name}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			oldFile, old, note := empty, Template{}, "new stack"
			if b != nil {
				oldFile, old, note = b.TemplateFile, b.Template, ""
			}
			known := func(id string) bool {
				_, inOld := old.Resources[id]
				_, inNew := h.Template.Resources[id]
				return inOld || inNew
			}
			o.logf("diffing %s %s", env, h.Name)
			d, out, err := o.CDK.DiffStack(ctx, head.Dir, id, oldFile, known)
			stacks[i], errs[i] = StackReport{Name: h.Name, Note: note, Diff: d, CLIOutput: out}, err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	e.Stacks = stacks
	for i, id := range ids {
		if b, h := base.Stacks[id], head.Stacks[id]; b != nil && h != nil {
			e.Findings = append(e.Findings, Guard(h.Name, stacks[i].Diff, b.Template, h.Template)...)
		}
	}
	e.Unused = ApplyOverrides(e.Findings, overrides)
	e.Availability = CheckAvailability(base, head)
	var baseAsm *Assembly
	if inBase {
		baseAsm = base
	}
	e.Cost = CostDelta(env, baseAsm, head)
	return e, nil
}

// CostDelta renders the change of the estimated monthly cost (make cost)
// from the base assembly (nil: a new environment) to the head, both priced
// with the working tree's table. A side that cannot be priced is said so
// instead of failing the comparison.
func CostDelta(env string, base, head *Assembly) string {
	table, err := cost.LoadTable()
	if err != nil {
		return fmt.Sprintf("Estimated monthly cost: not estimated (%v).\n", err)
	}
	estimate := func(a *Assembly) (*cost.Estimate, error) {
		stacks, region, err := cost.FromAssembly(a)
		if err != nil {
			return nil, err
		}
		return table.Estimate(env, region, stacks)
	}
	he, err := estimate(head)
	if err != nil {
		return fmt.Sprintf("Estimated monthly cost: not estimated (%v).\n", err)
	}
	if base == nil {
		return cost.DeltaMarkdown(nil, he)
	}
	be, err := estimate(base)
	if err != nil {
		return fmt.Sprintf("Estimated monthly cost: %s after the change; the base is not estimated (%v).\n", cost.Money(he.Total()), err)
	}
	return cost.DeltaMarkdown(be, he)
}

func resolve(ctx context.Context, repo, rev string) (string, error) {
	out, err := git(ctx, repo, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		hint := ""
		if strings.HasPrefix(rev, "origin/") {
			hint = fmt.Sprintf("; fetch it first (git fetch origin %s), or compare with the previous commit: make diff BASE=HEAD~1", strings.TrimPrefix(rev, "origin/"))
		}
		return "", fmt.Errorf("%q is not a commit of this repository%s", rev, hint)
	}
	return strings.TrimSpace(out), nil
}

func addWorktree(ctx context.Context, repo, dir, rev string) error {
	if _, err := git(ctx, repo, "worktree", "add", "--detach", "--quiet", dir, rev); err != nil {
		return fmt.Errorf("cannot check out %s into a temporary worktree: %w", short(rev), err)
	}
	return nil
}

// removeWorktree runs even after a cancelled context, so it takes none.
func removeWorktree(repo, dir string) {
	git(context.Background(), repo, "worktree", "remove", "--force", dir)
	os.RemoveAll(dir)
	git(context.Background(), repo, "worktree", "prune")
}

func git(ctx context.Context, repo string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = repo
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// describeRev names a revision for the report: as given, and its commit.
func describeRev(name, sha string) string {
	if strings.HasPrefix(sha, name) {
		return "`" + short(sha) + "`"
	}
	return fmt.Sprintf("`%s` (%s)", name, short(sha))
}

func short(rev string) string {
	if len(rev) > 7 {
		return rev[:7]
	}
	return rev
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
