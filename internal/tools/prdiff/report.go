package prdiff

import (
	"fmt"
	"sort"
	"strings"
)

// Report is the result of comparing two revisions for every environment.
type Report struct {
	// Base and Head describe the compared revisions, e.g. "HEAD~1 (fa62e5e)"
	// and "working tree".
	Base, Head string
	CDKVersion string
	Envs       []EnvReport
}

// EnvReport is the comparison of one environment.
type EnvReport struct {
	Name string
	// Note says when the environment exists on one side only.
	Note         string
	Stacks       []StackReport
	Findings     []Finding
	OverrideFile string
	// Unused are overrides that match no finding.
	Unused []Override
	// Availability is the result of the availability guard.
	Availability AvailabilityReport
	// Cost is the change of the estimated monthly cost (Markdown), empty
	// when not computed.
	Cost string
}

// StackReport is the comparison of one stack.
type StackReport struct {
	Name string
	// Note says when the stack exists on one side only.
	Note string
	Diff StackDiff
	// CLIOutput is the CDK CLI's own diff, for -full.
	CLIOutput string
}

// Failed tells whether either guard fails.
func (r *Report) Failed() bool { return r.DataLossFailed() || r.AvailabilityFailed() }

// AvailabilityFailed tells whether the availability guard fails in an
// environment.
func (r *Report) AvailabilityFailed() bool {
	for _, e := range r.Envs {
		if len(e.Availability.Failures()) > 0 {
			return true
		}
	}
	return false
}

// DataLossFailed tells whether any finding is not allowed by an override.
func (r *Report) DataLossFailed() bool {
	for _, e := range r.Envs {
		for _, f := range e.Findings {
			if f.Allowed == nil {
				return true
			}
		}
	}
	return false
}

// maxLinesPerStack bounds the resource lines of one stack; replacements and
// removals are always listed.
const maxLinesPerStack = 60

// Markdown renders the summary: per environment a table of counts per stack,
// one line per resource change, and the verdict of the data-loss guard.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Infrastructure diff\n\n")
	fmt.Fprintf(&b, "Base %s, compared with %s. Synthesized offline; resource changes are the CDK CLI's own diff (`cdk diff --template`, aws-cdk %s).\n", r.Base, r.Head, r.CDKVersion)
	for _, e := range r.Envs {
		fmt.Fprintf(&b, "\n### Environment `%s`\n\n", e.Name)
		if e.Note != "" {
			fmt.Fprintf(&b, "%s\n\n", e.Note)
		}
		if len(e.Stacks) > 0 {
			b.WriteString("| stack | added | modified | replaced | removed | other changes |\n| --- | ---: | ---: | ---: | ---: | --- |\n")
		}
		for _, s := range e.Stacks {
			name := "`" + s.Name + "`"
			if s.Note != "" {
				name += " (" + s.Note + ")"
			}
			other := strings.Join(s.Diff.Sections, ", ")
			if other == "" {
				other = "-"
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s |\n", name, s.Diff.Count(Added)+s.Diff.Count(Imported), s.Diff.Count(Modified), s.Diff.Count(Replaced), s.Diff.Count(Removed), other)
		}
		for _, s := range e.Stacks {
			writeStackChanges(&b, s)
		}
		writeVerdict(&b, e)
		writeAvailability(&b, e, maxAvailabilityLines)
		if e.Cost != "" {
			b.WriteString("\n" + e.Cost)
		}
	}
	b.WriteString("\n")
	if r.DataLossFailed() {
		b.WriteString("**Data-loss guard: FAILED.** A change above would lose stored data. Change it, or, if the loss is intended and reviewed, allow it in the environment's override file (README, \"Reviewing a change\").\n")
	} else {
		b.WriteString("**Data-loss guard: passed.**\n")
	}
	if r.AvailabilityFailed() {
		b.WriteString("**Availability guard: FAILED.** At some step of the deploy above, a public listener has no target or a reference points at something deleted or not created yet. Order the change so that every step is safe, or split it into deploys that are (README, \"Reviewing a change\").\n")
	} else {
		b.WriteString("**Availability guard: passed.**\n")
	}
	return b.String()
}

// maxAvailabilityLines bounds the failures listed per environment.
const maxAvailabilityLines = 25

