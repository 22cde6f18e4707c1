package ratelimit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/proxy"
)

// MaxRate bounds max-per-min and max-burst: The Things Stack keeps them in an
// int, and a larger value is a typo rather than a limit.
const MaxRate = 1_000_000

var (
	profileKeys = []string{"name", "max-per-min", "max-burst", "associations"}
	fileKeys    = []string{"profiles"}
)

// The rate limiting classes of The Things Stack v3.32.1 (pkg/ratelimit
// resource.go and every ratelimit.HTTPMiddleware call): a class is one of
// fixedClasses, an HTTP class followed by ":" and a route's path template
// (httpRequestResource), or a gRPC class followed by ":" and a full method.
var (
	httpClasses  = []string{"http", "http:account", "http:oauth", "http:interop", "http:gcs", "http:gcs:cups", "http:health", "http:metrics", "http:pprof", "http:console:internal:events", "gs:accept:semtechws/lbslns", "gs:accept:ttigw"}
	grpcClasses  = []string{"grpc:method", "grpc:stream:accept", "grpc:stream:up"}
	otherClasses = []string{"gs:up", "gs:up:udp", "gs:accept:mqtt", "as:down:web", "as:down:mqtt", "as:accept:mqtt"}
	fullMethod   = regexp.MustCompile(`^/([A-Za-z0-9_.]+)/([A-Za-z0-9_]+)$`)
)

// Load reads an operator's rate limiting file (the format of The Things
// Stack's rate-limiting.yml: a `profiles:` list) and checks it more strictly
// than The Things Stack does: unknown keys, missing or wrong values, unknown
// classes and a class in two profiles are errors, each with file and line.
// file is the name shown in the diagnostics.
func Load(file string, data []byte) ([]Profile, diag.List) {
	c := &checker{file: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			c.errorf("ratelimit.empty-file", nil, "", "the file is empty; write `profiles:` with at least one profile, or `profiles: []` to turn rate limiting off")
			return nil, c.probs
		}
		line, msg := diag.YAMLSyntax(data, err)
		c.probs.Add(diag.Errorf("ratelimit.yaml-syntax", "", "invalid YAML: %s", msg).At(file, line, 0))
		return nil, c.probs
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		c.errorf("ratelimit.multiple-documents", &extra, "", "a second YAML document starts here; The Things Stack reads only the first: remove the '---' and what follows")
	}
	if len(doc.Content) == 0 {
		c.errorf("ratelimit.empty-file", nil, "", "the file is empty; write `profiles:` with at least one profile, or `profiles: []` to turn rate limiting off")
		return nil, c.probs
	}
	root := c.mapping(doc.Content[0], "", fileKeys)
	pf, ok := root["profiles"]
	if !ok {
		if root != nil {
			c.errorf("ratelimit.no-profiles", doc.Content[0], "profiles", "missing; write `profiles:` with the list of profiles, or `profiles: []` to turn rate limiting off")
		}
		return nil, c.probs
	}
	items := diag.YAMLDeref(pf.val)
	if items.Kind != yaml.SequenceNode {
		c.errorf("ratelimit.wrong-type", items, "profiles", "expected a list of profiles ('- name: ...' items), got %s", diag.YAMLDescribe(items))
		return nil, c.probs
	}
	out := []Profile{}
	names := map[string]int{}
	classes := map[string]string{}
	for i, item := range items.Content {
		path := fmt.Sprintf("profiles[%d]", i)
		fs := c.mapping(item, path, profileKeys)
		if fs == nil {
			continue
		}
		var p Profile
		if f, ok := fs["name"]; !ok {
			c.errorf("ratelimit.missing-name", item, path+".name", "missing; name the profile (a description, e.g. \"gRPC API\")")
		} else if s, ok := c.str(f); ok {
			if prev, dup := names[s]; dup {
				c.errorf("ratelimit.duplicate-name", f.val, f.path, "%q is also the name of the profile on line %d; give each profile its own name", s, prev)
			}
			names[s] = f.val.Line
			p.Name = s
		}
		if f, ok := fs["max-per-min"]; !ok {
			c.errorf("ratelimit.missing-rate", item, path+".max-per-min", "missing; The Things Stack refuses to start with a rate of 0: give the accesses per minute, e.g. 60")
		} else if n, ok := c.rate(f, 1); ok {
			p.MaxPerMin = n
		}
		if f, ok := fs["max-burst"]; ok {
			if n, ok := c.rate(f, 0); ok {
				p.MaxBurst = n
			}
		}
		f, ok := fs["associations"]
		if !ok {
			c.errorf("ratelimit.no-associations", item, path+".associations", "missing; The Things Stack skips a profile without classes: list the classes it limits, e.g. [grpc:method]")
		} else {
			list := diag.YAMLDeref(f.val)
			switch {
			case diag.YAMLIsNull(list) || (list.Kind == yaml.SequenceNode && len(list.Content) == 0):
				c.errorf("ratelimit.no-associations", f.key, f.path, "empty; The Things Stack skips a profile without classes: list the classes it limits, or remove the profile")
			case list.Kind != yaml.SequenceNode:
				c.errorf("ratelimit.wrong-type", list, f.path, "expected a list of classes, got %s", diag.YAMLDescribe(list))
			default:
				for j, n := range list.Content {
					ap := fmt.Sprintf("%s[%d]", f.path, j)
					s, ok := c.str(field{key: n, val: n, path: ap})
					if !ok {
						continue
					}
					if msg := checkClass(s); msg != "" {
						c.errorf("ratelimit.unknown-class", n, ap, "%s", msg)
						continue
					}
					if prev, dup := classes[s]; dup {
						c.errorf("ratelimit.duplicate-class", n, ap, "%s is also in %s; The Things Stack would silently use the later profile: keep it in one", s, prev)
						continue
					}
					classes[s] = fmt.Sprintf("the profile on line %d", item.Line)
					p.Associations = append(p.Associations, s)
				}
			}
		}
		out = append(out, p)
	}
	if c.probs.HasErrors() {
		return nil, c.probs
	}
	return out, c.probs
}

