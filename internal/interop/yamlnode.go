package interop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// fileCheck collects the problems of one YAML file.
type fileCheck struct {
	file  string
	probs *diag.List
}

// add records a problem about the value at the YAML path key, at the
// position of n (the whole file when n is nil).
func (c *fileCheck) add(sev diag.Severity, code string, n *yaml.Node, key, format string, args ...any) {
	d := diag.Errorf(code, key, format, args...)
	d.Severity = sev
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	c.probs.Add(d.At(c.file, line, col))
}

func (c *fileCheck) errorf(code string, n *yaml.Node, key, format string, args ...any) {
	c.add(diag.Error, code, n, key, format, args...)
}

func (c *fileCheck) warnf(code string, n *yaml.Node, key, format string, args ...any) {
	c.add(diag.Warning, code, n, key, format, args...)
}

// parseYAML parses one YAML document. It returns nil root (and no problem) for
// an empty file or a file with only comments, as TTS treats those as empty.
func (c *fileCheck) parseYAML(data []byte) (root *yaml.Node, ok bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		line, msg := diag.YAMLSyntax(data, err)
		c.probs.Add(diag.Errorf("interop.yaml-syntax", "", "invalid YAML: %s; fix the syntax (indent with spaces, quote values that contain ': ' or start with special characters)", msg).At(c.file, line, 0))
		return nil, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		c.errorf("interop.multiple-documents", &extra, "", "a second YAML document starts here; TTS reads only the first document, so remove the '---' separator and everything after it, or merge it into the first document")
	} else if !errors.Is(err, io.EOF) {
		c.errorf("interop.yaml-syntax", nil, "", "invalid YAML after the first document: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil, true
	}
	return doc.Content[0], true
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
	n = diag.YAMLDeref(n)
	out := map[string]field{}
	if diag.YAMLIsNull(n) {
		return out, true
	}
	if n.Kind != yaml.MappingNode {
		where := path
		if where == "" {
			where = "the file"
		}
		c.errorf("interop.not-a-mapping", n, path, "expected a mapping of keys (%s), got %s; %s must be written as 'key: value' lines", strings.Join(known, ", "), diag.YAMLDescribe(n), where)
		return out, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := diag.YAMLDeref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			c.errorf("interop.key-not-a-word", k, path, "a key must be a plain word, got %s", diag.YAMLDescribe(k))
			continue
		}
		name := k.Value
		p := joinPath(path, name)
		if name == "<<" {
			c.errorf("interop.merge-key", k, p, "YAML merge keys ('<<') are not supported here; write the keys out")
			continue
		}
		if prev, dup := out[name]; dup {
			c.errorf("interop.duplicate-key", k, p, "key appears twice (first on line %d); TTS rejects duplicate keys, so keep only one", prev.key.Line)
			continue
		}
		if !contains(known, name) {
			msg := fmt.Sprintf("unknown key; TTS reads this file strictly and would fail at start. Known keys here: %s", strings.Join(known, ", "))
			if s := closest(name, known); s != "" {
				msg = fmt.Sprintf("unknown key, did you mean %q? TTS reads this file strictly and would fail at start. Known keys here: %s", s, strings.Join(known, ", "))
			}
			c.errorf("interop.unknown-key", k, p, "%s", msg)
			continue
		}
		out[name] = field{key: k, val: v, path: p}
	}
	return out, true
}

// str returns the string value of a scalar with the !!str tag. An empty or
// missing value, and a value YAML reads as a number or boolean, are errors.
func (c *fileCheck) str(f field) (string, bool) {
	n := diag.YAMLDeref(f.val)
	if diag.YAMLIsNull(n) {
		c.errorf("interop.empty-value", f.key, f.path, "the value is empty; give a value or remove the key")
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		c.errorf("interop.wrong-type", n, f.path, "expected a string, got %s", diag.YAMLDescribe(n))
		return "", false
	}
	if n.Tag != "!!str" {
		c.errorf("interop.wrong-type", n, f.path, "expected a string, got %s; put the value in quotes", diag.YAMLDescribe(n))
		return "", false
	}
	if n.Value == "" {
		c.errorf("interop.empty-value", n, f.path, "the value is an empty string; give a value or remove the key")
		return "", false
	}
	return n.Value, true
}

// seq returns the items of a list. A null node is an empty list.
func (c *fileCheck) seq(f field) ([]*yaml.Node, bool) {
	n := diag.YAMLDeref(f.val)
	if diag.YAMLIsNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		c.errorf("interop.wrong-type", n, f.path, "expected a list, got %s; write one '- item' line per item, or [a, b]", diag.YAMLDescribe(n))
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

// closest returns the known key nearest to s, if close enough for a hint.
func closest(s string, known []string) string { return diag.Closest(s, known, 2) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
