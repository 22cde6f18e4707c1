package prdiff

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Kind is what happens to a resource.
type Kind string

// Kinds of resource change, as the CDK CLI classifies them.
const (
	Added    Kind = "added"
	Modified Kind = "modified"
	Replaced Kind = "replaced"
	Removed  Kind = "removed"
	Imported Kind = "imported"
)

// Impact words of the CLI's resource lines (cloudformation-diff's
// ResourceImpact as `cdk diff` prints it).
const (
	impactReplace    = "replace"
	impactMayReplace = "may be replaced"
	impactDestroy    = "destroy"
	impactOrphan     = "orphan"
	impactImport     = "import"
)

// Change is one resource change of a stack, read from `cdk diff`.
type Change struct {
	LogicalID string
	Type      string
	// Path is the construct path the CLI shows, if any.
	Path string
	Kind Kind
	// Impact is the CLI's own word: replace, may be replaced, destroy,
	// orphan, import, or empty for an addition or an update in place.
	Impact string
	// Properties are the changed top-level keys (properties, DeletionPolicy,
	// ...), with " (requires replacement)" or " (may cause replacement)"
	// where the CLI says so.
	Properties []string
}

// Destructive is one entry of the CLI's own list of destructive changes
// (`--fail-on destructive`).
type Destructive struct {
	LogicalID string
	Type      string
	// Impact: "will be replaced", "may be replaced", "will be destroyed" or
	// "will be orphaned".
	Impact string
}

// StackDiff is the CLI's diff of one stack.
type StackDiff struct {
	Changes []Change
	// Sections are the other parts of the template that changed (Outputs,
	// Parameters, IAM Statement Changes, ...).
	Sections    []string
	Destructive []Destructive
}

// Count returns how many changes are of kind k.
func (d StackDiff) Count(k Kind) int {
	n := 0
	for _, c := range d.Changes {
		if c.Kind == k {
			n++
		}
	}
	return n
}

// isSectionHeader tells whether a line is one of the headers `cdk diff`
// prints (cloudformation-diff's formatDifferences).
func isSectionHeader(line string) bool {
	switch line {
	case "Template", "IAM Statement Changes", "IAM Policy Changes", "Security Group Changes",
		"Parameters", "Metadata", "Mappings", "Conditions", "Resources", "Outputs", "Other Changes":
		return true
	}
	return false
}

var (
	ansiEscape      = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	resourceLine    = regexp.MustCompile(`^\[(\+|-|~|←|\?)\] (\S+) (.+)$`)
	propertyLine    = regexp.MustCompile(`^ [├└]─ \[(?:\+|-|~)\] (.+?)( \((?:requires replacement|may cause replacement)\))?$`)
	moveSuffix      = regexp.MustCompile(` \(OR move .*\)$`)
	destructiveHead = regexp.MustCompile(`^❌\s+Found (\d+) destructive change\(s\)`)
	destructiveMove = regexp.MustCompile(` \(moved to .*\)$`)
)