// checkClass returns what is wrong with a class, or "".
func checkClass(s string) string {
	for _, list := range [][]string{httpClasses, grpcClasses, otherClasses} {
		for _, k := range list {
			if s == k {
				return ""
			}
		}
	}
	for _, k := range grpcClasses {
		if rest, ok := strings.CutPrefix(s, k+":"); ok {
			m := fullMethod.FindStringSubmatch(rest)
			if m == nil {
				return fmt.Sprintf("%q is not a full gRPC method after %s:; write it as %s:/ttn.lorawan.v3.Service/Method", rest, k, k)
			}
			if _, ok := proxy.Table().ComponentForMethod(rest); !ok {
				return fmt.Sprintf("%s is not a service of The Things Stack's public API (see the gRPC route table in internal/synth/proxy/README.md); check the spelling, e.g. ttn.lorawan.v3.AppAs", m[1])
			}
			return ""
		}
	}
	for _, k := range httpClasses {
		if rest, ok := strings.CutPrefix(s, k+":"); ok && strings.HasPrefix(rest, "/") {
			return "" // a route's path template: the route's own class
		}
	}
	hint := ""
	if d := diag.Closest(s, append(append(append([]string{}, httpClasses...), grpcClasses...), otherClasses...), 3); d != "" {
		hint = fmt.Sprintf(" Did you mean %q?", d)
	}
	return fmt.Sprintf("%q is not a rate limiting class of The Things Stack v3.32.1.%s Classes: %s; %s followed by :/package.Service/Method; an HTTP class followed by :<path template>",
		s, hint, strings.Join(append(append(append([]string{}, httpClasses...), grpcClasses...), otherClasses...), ", "), strings.Join(grpcClasses, ", "))
}

// checker collects the problems of one file.
type checker struct {
	file  string
	probs diag.List
}

func (c *checker) errorf(code string, n *yaml.Node, path, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	c.probs.Add(diag.Errorf(code, path, format, args...).At(c.file, line, col))
}

type field struct {
	key, val *yaml.Node
	path     string
}

// mapping returns the fields of a mapping with only known keys; nil when n
// is not a mapping.
func (c *checker) mapping(n *yaml.Node, path string, known []string) map[string]field {
	n = diag.YAMLDeref(n)
	if n.Kind != yaml.MappingNode {
		c.errorf("ratelimit.not-a-mapping", n, path, "expected a mapping with the keys %s, got %s", strings.Join(known, ", "), diag.YAMLDescribe(n))
		return nil
	}
	out := map[string]field{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := diag.YAMLDeref(n.Content[i]), n.Content[i+1]
		p := k.Value
		if path != "" {
			p = path + "." + k.Value
		}
		if _, dup := out[k.Value]; dup {
			c.errorf("ratelimit.duplicate-key", k, p, "the key appears twice; keep one")
			continue
		}
		known := known
		ok := false
		for _, x := range known {
			ok = ok || x == k.Value
		}
		if !ok {
			hint := ""
			if d := diag.Closest(k.Value, known, 2); d != "" {
				hint = fmt.Sprintf(" Did you mean %q?", d)
			}
			c.errorf("ratelimit.unknown-key", k, p, "unknown key, which The Things Stack would silently ignore.%s Known keys here: %s", hint, strings.Join(known, ", "))
			continue
		}
		out[k.Value] = field{key: k, val: v, path: p}
	}
	return out
}

func (c *checker) str(f field) (string, bool) {
	n := diag.YAMLDeref(f.val)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" || n.Value == "" {
		c.errorf("ratelimit.wrong-type", n, f.path, "expected a non-empty string, got %s", diag.YAMLDescribe(n))
		return "", false
	}
	return n.Value, true
}

// rate returns a whole number of at least least and at most MaxRate.
func (c *checker) rate(f field, least uint) (uint, bool) {
	n := diag.YAMLDeref(f.val)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		c.errorf("ratelimit.wrong-type", n, f.path, "expected a whole number of accesses per minute, got %s", diag.YAMLDescribe(n))
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil || v < int64(least) || v > MaxRate {
		c.errorf("ratelimit.bad-rate", n, f.path, "%s is out of range: give a whole number from %d to %d", n.Value, least, MaxRate)
		return 0, false
	}
	return uint(v), true
}
