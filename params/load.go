package params

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ports"
)

// Severity of a problem.
type Severity string

// Severities. Errors stop the synthesis; warnings are printed.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Location is where a value came from: a line of a parameter file, or a
// `-c Key=value` context override (Line 0).
type Location struct {
	File string
	Line int
}

func (l Location) String() string {
	switch {
	case l.File == "":
		return "parameters"
	case l.Line > 0:
		return fmt.Sprintf("%s:%d", l.File, l.Line)
	default:
		return l.File
	}
}

// Problem is one thing wrong with the parameters.
type Problem struct {
	Severity Severity
	Location Location
	Key      string
	Message  string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s: %s: %s", p.Location, p.Severity, p.Key, p.Message)
}

// Problems is every problem found in one load. As an error it lists them one
// per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Errors returns the problems of severity Error.
func (ps Problems) Errors() Problems { return ps.only(Error) }

// Warnings returns the problems of severity Warning.
func (ps Problems) Warnings() Problems { return ps.only(Warning) }

func (ps Problems) only(s Severity) Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == s {
			out = append(out, p)
		}
	}
	return out
}

// field is one parameter, read from the struct tags of Params.
type field struct {
	name     string
	index    int
	typ      reflect.Type
	def      string
	required bool
	doc      string
}

// derived reports whether the default depends on other parameters.
func (f field) derived() bool { return strings.Contains(f.def, "<") }

func fields() []field {
	t := reflect.TypeOf(Params{})
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name := sf.Tag.Get("yaml")
		if name == "" {
			continue
		}
		out = append(out, field{
			name:     name,
			index:    i,
			typ:      sf.Type,
			def:      sf.Tag.Get("default"),
			required: sf.Tag.Get("required") == "true",
			doc:      sf.Tag.Get("doc"),
		})
	}
	return out
}

func fieldByName(name string) (field, bool) {
	for _, f := range fields() {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// loader collects the values set and every problem on the way.
type loader struct {
	file     string
	params   *Params
	set      map[string]Location
	problems Problems
	// unparsable is set when the file is not YAML; then only that is reported.
	unparsable bool
	// now is the time certificates named by the parameters are checked at.
	now time.Time
}

func (l *loader) add(sev Severity, loc Location, key, format string, args ...any) {
	l.problems = append(l.problems, Problem{Severity: sev, Location: loc, Key: key, Message: fmt.Sprintf(format, args...)})
}

// errorf records an error at the location the key was set (or the file, when
// the key has its default).
func (l *loader) errorf(key, format string, args ...any) {
	l.add(Error, l.where(key), key, format, args...)
}

func (l *loader) warnf(key, format string, args ...any) {
	l.add(Warning, l.where(key), key, format, args...)
}

func (l *loader) where(key string) Location {
	if loc, ok := l.set[key]; ok {
		return loc
	}
	return Location{File: l.file}
}

func (l *loader) value(f field) reflect.Value {
	return reflect.ValueOf(l.params).Elem().Field(f.index)
}

// decodeFile reads the top-level mapping of a parameter file.
func (l *loader) decodeFile(data []byte) {
	yamlLine := regexp.MustCompile(`line (\d+)`)
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if err.Error() == "EOF" {
			return // an empty file: every required key is reported missing
		}
		line := 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		// yaml.v3 reports an unclosed [ or { at the 0-based line where it
		// opened, and every other error 1-based.
		if strings.Contains(err.Error(), "did not find expected") {
			line++
		}
		l.unparsable = true
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = yamlLine.ReplaceAllString(msg, "")
		msg = strings.TrimLeft(msg, ": ")
		l.add(Error, Location{File: l.file, Line: line}, "(file)", "not valid YAML: %s", msg)
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.add(Error, Location{File: l.file, Line: extra.Line}, "(file)", "holds more than one YAML document; keep one parameter set per file")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return
	}
	if root.Kind != yaml.MappingNode {
		l.add(Error, Location{File: l.file, Line: root.Line}, "(file)", "must be a mapping of parameter names to values, like 'StackPrefix: tts'")
		return
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		loc := Location{File: l.file, Line: k.Line}
		f, ok := fieldByName(k.Value)
		if !ok {
			l.add(Error, loc, k.Value, "unknown parameter%s", suggest(k.Value))
			continue
		}
		if prev, dup := l.set[f.name]; dup {
			l.add(Error, loc, f.name, "set twice (first at line %d); keep one", prev.Line)
			continue
		}
		l.set[f.name] = loc
		if err := setFromNode(l.value(f), v); err != nil {
			l.add(Error, Location{File: l.file, Line: v.Line}, f.name, "%v", err)
		}
	}
}

// applyOverrides applies context values whose key is a parameter name.
func (l *loader) applyOverrides(ctx map[string]any) {
	keys := make([]string, 0, len(ctx))
	for k := range ctx {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !looksLikeParameter(k) {
			continue
		}
		loc := Location{File: fmt.Sprintf("-c %s=%v", k, ctx[k])}
		f, ok := fieldByName(k)
		if !ok {
			l.add(Error, loc, k, "unknown parameter%s", suggest(k))
			continue
		}
		l.set[f.name] = loc
		if err := setFromContext(l.value(f), ctx[k]); err != nil {
			l.add(Error, loc, f.name, "%v", err)
		}
	}
}

// looksLikeParameter tells context keys that are parameter overrides (they
// start with an upper-case letter, like every parameter) from the CDK's own
// context (feature flags, lookups, env).
func looksLikeParameter(key string) bool {
	return key != "" && key[0] >= 'A' && key[0] <= 'Z' && !strings.ContainsAny(key, ":/@")
}

// applyDefaults fills what was not set, and reports missing required keys.
func (l *loader) applyDefaults() {
	for _, f := range fields() {
		if _, ok := l.set[f.name]; ok {
			continue
		}
		if f.required {
			l.add(Error, Location{File: l.file, Line: 1}, f.name, "required parameter is missing; add a line '%s: ...' to the file", f.name)
			continue
		}
		if f.derived() || f.def == "" {
			continue
		}
		if err := setFromString(l.value(f), f.def); err != nil {
			panic(fmt.Sprintf("params: default of %s does not parse: %v", f.name, err))
		}
	}
	p := l.params
	if _, ok := l.set["AvailabilityZones"]; !ok && p.Region != "" {
		p.AvailabilityZones = []string{p.Region + "a", p.Region + "b"}
	}
	if _, ok := l.set["InteropPublicTLSAddress"]; !ok && p.DomainName != "" {
		// The port on which the load balancer exposes the interop row.
		p.InteropPublicTLSAddress = "https://" + p.DomainName + ":" + strconv.Itoa(ports.Interop().PublicTLS())
	}
	if _, ok := l.set["AdminEmail"]; !ok && p.DomainName != "" {
		p.AdminEmail = "admin@" + p.DomainName
	}
}

func setFromNode(v reflect.Value, n *yaml.Node) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return fmt.Errorf("has no value; give one, or remove the line to use the default")
	}
	if v.Kind() == reflect.Slice {
		if n.Kind != yaml.SequenceNode {
			return fmt.Errorf("want a list, like [a, b]; got %s", describe(n))
		}
		out := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
				return fmt.Errorf("want a list of plain values; item at line %d is %s", item.Line, describe(item))
			}
			out = append(out, item.Value)
		}
		v.Set(reflect.ValueOf(out))
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a single %s; got %s", typeName(v), describe(n))
	}
	switch v.Kind() {
	case reflect.Bool:
		if n.Tag != "!!bool" {
			return fmt.Errorf("want true or false; got %q", n.Value)
		}
	case reflect.Int:
		if n.Tag != "!!int" {
			return fmt.Errorf("want a whole number; got %q", n.Value)
		}
	case reflect.Float64:
		if n.Tag != "!!int" && n.Tag != "!!float" {
			return fmt.Errorf("want a number; got %q", n.Value)
		}
	}
	return setFromString(v, n.Value)
}