// ParseDiff reads the output of `cdk diff --fail-on destructive --no-color`
// for one stack. known tells whether a word is a logical id of the old or the
// new template; it separates the logical id from the construct path, which
// may contain spaces. The resource lines and the CLI's list of destructive
// changes must agree, or the output is not understood and ParseDiff fails
// rather than guess.
func ParseDiff(stack, out string, known func(logicalID string) bool) (StackDiff, error) {
	var d StackDiff
	section := ""
	wantDestructive := -1
	inDestructive := false
	for _, line := range strings.Split(ansiEscape.ReplaceAllString(out, ""), "\n") {
		line = strings.TrimRight(line, " \r")
		if m := destructiveHead.FindStringSubmatch(line); m != nil {
			fmt.Sscan(m[1], &wantDestructive)
			inDestructive, section = true, ""
			continue
		}
		if inDestructive {
			if !strings.HasPrefix(line, "  ") {
				inDestructive = false
				continue
			}
			dc, err := parseDestructive(stack, strings.TrimPrefix(line, "  "), known)
			if err != nil {
				return d, err
			}
			d.Destructive = append(d.Destructive, dc)
			continue
		}
		if isSectionHeader(line) {
			section = line
			if line != "Resources" {
				d.Sections = append(d.Sections, line)
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "✨") {
			section = ""
			continue
		}
		if section != "Resources" {
			continue
		}
		if m := resourceLine.FindStringSubmatch(line); m != nil {
			c, err := parseResource(m[1], m[2], m[3], known)
			if err != nil {
				return d, fmt.Errorf("%s: %w", stack, err)
			}
			d.Changes = append(d.Changes, c)
			continue
		}
		if m := propertyLine.FindStringSubmatch(line); m != nil && len(d.Changes) > 0 {
			last := &d.Changes[len(d.Changes)-1]
			last.Properties = append(last.Properties, m[1]+m[2])
		}
	}
	if wantDestructive >= 0 && wantDestructive != len(d.Destructive) {
		return d, fmt.Errorf("%s: the CLI announced %d destructive change(s) but listed %d; its output format is not understood", stack, wantDestructive, len(d.Destructive))
	}
	if err := agree(stack, d); err != nil {
		return d, err
	}
	return d, nil
}

func parseResource(prefix, typ, rest string, known func(string) bool) (Change, error) {
	c := Change{Type: typ}
	rest = moveSuffix.ReplaceAllString(rest, "")
	for _, impact := range []string{impactMayReplace, impactReplace, impactDestroy, impactOrphan, impactImport} {
		body, ok := strings.CutSuffix(rest, " "+impact)
		if ok && known(lastWord(body)) {
			c.Impact, rest = impact, body
			break
		}
	}
	c.LogicalID = lastWord(rest)
	if !known(c.LogicalID) {
		return c, fmt.Errorf("cannot find the logical id in the CLI's line %q", prefix+" "+typ+" "+rest)
	}
	c.Path = strings.TrimSpace(strings.TrimSuffix(rest, c.LogicalID))
	switch {
	case prefix == "+":
		c.Kind = Added
	case prefix == "-":
		c.Kind = Removed
	case prefix == "←" || c.Impact == impactImport:
		c.Kind = Imported
	case c.Impact == impactReplace || c.Impact == impactMayReplace:
		c.Kind = Replaced
	case prefix == "~":
		c.Kind = Modified
	default:
		return c, fmt.Errorf("unknown change marker [%s] for %s", prefix, c.LogicalID)
	}
	return c, nil
}

func parseDestructive(stack, line string, known func(string) bool) (Destructive, error) {
	var d Destructive
	rest, ok := strings.CutPrefix(line, stack+": ")
	if !ok {
		return d, fmt.Errorf("%s: destructive change %q is not of this stack", stack, line)
	}
	rest = destructiveMove.ReplaceAllString(rest, "")
	for _, impact := range []string{"will be replaced", "may be replaced", "will be destroyed", "will be orphaned"} {
		if body, ok := strings.CutSuffix(rest, " "+impact); ok {
			d.Impact, rest = impact, body
			break
		}
	}
	if d.Impact == "" {
		return d, fmt.Errorf("%s: destructive change %q has no known impact", stack, line)
	}
	d.Type, _, _ = strings.Cut(rest, " ")
	d.LogicalID = lastWord(rest)
	if !known(d.LogicalID) {
		return d, fmt.Errorf("%s: cannot find the logical id in destructive change %q", stack, line)
	}
	return d, nil
}

// agree checks that the resource lines and the CLI's destructive list name
// the same resources with the same impact.
func agree(stack string, d StackDiff) error {
	fromLines := map[string]string{}
	for _, c := range d.Changes {
		switch c.Impact {
		case impactReplace:
			fromLines[c.LogicalID] = "will be replaced"
		case impactMayReplace:
			fromLines[c.LogicalID] = "may be replaced"
		case impactDestroy:
			fromLines[c.LogicalID] = "will be destroyed"
		case impactOrphan:
			fromLines[c.LogicalID] = "will be orphaned"
		}
	}
	fromList := map[string]string{}
	for _, dc := range d.Destructive {
		fromList[dc.LogicalID] = dc.Impact
	}
	var problems []string
	for id, impact := range fromLines {
		if fromList[id] != impact {
			problems = append(problems, fmt.Sprintf("%s %s in the resource lines, %q in the destructive list", id, impact, fromList[id]))
		}
	}
	for id, impact := range fromList {
		if _, ok := fromLines[id]; !ok {
			problems = append(problems, fmt.Sprintf("%s %s in the destructive list only", id, impact))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("%s: the CLI's resource lines and destructive list disagree (%s); its output format is not understood", stack, strings.Join(problems, "; "))
	}
	return nil
}

func lastWord(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		return s[i+1:]
	}
	return s
}