// writeAvailability renders the availability guard's result for one
// environment: every failure with its window (up to max), then the
// listeners the deploy removes or creates.
func writeAvailability(b *strings.Builder, e EnvReport, max int) {
	failures, notes := e.Availability.Failures(), e.Availability.Notes()
	b.WriteString("\n")
	if len(failures) == 0 {
		fmt.Fprintf(b, "Availability guard for `%s`: passed (every public listener kept by the deploy has targets at every step, and every reference resolves).\n", e.Name)
	} else {
		fmt.Fprintf(b, "Availability guard for `%s`: **FAILED**\n", e.Name)
	}
	for i, f := range failures {
		if i == max {
			fmt.Fprintf(b, "- ... and %d more (`make diff PRDIFF_ARGS=-full` lists them all)\n", len(failures)-max)
			break
		}
		fmt.Fprintf(b, "- **%s** %s\n", f.Rule, f)
	}
	for _, n := range notes {
		fmt.Fprintf(b, "- note: %s\n", n)
	}
}

func writeStackChanges(b *strings.Builder, s StackReport) {
	if len(s.Diff.Changes) == 0 {
		return
	}
	fmt.Fprintf(b, "\n**%s**\n\n", s.Name)
	changes := append([]Change{}, s.Diff.Changes...)
	rank := map[Kind]int{Replaced: 0, Removed: 1, Modified: 2, Added: 3, Imported: 4}
	sort.SliceStable(changes, func(i, j int) bool {
		if rank[changes[i].Kind] != rank[changes[j].Kind] {
			return rank[changes[i].Kind] < rank[changes[j].Kind]
		}
		return changes[i].LogicalID < changes[j].LogicalID
	})
	shown := 0
	hidden := map[string]int{}
	for _, c := range changes {
		if shown >= maxLinesPerStack && c.Kind != Replaced && c.Kind != Removed {
			hidden[fmt.Sprintf("%s %s", c.Kind, c.Type)]++
			continue
		}
		shown++
		fmt.Fprintf(b, "- %s `%s` %s%s\n", c.Kind, c.LogicalID, c.Type, changeDetail(c))
	}
	if len(hidden) > 0 {
		var parts []string
		total := 0
		for _, what := range sortedKeys(hidden) {
			parts = append(parts, fmt.Sprintf("%d %s", hidden[what], what))
			total += hidden[what]
		}
		fmt.Fprintf(b, "- ... and %d more: %s (`make diff PRDIFF_ARGS=-full` lists them all)\n", total, strings.Join(parts, ", "))
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func changeDetail(c Change) string {
	var parts []string
	switch c.Impact {
	case impactDestroy:
		parts = append(parts, "deleted")
	case impactOrphan:
		parts = append(parts, "retained, no longer managed")
	case impactMayReplace:
		parts = append(parts, "may be replaced")
	}
	if len(c.Properties) > 0 && c.Kind != Added && c.Kind != Removed {
		parts = append(parts, strings.Join(c.Properties, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

func writeVerdict(b *strings.Builder, e EnvReport) {
	var blocked, allowed []Finding
	for _, f := range e.Findings {
		if f.Allowed == nil {
			blocked = append(blocked, f)
		} else {
			allowed = append(allowed, f)
		}
	}
	b.WriteString("\n")
	if len(blocked) == 0 {
		fmt.Fprintf(b, "Data-loss guard for `%s`: passed", e.Name)
		if len(allowed) == 0 {
			b.WriteString(" (no stateful resource is replaced or removed, and nothing that keeps its data is turned off).\n")
		} else {
			b.WriteString(", with reviewed overrides.\n")
		}
	} else {
		fmt.Fprintf(b, "Data-loss guard for `%s`: **FAILED**\n", e.Name)
	}
	for _, f := range blocked {
		fmt.Fprintf(b, "- **refused** `%s` `%s` %s: %s\n", f.Stack, f.LogicalID, f.Type, f.Reason)
	}
	for _, f := range allowed {
		fmt.Fprintf(b, "- allowed by %s: `%s` `%s` %s: %s. Reason given: %s\n", f.Allowed.Where, f.Stack, f.LogicalID, f.Type, f.Reason, f.Allowed.Reason)
	}
	if len(blocked) > 0 {
		fmt.Fprintf(b, "- to accept a loss after review, add it to `%s` with a reason (README, \"Reviewing a change\")\n", e.OverrideFile)
	}
	for _, o := range e.Unused {
		fmt.Fprintf(b, "- warning: the override at %s (%s %s) matches no change; remove it\n", o.Where, o.Stack, o.LogicalID)
	}
}
