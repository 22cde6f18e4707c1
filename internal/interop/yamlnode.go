package interop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// fileCheck collects the problems of one YAML file.
type fileCheck struct {
	file  string
	probs *Problems
}

func (c *fileCheck) add(sev Severity, n *yaml.Node, key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if key != "" {
		msg = key + ": " + msg
	}
	p := Problem{Severity: sev, File: c.file, Key: key, Message: msg}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	*c.probs = append(*c.probs, p)
}

func (c *fileCheck) errorf(n *yaml.Node, key, format string, args ...any) {
	c.add(Error, n, key, format, args...)
}

func (c *fileCheck) warnf(n *yaml.Node, key, format string, args ...any) {
	c.add(Warning, n, key, format, args...)
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// parseYAML parses one YAML document. It returns nil root (and no problem) for
// an empty file or a file with only comments, as TTS treats those as empty.
func (c *fileCheck) parseYAML(data []byte) (root *yaml.Node, ok bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		line := 0
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		if l := offendingLine(data, err.Error()); l > line {
			line = l
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		*c.probs = append(*c.probs, Problem{Severity: Error, File: c.file, Line: line,
			Message: "invalid YAML: " + msg + "; fix the syntax (indent with spaces, quote values that contain ': ' or start with special characters)"})
		return nil, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		c.errorf(&extra, "", "a second YAML document starts here; TTS reads only the first document, so remove the '---' separator and everything after it, or merge it into the first document")
	} else if !errors.Is(err, io.EOF) {
		c.errorf(nil, "", "invalid YAML after the first document: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil, true
	}
	return doc.Content[0], true
}

// offendingLine finds the line where a YAML syntax error becomes visible.
// The parser names the line where the enclosing block starts; the first
// prefix of the file that fails with the same error ends at the line to fix.
func offendingLine(data []byte, fullErr string) int {
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) > 2000 {
		return 0 // quadratic; repository files are far smaller than this
	}
	var prefix strings.Builder
	for i, l := range lines {
		prefix.WriteString(l)
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(prefix.String()), &n); err != nil && err.Error() == fullErr {
			return i + 1
		}
	}
	return 0
}

// deref follows YAML aliases (*name) to the anchored node.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	n = deref(n)
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "an empty value"
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		case "!!int":
			return fmt.Sprintf("the number %s", n.Value)
		case "!!float":
			return fmt.Sprintf("the number %s", n.Value)
		case "!!bool":
			return fmt.Sprintf("the boolean %s", n.Value)
		default:
			return fmt.Sprintf("a %s value", strings.TrimPrefix(n.Tag, "!!"))
		}
	}
	return "an unexpected YAML node"
}

// field is one key/value pair of a mapping.
type field struct {
	key, val *yaml.Node
	path     string // YAML path of the value, e.g. "tls.key"
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// mapping checks that n is a mapping whose keys are all in known, without
// duplicates, and returns the fields by key. A null node is an empty mapping.
// It returns ok=false when n is not a mapping at all.
func (c *fileCheck) mapping(n *yaml.Node, path string, known []string) (map[string]field, bool) {
	n = deref(n)
	out := map[string]field{}
	if isNull(n) {
		return out, true
	}
	if n.Kind != yaml.MappingNode {
		where := path
		if where == "" {
			where = "the file"
		}
		c.errorf(n, path, "expected a mapping of keys (%s), got %s; %s must be written as 'key: value' lines", strings.Join(known, ", "), kindName(n), where)
		return out, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			c.errorf(k, path, "a key must be a plain word, got %s", kindName(k))
			continue
		}
		name := k.Value
		p := joinPath(path, name)
		if name == "<<" {
			c.errorf(k, p, "YAML merge keys ('<<') are not supported here; write the keys out")
			continue
		}
		if prev, dup := out[name]; dup {
			c.errorf(k, p, "key appears twice (first on line %d); TTS rejects duplicate keys, so keep only one", prev.key.Line)
			continue
		}
		if !contains(known, name) {
			msg := fmt.Sprintf("unknown key; TTS reads this file strictly and would fail at start. Known keys here: %s", strings.Join(known, ", "))
			if s := closest(name, known); s != "" {
				msg = fmt.Sprintf("unknown key, did you mean %q? TTS reads this file strictly and would fail at start. Known keys here: %s", s, strings.Join(known, ", "))
			}
			c.errorf(k, p, "%s", msg)
			continue
		}
		out[name] = field{key: k, val: v, path: p}
	}
	return out, true
}

// str returns the string value of a scalar with the !!str tag. An empty or
// missing value, and a value YAML reads as a number or boolean, are errors.
func (c *fileCheck) str(f field) (string, bool) {
	n := deref(f.val)
	if isNull(n) {
		c.errorf(f.key, f.path, "the value is empty; give a value or remove the key")
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		c.errorf(n, f.path, "expected a string, got %s", kindName(n))
		return "", false
	}
	if n.Tag != "!!str" {
		c.errorf(n, f.path, "expected a string, got %s; put the value in quotes", kindName(n))
		return "", false
	}
	if n.Value == "" {
		c.errorf(n, f.path, "the value is an empty string; give a value or remove the key")
		return "", false
	}
	return n.Value, true
}

// seq returns the items of a list. A null node is an empty list.
func (c *fileCheck) seq(f field) ([]*yaml.Node, bool) {
	n := deref(f.val)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, f.path, "expected a list, got %s; write one '- item' line per item, or [a, b]", kindName(n))
		return nil, false
	}
	return n.Content, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// closest returns the known key nearest to s by edit distance, if close enough.
func closest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(s), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
