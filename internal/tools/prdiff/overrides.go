package prdiff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// OverrideFileSuffix names the reviewed exceptions to the data-loss guard of
// an environment: params/NAME.dataloss.yaml beside params/NAME.yaml.
const OverrideFileSuffix = ".dataloss.yaml"

// Override allows one guarded change of one resource, for a stated reason.
type Override struct {
	Stack     string `yaml:"stack"`
	LogicalID string `yaml:"logicalId"`
	Reason    string `yaml:"reason"`
	// Where is file:line, for messages.
	Where string `yaml:"-"`
}

// overrideFile is the content of one NAME.dataloss.yaml.
type overrideFile struct {
	Overrides []Override `yaml:"overrides"`
}

var (
	stackNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	logicalIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,255}$`)
)

// OverrideFileOf names the override file of an environment, relative to the
// project.
func OverrideFileOf(env string) string { return "params/" + env + OverrideFileSuffix }

// LoadOverrides reads the override file of an environment of the project in
// projectDir. A missing file means no override. Parsing is strict: an unknown
// key, a missing stack, logical id or reason, or an entry given twice is an
// error naming the file and line.
func LoadOverrides(projectDir, env string) ([]Override, error) {
	name := OverrideFileOf(env)
	data, err := os.ReadFile(filepath.Join(projectDir, filepath.FromSlash(name)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseOverrides(name, data)
}

// ParseOverrides parses the content of an override file (see LoadOverrides).
func ParseOverrides(file string, data []byte) ([]Override, error) {
	var f overrideFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	lines := entryLines(data)
	var problems []string
	seen := map[string]string{}
	for i := range f.Overrides {
		o := &f.Overrides[i]
		o.Where = file
		if i < len(lines) {
			o.Where = fmt.Sprintf("%s:%d", file, lines[i])
		}
		o.Stack, o.LogicalID, o.Reason = strings.TrimSpace(o.Stack), strings.TrimSpace(o.LogicalID), strings.TrimSpace(o.Reason)
		switch {
		case !stackNamePattern.MatchString(o.Stack):
			problems = append(problems, fmt.Sprintf("%s: stack: want the full stack name as `make diff` prints it (e.g. tts-Data), got %q", o.Where, o.Stack))
		case !logicalIDPattern.MatchString(o.LogicalID):
			problems = append(problems, fmt.Sprintf("%s: logicalId: want the logical id as `make diff` prints it (letters and digits), got %q", o.Where, o.LogicalID))
		case o.Reason == "":
			problems = append(problems, fmt.Sprintf("%s: reason: missing; say why losing the data of %s is acceptable and how it is recovered", o.Where, o.LogicalID))
		}
		key := o.Stack + "/" + o.LogicalID
		if first, dup := seen[key]; dup {
			problems = append(problems, fmt.Sprintf("%s: %s is already allowed at %s; keep one entry", o.Where, key, first))
		}
		seen[key] = o.Where
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return f.Overrides, nil
}

var unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)

// yamlError turns a decoding error into one line per problem, file:line
// first, with what the file should hold.
func yamlError(file string, err error) error {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var lines []string
	for _, m := range msgs {
		where := file
		if line, rest, ok := diag.YAMLLine(m); ok {
			where, m = fmt.Sprintf("%s:%d", file, line), rest
		}
		if g := unknownField.FindStringSubmatch(m); g != nil {
			m = "unknown key " + g[1]
		}
		lines = append(lines, fmt.Sprintf("%s: %s; the file holds one key, overrides: a list of {stack, logicalId, reason}", where, m))
	}
	return errors.New(strings.Join(lines, "\n"))
}

// entryLines returns the line of each entry of the overrides list.
func entryLines(data []byte) []int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil
	}
	var lines []int
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "overrides" {
			for _, item := range root.Content[i+1].Content {
				lines = append(lines, item.Line)
			}
		}
	}
	return lines
}
