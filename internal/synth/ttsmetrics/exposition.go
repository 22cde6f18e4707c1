package ttsmetrics

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// Sample is one line of a Prometheus text exposition: the series' labels
// (__name__ included) and its value.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Name is the sample's metric name.
func (s Sample) Name() string { return s.Labels["__name__"] }

// Exposition is a parsed /metrics answer: the samples and the declared type
// of every metric family.
type Exposition struct {
	Samples []Sample
	Types   map[string]string
}

// ParseExposition parses the Prometheus text format (version 0.0.4) that
// The Things Stack serves: comments, # TYPE lines and sample lines
// name{label="value",...} value [timestamp], with \\, \" and \n escapes in
// label values.
func ParseExposition(text string) (*Exposition, error) {
	out := &Exposition{Types: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			if f := strings.Fields(line); len(f) >= 4 && f[1] == "TYPE" {
				out.Types[f[2]] = f[3]
			}
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("line %d %q: %w", n, line, err)
		}
		out.Samples = append(out.Samples, s)
	}
	return out, sc.Err()
}

func parseSample(line string) (Sample, error) {
	s := Sample{Labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, fmt.Errorf("no metric name")
	}
	s.Labels["__name__"] = line[:i]
	rest := line[i:]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, " ,")
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, "=")
			if eq <= 0 || len(rest) < eq+2 || rest[eq+1] != '"' {
				return s, fmt.Errorf("bad label")
			}
			name := strings.TrimSpace(rest[:eq])
			rest = rest[eq+2:]
			var v strings.Builder
			closed := false
			for j := 0; j < len(rest); j++ {
				c := rest[j]
				if c == '\\' && j+1 < len(rest) {
					j++
					switch rest[j] {
					case 'n':
						v.WriteByte('\n')
					default:
						v.WriteByte(rest[j])
					}
					continue
				}
				if c == '"' {
					rest = rest[j+1:]
					closed = true
					break
				}
				v.WriteByte(c)
			}
			if !closed {
				return s, fmt.Errorf("unterminated label value")
			}
			s.Labels[name] = v.String()
		}
	}
	f := strings.Fields(rest)
	if len(f) < 1 {
		return s, fmt.Errorf("no value")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return s, fmt.Errorf("value %q: %w", f[0], err)
	}
	s.Value = v
	return s, nil
}
