package ttsmetrics

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Collector is what a collector configuration does, read back as the
// collector reads it: its environment references expanded, the keep rule
// compiled with Prometheus's anchoring, the metric declarations with awsemf's
// unanchored matching. The rehearsal applies it to a real scrape.
type Collector struct {
	// Target is host:port, Path the metrics path, Username and Password the
	// basic auth (Password expanded from the environment).
	Target, Path, Username, Password string
	// Labels are the static labels added to every scraped series.
	Labels map[string]string
	// Namespace, LogGroup and LogStream of the awsemf exporter; Rollup its
	// dimension_rollup_option.
	Namespace, LogGroup, LogStream, Rollup string
	keep                                   []relabel
	declarations                           []Declaration
}

// Declaration is one awsemf metric declaration.
type Declaration struct {
	Dimensions [][]string
	selectors  []*regexp.Regexp
}

type relabel struct {
	action       string
	sourceLabels []string
	separator    string
	regex        *regexp.Regexp
}

// envRef is the collector's expansion syntax for the environment.
var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}`)

// Expand expands a configuration as the collector's confmap does before it
// parses it: ${env:NAME} is the variable's value, $$ is one $. Any other $
// is an error here (the collector would try to expand it too).
func Expand(config string, env map[string]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(config); i++ {
		if config[i] != '$' {
			b.WriteByte(config[i])
			continue
		}
		if strings.HasPrefix(config[i:], "$$") {
			b.WriteByte('$')
			i++
			continue
		}
		m := envRef.FindStringSubmatch(config[i:])
		if m == nil || !strings.HasPrefix(config[i:], m[0]) {
			return "", fmt.Errorf("ttsmetrics: a $ at offset %d that is neither $$ nor ${env:NAME}", i)
		}
		v, ok := env[m[1]]
		if !ok {
			return "", fmt.Errorf("ttsmetrics: the configuration reads %s, which the container does not have", m[1])
		}
		b.WriteString(v)
		i += len(m[0]) - 1
	}
	return b.String(), nil
}

// ParseCollector reads a configuration that Expand has expanded. It refuses
// what would make it say less than the collector does: more than one
// scrape configuration or relabel rules other than keep and drop.
func ParseCollector(expanded string) (*Collector, error) {
	var raw struct {
		Receivers struct {
			Prometheus struct {
				Config struct {
					ScrapeConfigs []struct {
						MetricsPath string `yaml:"metrics_path"`
						BasicAuth   struct {
							Username string `yaml:"username"`
							Password string `yaml:"password"`
						} `yaml:"basic_auth"`
						StaticConfigs []struct {
							Targets []string          `yaml:"targets"`
							Labels  map[string]string `yaml:"labels"`
						} `yaml:"static_configs"`
						MetricRelabelConfigs []struct {
							SourceLabels []string `yaml:"source_labels"`
							Separator    *string  `yaml:"separator"`
							Regex        *string  `yaml:"regex"`
							Action       string   `yaml:"action"`
						} `yaml:"metric_relabel_configs"`
					} `yaml:"scrape_configs"`
				} `yaml:"config"`
			} `yaml:"prometheus"`
		} `yaml:"receivers"`
		Exporters struct {
			AWSEMF struct {
				Namespace          string `yaml:"namespace"`
				LogGroup           string `yaml:"log_group_name"`
				LogStream          string `yaml:"log_stream_name"`
				Rollup             string `yaml:"dimension_rollup_option"`
				MetricDeclarations []struct {
					Dimensions [][]string `yaml:"dimensions"`
					Selectors  []string   `yaml:"metric_name_selectors"`
				} `yaml:"metric_declarations"`
			} `yaml:"awsemf"`
		} `yaml:"exporters"`
	}
	if err := yaml.Unmarshal([]byte(expanded), &raw); err != nil {
		return nil, fmt.Errorf("ttsmetrics: the collector configuration: %w", err)
	}
	scs := raw.Receivers.Prometheus.Config.ScrapeConfigs
	if len(scs) != 1 || len(scs[0].StaticConfigs) != 1 || len(scs[0].StaticConfigs[0].Targets) != 1 {
		return nil, fmt.Errorf("ttsmetrics: the collector configuration must scrape exactly one target")
	}
	sc := scs[0]
	out := &Collector{
		Target: sc.StaticConfigs[0].Targets[0], Path: sc.MetricsPath, Username: sc.BasicAuth.Username, Password: sc.BasicAuth.Password,
		Labels:    sc.StaticConfigs[0].Labels,
		Namespace: raw.Exporters.AWSEMF.Namespace, LogGroup: raw.Exporters.AWSEMF.LogGroup, LogStream: raw.Exporters.AWSEMF.LogStream,
		Rollup: raw.Exporters.AWSEMF.Rollup,
	}
	if out.Path == "" {
		out.Path = "/metrics"
	}
	for _, r := range sc.MetricRelabelConfigs {
		if r.Action != "keep" && r.Action != "drop" {
			return nil, fmt.Errorf("ttsmetrics: relabel action %q is not modelled here", r.Action)
		}
		// Prometheus's defaults: separator ";", regex "(.*)"; the
		// expression is anchored at both ends.
		sep, expr := ";", "(.*)"
		if r.Separator != nil {
			sep = *r.Separator
		}
		if r.Regex != nil {
			expr = *r.Regex
		}
		re, err := regexp.Compile("^(?:" + expr + ")$")
		if err != nil {
			return nil, fmt.Errorf("ttsmetrics: relabel regex %q: %w", expr, err)
		}
		out.keep = append(out.keep, relabel{action: r.Action, sourceLabels: r.SourceLabels, separator: sep, regex: re})
	}
	for _, d := range raw.Exporters.AWSEMF.MetricDeclarations {
		decl := Declaration{Dimensions: d.Dimensions}
		for _, s := range d.Selectors {
			re, err := regexp.Compile(s)
			if err != nil {
				return nil, fmt.Errorf("ttsmetrics: metric_name_selectors %q: %w", s, err)
			}
			decl.selectors = append(decl.selectors, re)
		}
		out.declarations = append(out.declarations, decl)
	}
	return out, nil
}

// Keeps tells whether the scrape keeps a series with these labels
// (__name__ included), applying the relabel rules in order as Prometheus
// does: the source labels' values joined by the separator must match the
// anchored expression for keep, and must not for drop.
func (c *Collector) Keeps(labels map[string]string) bool {
	for _, r := range c.keep {
		vals := make([]string, len(r.sourceLabels))
		for i, l := range r.sourceLabels {
			vals[i] = labels[l]
		}
		match := r.regex.MatchString(strings.Join(vals, r.separator))
		if (r.action == "keep" && !match) || (r.action == "drop" && match) {
			return false
		}
	}
	return true
}

// DimensionSets returns the dimension sets under which awsemf exports a
// metric name (nil: it is not exported as a CloudWatch metric).
func (c *Collector) DimensionSets(name string) [][]string {
	var out [][]string
	for _, d := range c.declarations {
		for _, re := range d.selectors {
			if re.MatchString(name) {
				out = append(out, d.Dimensions...)
				break
			}
		}
	}
	return out
}
