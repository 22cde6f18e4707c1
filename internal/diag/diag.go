// Package diag is the one way the project reports a problem with its input:
// a parameter file, the interop repository, a construct's props, the proxy's
// or The Things Stack's configuration. A Diagnostic says where (file, line,
// key or field path), how bad (error or warning), what kind (a stable code
// that tests and tools compare) and what to do (the message).
package diag

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Severity tells whether a problem blocks the synthesis or deployment.
type Severity int

// Severities. The zero value is Error.
const (
	// Error is something that must be fixed before going on.
	Error Severity = iota
	// Warning is something that works but is risky or probably unintended.
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem.
type Diagnostic struct {
	Severity Severity
	// Code names the kind of problem, "<package>.<kind>" such as
	// params.unknown-key. It does not change when the message is reworded.
	Code string
	// File is where the value came from as the reader sees it (a path, or a
	// context override such as "-c Key=value"); empty for a value built in
	// code, such as a construct's props.
	File string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Path is the key or field path of the offending value, such as Region,
	// join-servers[0].fqdn or Upstreams["is"].HTTP; empty for the whole file.
	Path string
	// Message says what is wrong and how to fix it.
	Message string
}

// Errorf returns an error of the given code about the value at path.
func Errorf(code, path, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: Error, Code: code, Path: path, Message: fmt.Sprintf(format, args...)}
}

// Warnf returns a warning of the given code about the value at path.
func Warnf(code, path, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: Warning, Code: code, Path: path, Message: fmt.Sprintf(format, args...)}
}

// At returns d located at a line and column (0 when unknown) of file.
func (d Diagnostic) At(file string, line, column int) Diagnostic {
	d.File, d.Line, d.Column = file, line, column
	return d
}

// Location is FILE:LINE, or FILE when the line is unknown.
func (d Diagnostic) Location() string {
	if d.Line > 0 {
		return fmt.Sprintf("%s:%d", d.File, d.Line)
	}
	return d.File
}

// String formats the diagnostic as FILE:LINE: SEVERITY: PATH: MESSAGE,
// leaving out what is unknown.
func (d Diagnostic) String() string {
	var b strings.Builder
	if loc := d.Location(); loc != "" {
		b.WriteString(loc + ": ")
	}
	b.WriteString(d.Severity.String() + ": ")
	if d.Path != "" {
		b.WriteString(d.Path + ": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// List is every problem found in one check.
type List []Diagnostic

// Add appends diagnostics.
func (l *List) Add(ds ...Diagnostic) { *l = append(*l, ds...) }

// Errorf appends an error without a position (see the function Errorf).
func (l *List) Errorf(code, path, format string, args ...any) {
	l.Add(Errorf(code, path, format, args...))
}

// Warnf appends a warning without a position (see the function Warnf).
func (l *List) Warnf(code, path, format string, args ...any) {
	l.Add(Warnf(code, path, format, args...))
}

// Errors returns the diagnostics of severity Error.
func (l List) Errors() List { return l.only(Error) }

// Warnings returns the diagnostics of severity Warning.
func (l List) Warnings() List { return l.only(Warning) }

func (l List) only(s Severity) List {
	var out List
	for _, d := range l {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool { return len(l.Errors()) > 0 }

// Has reports whether a diagnostic has the code.
func (l List) Has(code string) bool {
	return slices.ContainsFunc(l, func(d Diagnostic) bool { return d.Code == code })
}

// Codes returns the codes in the order of the list.
func (l List) Codes() []string {
	out := make([]string, len(l))
	for i, d := range l {
		out[i] = d.Code
	}
	return out
}

// Sort orders the list by file, line and column, keeping the order of equal
// positions. The files named in first come before every other file, in the
// order given (for example the file a reader starts with).
func (l List) Sort(first ...string) {
	rank := func(file string) int {
		if i := slices.Index(first, file); i >= 0 {
			return i
		}
		return len(first)
	}
	slices.SortStableFunc(l, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(rank(a.File), rank(b.File)),
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
		)
	})
}

// String renders the list one diagnostic per line.
func (l List) String() string {
	lines := make([]string, len(l))
	for i, d := range l {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Err returns nil when the list holds no error, and otherwise a *ListError that
// renders every diagnostic of the list, one per line.
func (l List) Err() error {
	if !l.HasErrors() {
		return nil
	}
	return &ListError{List: slices.Clone(l)}
}

// ListError is the error of List.Err. Callers may wrap it; FromError finds
// it.
type ListError struct {
	List List
}

func (e *ListError) Error() string { return e.List.String() }

// FromError returns the diagnostics of an error that wraps a *ListError, and
// nil for any other error.
func FromError(err error) List {
	var e *ListError
	if errors.As(err, &e) {
		return e.List
	}
	return nil
}
