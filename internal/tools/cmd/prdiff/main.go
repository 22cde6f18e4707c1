// Command prdiff shows what a change does to the deployed stacks, offline:
// it synthesizes every environment of params/ at a base revision (in a
// temporary git worktree, with that revision's own Makefile) and in the
// working tree, prints per stack the resources added, modified, replaced and
// removed according to the CDK CLI's own diff (`cdk diff --template`),
// refuses a change that would lose stored data unless a reviewed override
// allows it, and refuses a change whose deploy, walked step by step as
// CloudFormation applies it, leaves a public listener without targets or a
// reference pointing at something deleted or not created yet (the
// availability guard).
//
//	go run ./internal/tools/cmd/prdiff [-base REV] [-head REV] [-summary FILE] [-full]
//
// Exit status: 0 when both guards pass, 1 when either fails, 2 when the
// comparison itself could not be made.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/prdiff"
)

func main() {
	os.Exit(run())
}

func run() int {
	base := flag.String("base", "", "git revision to compare with (default origin/main, or HEAD~1 when there is no origin/main)")
	head := flag.String("head", "", "git revision to compare (default: the working tree, with uncommitted changes)")
	summary := flag.String("summary", "", "also write the summary (markdown) to this file, e.g. for a pull-request comment")
	full := flag.Bool("full", false, "after the summary, print every availability failure and the CDK CLI's whole diff of every changed stack")
	jobs := flag.Int("jobs", 2, "syntheses and CLI runs at once")
	cdk := flag.String("cdk", strings.Join(prdiff.DefaultCDK(), " "), "command that runs the pinned CDK CLI")
	version := flag.String("cdk-version", prdiff.DefaultCDKVersion, "CDK CLI version, for the report")
	repo := flag.String("C", ".", "the project folder (a git working tree)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "prdiff: unexpected argument %q; see -h\n", flag.Arg(0))
		return 2
	}
	if *base == "" {
		*base = "origin/main"
		if exec.Command("git", "-C", *repo, "rev-parse", "--verify", "--quiet", "origin/main^{commit}").Run() != nil {
			*base = "HEAD~1"
			fmt.Fprintln(os.Stderr, "prdiff: there is no origin/main here; comparing with HEAD~1 (pass -base REV, or make diff BASE=REV, to choose)")
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	report, err := prdiff.Run(ctx, prdiff.Options{
		Repo:       *repo,
		Base:       *base,
		Head:       *head,
		CDK:        prdiff.CDK{Command: strings.Fields(*cdk)},
		CDKVersion: *version,
		Jobs:       *jobs,
		Log:        os.Stderr,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "prdiff: %v\n", err)
		if *summary != "" {
			text := fmt.Sprintf("## Infrastructure diff\n\nThe comparison could not be made:\n\n```\n%v\n```\n", err)
			if werr := os.WriteFile(*summary, []byte(text), 0o644); werr != nil {
				fmt.Fprintf(os.Stderr, "prdiff: %v\n", werr)
			}
		}
		return 2
	}
	text := report.Markdown()
	fmt.Print(text)
	if *summary != "" {
		if err := os.WriteFile(*summary, []byte(text), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "prdiff: %v\n", err)
			return 2
		}
	}
	if *full {
		for _, e := range report.Envs {
			if failures := e.Availability.Failures(); len(failures) > 0 {
				fmt.Printf("\n===== %s: every availability failure\n", e.Name)
				for _, f := range failures {
					fmt.Printf("- %s: %s\n", f.Rule, f)
				}
			}
		}
		for _, e := range report.Envs {
			for _, s := range e.Stacks {
				if s.CLIOutput != "" {
					fmt.Printf("\n===== %s %s: cdk diff\n%s", e.Name, s.Name, s.CLIOutput)
				}
			}
		}
	}
	if report.Failed() {
		for _, e := range report.Envs {
			for _, f := range e.Findings {
				if f.Allowed == nil {
					fmt.Fprintf(os.Stderr, "prdiff: data-loss guard: %s: %s\n", e.Name, f)
				}
			}
			if n := len(e.Availability.Failures()); n > 0 {
				fmt.Fprintf(os.Stderr, "prdiff: availability guard: %s: %d failures (listed above)\n", e.Name, n)
			}
		}
		return 1
	}
	return 0
}
