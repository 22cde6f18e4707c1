package cost

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/assembly"
)

// collectorConfigEnv is the environment variable in which a task's
// OpenTelemetry collector container gets its configuration.
const collectorConfigEnv = "AOT_CONFIG_CONTENT"

// collectorConfig is what the estimate reads of a collector's configuration:
// the metrics its awsemf exporters declare and the labels its scrape jobs
// set to one value.
type collectorConfig struct {
	Exporters map[string]struct {
		Namespace          string `yaml:"namespace"`
		MetricDeclarations []struct {
			Dimensions          [][]string `yaml:"dimensions"`
			MetricNameSelectors []string   `yaml:"metric_name_selectors"`
		} `yaml:"metric_declarations"`
	} `yaml:"exporters"`
	Receivers map[string]struct {
		Config struct {
			ScrapeConfigs []struct {
				StaticConfigs []struct {
					Labels map[string]string `yaml:"labels"`
				} `yaml:"static_configs"`
			} `yaml:"scrape_configs"`
		} `yaml:"config"`
	} `yaml:"receivers"`
}

// collectorMetrics counts the custom CloudWatch metrics that the collectors
// of a task definition publish through awsemf: every metric name selector of
// a declaration, once per dimension set, times the values each dimension
// takes. A dimension that a scrape job sets as a static label has one value
// (the component); any other label is assumed to take
// "collector-label-values" values. The same metric sent by several tasks
// is one metric, so the count does not depend on the number of tasks.
func collectorMetrics(p *pricing, td assembly.Resource) (metrics float64, what string, err error) {
	defs, _ := td.Properties["ContainerDefinitions"].([]any)
	for _, d := range defs {
		c, _ := d.(map[string]any)
		env, _ := c["Environment"].([]any)
		for _, e := range env {
			kv, _ := e.(map[string]any)
			if kv["Name"] != collectorConfigEnv {
				continue
			}
			text, ok := subText(kv["Value"])
			if !ok {
				return 0, "", fmt.Errorf("%s of container %v must be a literal or an Fn::Sub, got %v", collectorConfigEnv, c["Name"], kv["Value"])
			}
			var cfg collectorConfig
			if err := yaml.Unmarshal([]byte(text), &cfg); err != nil {
				return 0, "", fmt.Errorf("%s of container %v is not a collector configuration: %v", collectorConfigEnv, c["Name"], err)
			}
			static := map[string]bool{}
			for _, r := range cfg.Receivers {
				for _, sc := range r.Config.ScrapeConfigs {
					for _, st := range sc.StaticConfigs {
						for l := range st.Labels {
							static[l] = true
						}
					}
				}
			}
			var names []string
			for _, x := range cfg.Exporters {
				for _, decl := range x.MetricDeclarations {
					for _, dims := range decl.Dimensions {
						values := 1.0
						for _, dim := range dims {
							if !static[dim] {
								values *= p.assume("collector-label-values")
							}
						}
						metrics += values * float64(len(decl.MetricNameSelectors))
					}
					for _, s := range decl.MetricNameSelectors {
						names = append(names, strings.Trim(strings.ReplaceAll(s, "$$", "$"), "^$"))
					}
				}
			}
			what = strings.Join(names, ", ")
		}
	}
	return metrics, what, nil
}

// subText returns the text of a literal string or of an Fn::Sub (its
// string, or the first element of its list form).
func subText(v any) (string, bool) {
	if s, ok := v.(string); ok {
		return s, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	switch s := m["Fn::Sub"].(type) {
	case string:
		return s, true
	case []any:
		if len(s) > 0 {
			t, ok := s[0].(string)
			return t, ok
		}
	}
	return "", false
}
