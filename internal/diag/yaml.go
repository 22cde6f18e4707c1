package diag

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// YAMLLine splits one yaml.v3 error message ("yaml: line N: what", or an
// item of a yaml.TypeError, "line N: what") into the line it names and the
// rest. ok is false, and rest the message without "yaml: ", when it names
// no line.
func YAMLLine(msg string) (line int, rest string, ok bool) {
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return 0, strings.TrimPrefix(msg, "yaml: "), false
	}
	line, _ = strconv.Atoi(m[1])
	return line, msg[len(m[0]):], true
}

// YAMLSyntax returns the 1-based line to fix for a syntax error that
// yaml.v3 returned while parsing data, and the error's message without the
// "yaml: line N: " prefix. The line is 0 when the error names none.
//
// yaml.v3 names an unclosed [ or { at the 0-based line where it opened, and
// some errors at the line where the enclosing block starts; the first prefix
// of data that fails with the same error ends at the line to fix.
func YAMLSyntax(data []byte, err error) (line int, msg string) {
	full := err.Error()
	line, msg, _ = YAMLLine(full)
	if strings.Contains(full, "did not find expected") {
		line++
	}
	return max(line, failingPrefix(data, full)), msg
}

// failingPrefix returns the number of lines of the shortest prefix of data
// that fails to parse with the error text full, or 0.
func failingPrefix(data []byte, full string) int {
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) > 2000 {
		return 0 // quadratic; the files checked are far smaller than this
	}
	var prefix strings.Builder
	for i, l := range lines {
		prefix.WriteString(l)
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(prefix.String()), &n); err != nil && err.Error() == full {
			return i + 1
		}
	}
	return 0
}

// YAMLDeref follows YAML aliases (*name) to the anchored node.
func YAMLDeref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// YAMLIsNull reports whether n is absent or an empty value (null, ~ or
// nothing after the colon).
func YAMLIsNull(n *yaml.Node) bool {
	n = YAMLDeref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// YAMLDescribe names what n is, for a message that says what was found
// instead of what was expected: "a list", "the string \"x\"", ...
func YAMLDescribe(n *yaml.Node) string {
	n = YAMLDeref(n)
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
		case "!!int", "!!float":
			return fmt.Sprintf("the number %s", n.Value)
		case "!!bool":
			return fmt.Sprintf("the boolean %s", n.Value)
		default:
			return fmt.Sprintf("a %s value", strings.TrimPrefix(n.Tag, "!!"))
		}
	}
	return "an unexpected YAML node"
}
