package rehearse

import (
	"fmt"
	"io"
	"strings"
)

// Print writes the table of checks, the substitutions and the duration.
func (rp *Report) Print(w io.Writer) {
	width := 5
	for _, r := range rp.Results {
		if len(r.Check) > width {
			width = len(r.Check)
		}
	}
	fmt.Fprintf(w, "\n%-*s  %-6s %s\n", width, "CHECK", "RESULT", "DETAIL")
	fmt.Fprintf(w, "%s\n", strings.Repeat("-", width+40))
	for _, r := range rp.Results {
		st := "PASS"
		if !r.OK {
			st = "FAIL"
		}
		lines := strings.Split(r.Detail, "\n")
		fmt.Fprintf(w, "%-*s  %-6s %s\n", width, r.Check, st, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%-*s         | %s\n", width, "", l)
		}
	}
	fmt.Fprintf(w, "\nSubstitutions (what differs from AWS; none of this was rehearsed):\n")
	for _, s := range rp.Substitutions {
		fmt.Fprintf(w, "  - %s\n", s)
	}
	fmt.Fprintf(w, "\nDuration: %s\n", rp.Duration.Round(100_000_000))
	if rp.WorkDir != "" {
		fmt.Fprintf(w, "Work folder kept: %s\n", rp.WorkDir)
	}
	if rp.OK() {
		fmt.Fprintln(w, "REHEARSAL PASSED")
	} else {
		fmt.Fprintln(w, "REHEARSAL FAILED")
	}
}
