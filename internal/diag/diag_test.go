package diag

import (
	"fmt"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestString(t *testing.T) {
	for _, c := range []struct {
		d    Diagnostic
		want string
	}{
		{Errorf("x.bad", "Region", "want %s", "eu-west-1").At("params/prod.yaml", 4, 1), "params/prod.yaml:4: error: Region: want eu-west-1"},
		{Warnf("x.risky", "", "whole file").At("config.yml", 0, 0), "config.yml: warning: whole file"},
		{Errorf("x.bad", "Name", "too long"), "error: Name: too long"},
	} {
		if got := c.d.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
	}
}

func TestErr(t *testing.T) {
	var l List
	l.Warnf("x.risky", "A", "risky")
	if err := l.Err(); err != nil {
		t.Fatalf("a list of warnings is no error, got %v", err)
	}
	l.Errorf("x.bad", "B", "bad")
	err := fmt.Errorf("wrapped: %w", l.Err())
	got := FromError(err)
	if !got.Has("x.bad") || !got.Has("x.risky") || got.Has("x.other") {
		t.Errorf("FromError(%v) has codes %v, want x.risky and x.bad", err, got.Codes())
	}
	if want := "wrapped: warning: A: risky\nerror: B: bad"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if FromError(fmt.Errorf("plain")) != nil {
		t.Error("FromError of a plain error must be nil")
	}
}

func TestSort(t *testing.T) {
	l := List{
		Errorf("c", "", "").At("b.yml", 2, 1),
		Errorf("a", "", "").At("a.yml", 3, 0),
		Errorf("e", "", "").At("config.yml", 9, 0),
		Errorf("b", "", "").At("b.yml", 1, 0),
		Errorf("d", "", "").At("b.yml", 2, 1),
	}
	l.Sort("config.yml")
	if got, want := l.Codes(), []string{"e", "a", "b", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("sorted codes %v, want %v", got, want)
	}
}

func TestClosest(t *testing.T) {
	names := []string{"SupportProxyTLS", "StackPrefix", "Region"}
	for _, c := range []struct {
		name string
		max  int
		want string
	}{
		{"SupportProxyTls", 3, "SupportProxyTLS"},
		{"Regoin", 3, "Region"},
		{"Nothing", 3, ""},
		{"Nothing", -1, "Region"},
	} {
		if got := Closest(c.name, names, c.max); got != c.want {
			t.Errorf("Closest(%q, %d) = %q, want %q", c.name, c.max, got, c.want)
		}
	}
}

func TestYAMLSyntax(t *testing.T) {
	for _, c := range []struct {
		data string
		line int
	}{
		{"a: 1\nb: 2\nRegion: [eu\n", 3},
		{"a: {x: 1\nb: 2\n", 2},
		{"a: 1\n b: 2\n", 2},
		{"a:\n  - 1\n - 2\n", 3},
		{"a: b\nc: 'd\n", 2},
	} {
		var n yaml.Node
		err := yaml.Unmarshal([]byte(c.data), &n)
		if err == nil {
			t.Fatalf("%q parses; the test needs a syntax error", c.data)
		}
		line, msg := YAMLSyntax([]byte(c.data), err)
		if line != c.line {
			t.Errorf("%q: line %d, want %d (%v)", c.data, line, c.line, err)
		}
		if msg == "" || yamlLine.MatchString(msg) {
			t.Errorf("%q: message %q still has the yaml prefix", c.data, msg)
		}
	}
}

func TestYAMLLine(t *testing.T) {
	for _, c := range []struct {
		msg, rest string
		line      int
		ok        bool
	}{
		{"yaml: line 4: mapping values are not allowed in this context", "mapping values are not allowed in this context", 4, true},
		{"line 2: cannot unmarshal !!str `x` into int", "cannot unmarshal !!str `x` into int", 2, true},
		{"yaml: control characters are not allowed", "control characters are not allowed", 0, false},
	} {
		line, rest, ok := YAMLLine(c.msg)
		if line != c.line || rest != c.rest || ok != c.ok {
			t.Errorf("YAMLLine(%q) = %d, %q, %v; want %d, %q, %v", c.msg, line, rest, ok, c.line, c.rest, c.ok)
		}
	}
}
