// Command cost prints the estimated monthly cost of every environment of
// params/ (`make cost`): it synthesizes each one offline, as make diff does,
// and prices every resource of its templates with the table in
// internal/tools/cost/prices.yaml, per stack and per kind of cost, with what
// drives it and the usage assumptions it rests on. An environment in a
// region the table lacks, or with a resource type the table neither prices
// nor calls free, is refused with a message that says what to add.
//
//	go run ./internal/tools/cmd/cost [-env NAME] [-assembly DIR]
//
// -assembly prices an existing cloud assembly (e.g. cdk.out after make
// synth) instead of synthesizing. Exit status: 0 when every environment was
// estimated, 1 otherwise.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/assembly"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cost"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/prdiff"
)

func main() {
	os.Exit(run())
}

func run() int {
	repo := flag.String("C", ".", "the project folder")
	only := flag.String("env", "", "estimate only this environment (params/NAME.yaml)")
	asmDir := flag.String("assembly", "", "price this synthesized cloud assembly (a cdk.out folder) instead of synthesizing")
	cdk := flag.String("cdk", strings.Join(prdiff.DefaultCDK(), " "), "command that runs the pinned CDK CLI")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "cost: unexpected argument %q; see -h\n", flag.Arg(0))
		return 2
	}
	table, err := cost.LoadTable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cost: %v\n", err)
		return 1
	}
	if *asmDir != "" {
		name := *only
		if name == "" {
			name = filepath.Base(*asmDir)
		}
		return report(table, name, *asmDir)
	}

	envs, err := prdiff.Environments(*repo)
	if err != nil || len(envs) == 0 {
		fmt.Fprintf(os.Stderr, "cost: no environment (params/NAME.yaml) in %s: %v\n", *repo, err)
		return 1
	}
	if *only != "" {
		envs = []string{*only}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	scratch, err := os.MkdirTemp("", "cost-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "cost: %v\n", err)
		return 1
	}
	defer os.RemoveAll(scratch)
	c := prdiff.CDK{Command: strings.Fields(*cdk), Scratch: scratch}
	fmt.Printf("## Estimated monthly cost\n\nTable: %s (prices of %s, regions %s).\n", cost.TableFile, table.Date, strings.Join(table.RegionNames(), ", "))
	status := 0
	for _, env := range envs {
		out := filepath.Join(scratch, "asm-"+env)
		fmt.Fprintf(os.Stderr, "cost: synthesizing %s\n", env)
		if _, err := c.Synthesize(ctx, *repo, env, out); err != nil {
			fmt.Fprintf(os.Stderr, "cost: %v\n", err)
			status = 1
			continue
		}
		if report(table, env, out) != 0 {
			status = 1
		}
	}
	return status
}

// report prints the estimate of one synthesized environment.
func report(table *cost.Table, env, dir string) int {
	asm, err := assembly.Read(dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cost: environment %s: %v\n", env, err)
		return 1
	}
	stacks, region, err := cost.FromAssembly(asm)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cost: environment %s: %v\n", env, err)
		return 1
	}
	e, err := table.Estimate(env, region, stacks)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cost: %v\n", err)
		return 1
	}
	fmt.Printf("\n%s", e.Markdown())
	return 0
}
