package interop

import (
	"fmt"
	"sort"
	"strings"
)

// Severity tells whether a problem blocks deployment.
type Severity int

// Severities.
const (
	// Warning is something that works but is risky or probably unintended.
	Warning Severity = iota
	// Error is something TTS rejects, or that would make it misbehave.
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Problem is one finding of the checker.
type Problem struct {
	Severity Severity
	// File is the path relative to the repository root, with forward slashes.
	File string
	// Line and Column are 1-based; 0 when unknown (for example a missing file).
	Line, Column int
	// Key is the YAML path of the offending key, e.g. "join-servers[0].join-euis[1]".
	Key string
	// Message says what is wrong and how to fix it. It starts with Key when Key is set.
	Message string
}

// String formats the problem as FILE:LINE: SEVERITY: MESSAGE.
func (p Problem) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Severity, p.Message)
}

// Problems is the list of findings of one Load, sorted by file and position.
type Problems []Problem

// HasErrors reports whether any problem is an error.
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if p.Severity == Error {
			return true
		}
	}
	return false
}

// Errors returns only the errors.
func (ps Problems) Errors() Problems { return ps.filter(Error) }

// Warnings returns only the warnings.
func (ps Problems) Warnings() Problems { return ps.filter(Warning) }

func (ps Problems) filter(s Severity) Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == s {
			out = append(out, p)
		}
	}
	return out
}

// Err returns nil when there are no errors, otherwise an error listing all
// errors (warnings are left out), one per line.
func (ps Problems) Err() error {
	errs := ps.Errors()
	if len(errs) == 0 {
		return nil
	}
	lines := make([]string, len(errs))
	for i, p := range errs {
		lines[i] = p.String()
	}
	return fmt.Errorf("interop repository has %d error(s):\n%s", len(errs), strings.Join(lines, "\n"))
}

func (ps Problems) sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			// config.yml first: it is where a reader starts.
			if a.File == ConfigFile || b.File == ConfigFile {
				return a.File == ConfigFile
			}
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}
