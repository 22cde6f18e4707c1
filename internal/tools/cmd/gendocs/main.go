// Command gendocs rewrites the generated sections of README.md (the parameter
// reference) from the code. `make docs` runs it; a test fails when they drift.
package main

import (
	"fmt"
	"os"

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
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