func setFromContext(v reflect.Value, raw any) error {
	switch x := raw.(type) {
	case string:
		return setFromString(v, x)
	case bool:
		if v.Kind() != reflect.Bool {
			return fmt.Errorf("want a %s; got %v", typeName(v), x)
		}
		v.SetBool(x)
		return nil
	case float64:
		return setFromString(v, strconv.FormatFloat(x, 'f', -1, 64))
	case []any:
		if v.Kind() != reflect.Slice {
			return fmt.Errorf("want a %s; got a list", typeName(v))
		}
		parts := make([]string, len(x))
		for i, item := range x {
			parts[i] = fmt.Sprint(item)
		}
		v.Set(reflect.ValueOf(parts))
		return nil
	default:
		return fmt.Errorf("want a %s; got %T", typeName(v), raw)
	}
}

// setFromString parses text strictly by the field's type: booleans are true or
// false, numbers are decimal, lists are comma-separated.
func setFromString(v reflect.Value, s string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		switch s {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return fmt.Errorf("want true or false; got %q", s)
		}
	case reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("want a whole number; got %q", s)
		}
		v.SetInt(int64(n))
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("want a number; got %q", s)
		}
		v.SetFloat(x)
	case reflect.Slice:
		var out []string
		for _, part := range strings.Split(s, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				return fmt.Errorf("want a comma-separated list without empty items; got %q", s)
			}
			out = append(out, part)
		}
		v.Set(reflect.ValueOf(out))
	default:
		return fmt.Errorf("unsupported parameter type %s", v.Type())
	}
	return nil
}

func typeName(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Bool:
		return "boolean (true or false)"
	case reflect.Int:
		return "whole number"
	case reflect.Float64:
		return "number"
	case reflect.Slice:
		return "list"
	default:
		return "string"
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

// suggest names the parameter a misspelt key most likely meant.
func suggest(key string) string {
	best, bestDist := "", 4
	for _, f := range fields() {
		if strings.EqualFold(f.name, key) {
			return fmt.Sprintf("; did you mean %s? (names are case-sensitive)", f.name)
		}
		if d := distance(strings.ToLower(key), strings.ToLower(f.name)); d < bestDist {
			best, bestDist = f.name, d
		}
	}
	if best != "" {
		return fmt.Sprintf("; did you mean %s?", best)
	}
	return "; see the parameter reference in README.md"
}

// distance is the Levenshtein distance of two strings.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
