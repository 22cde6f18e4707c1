package params

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// location is where a value came from: a line of a parameter file, or a
// `-c Key=value` context override (line 0).
type location struct {
	file string
	line int
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
	set      map[string]location
	problems diag.List
	// unparsable is set when the file is not YAML; then only that is reported.
	unparsable bool
	// now is the time certificates named by the parameters are checked at.
	now time.Time
}

func (l *loader) add(d diag.Diagnostic, loc location) {
	l.problems.Add(d.At(loc.file, loc.line, 0))
}

// errorf records an error at the location the key was set (or the file, when
// the key has its default).
func (l *loader) errorf(code, key, format string, args ...any) {
	l.add(diag.Errorf(code, key, format, args...), l.where(key))
}

func (l *loader) warnf(code, key, format string, args ...any) {
	l.add(diag.Warnf(code, key, format, args...), l.where(key))
}

func (l *loader) where(key string) location {
	if loc, ok := l.set[key]; ok {
		return loc
	}
	return location{file: l.file}
}

func (l *loader) value(f field) reflect.Value {
	return reflect.ValueOf(l.params).Elem().Field(f.index)
}

// decodeFile reads the top-level mapping of a parameter file.
func (l *loader) decodeFile(data []byte) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return // an empty file: every required key is reported missing
		}
		l.unparsable = true
		line, msg := diag.YAMLSyntax(data, err)
		l.add(diag.Errorf("params.yaml-syntax", "(file)", "not valid YAML: %s", msg), location{l.file, line})
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.add(diag.Errorf("params.multiple-documents", "(file)", "holds more than one YAML document; keep one parameter set per file"), location{l.file, extra.Line})
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return
	}
	if root.Kind != yaml.MappingNode {
		l.add(diag.Errorf("params.not-a-mapping", "(file)", "must be a mapping of parameter names to values, like 'StackPrefix: tts'"), location{l.file, root.Line})
		return
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		loc := location{l.file, k.Line}
		f, ok := fieldByName(k.Value)
		if !ok {
			l.add(diag.Errorf("params.unknown-key", k.Value, "unknown parameter%s", suggest(k.Value)), loc)
			continue
		}
		if prev, dup := l.set[f.name]; dup {
			l.add(diag.Errorf("params.duplicate-key", f.name, "set twice (first at line %d); keep one", prev.line), loc)
			continue
		}
		l.set[f.name] = loc
		if err := setFromNode(l.value(f), v); err != nil {
			l.add(diag.Errorf("params.bad-value", f.name, "%v", err), location{l.file, v.Line})
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
		loc := location{file: fmt.Sprintf("-c %s=%v", k, ctx[k])}
		f, ok := fieldByName(k)
		if !ok {
			l.add(diag.Errorf("params.unknown-key", k, "unknown parameter%s", suggest(k)), loc)
			continue
		}
		l.set[f.name] = loc
		if err := setFromContext(l.value(f), ctx[k]); err != nil {
			l.add(diag.Errorf("params.bad-value", f.name, "%v", err), loc)
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
			l.add(diag.Errorf("params.missing-key", f.name, "required parameter is missing; add a line '%s: ...' to the file", f.name), location{l.file, 1})
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
	names := make([]string, 0, len(fields()))
	for _, f := range fields() {
		if strings.EqualFold(f.name, key) {
			return fmt.Sprintf("; did you mean %s? (names are case-sensitive)", f.name)
		}
		names = append(names, f.name)
	}
	if best := diag.Closest(key, names, 3); best != "" {
		return fmt.Sprintf("; did you mean %s?", best)
	}
	return "; see the parameter reference in README.md"
}
