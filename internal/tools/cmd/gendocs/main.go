// Command gendocs rewrites the generated sections of README.md from the code:
// the parameter reference (params/model.go) and the cost figures of every
// environment (internal/tools/cost, from the template snapshots of
// test/snapshots/env, so run `make snapshots` first after a template change).
// `make docs` runs it; tests fail when they drift.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cost"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs README.md")
		os.Exit(2)
	}
	file := os.Args[1]
	doc, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
	out, err := params.ReplaceReference(string(doc))
	if err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %s: %v\n", file, err)
		os.Exit(1)
	}
	table, err := cost.LoadTable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
	estimates, err := cost.SnapshotEstimates(filepath.Dir(file), table)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendocs: cost figures:", err)
		os.Exit(1)
	}
	if out, err = cost.ReplaceReadme(out, cost.ReadmeSection(estimates)); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %s: %v\n", file, err)
		os.Exit(1)
	}
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
