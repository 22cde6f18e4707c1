package ttsmetrics

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// The collector beside each component that keeps a series.
const (
	// Image is the AWS Distro for OpenTelemetry collector, pinned; the tag
	// is published for linux/arm64 and linux/amd64.
	Image = "public.ecr.aws/aws-observability/aws-otel-collector:v0.47.0"
	// ConfigVariable is the environment variable the ADOT image reads its
	// whole configuration from instead of its default file.
	ConfigVariable = "AOT_CONFIG_CONTENT"
	// PasswordVariable carries http.metrics.password into the collector's
	// container (an ECS secret); the configuration names it, never its value.
	PasswordVariable = "TTS_METRICS_PASSWORD"
	// Username is the user of The Things Stack's /metrics basic auth
	// (pkg/component/web.go metricsUsername).
	Username = "metrics"
	// MetricsPath is where every component serves its metrics.
	MetricsPath = "/metrics"
	// ScrapeInterval is how often the collector scrapes, and the finest
	// period of the metrics in CloudWatch.
	ScrapeInterval = 60 * time.Second
	// ScrapeTimeout bounds one scrape.
	ScrapeTimeout = 10 * time.Second
	// LogStreamName is the awsemf log stream, shared by the tasks of a
	// service (CloudWatch Logs takes concurrent writers to a stream). The
	// exporter's {TaskId} placeholder needs ECS resource detection, which
	// would be one more component to trust; the events carry no task id.
	LogStreamName = "collector"
)

// CollectorInputs configure one component's collector.
type CollectorInputs struct {
	Component ports.Component
	// Namespace is the CloudWatch namespace (Namespace(prefix)).
	Namespace string
	// LogGroup is the name of the log group that receives the embedded
	// metric format events; Region its region. Either may be a CDK token.
	LogGroup, Region string
}

// KeepRegex is the regular expression of the prometheus receiver's keep
// rule for c: the kept names as alternatives. Prometheus anchors relabel
// expressions at both ends, so it keeps exactly these names.
func KeepRegex(c ports.Component) string {
	var names []string
	for _, s := range ForComponent(c) {
		names = append(names, regexp.QuoteMeta(s.Name))
	}
	return strings.Join(names, "|")
}

// CollectorConfig renders the collector's configuration for component c: a
// prometheus receiver that scrapes localhost:<HTTP port>/metrics every
// ScrapeInterval with basic auth (the password from PasswordVariable, expanded
// by the collector at start), keeps only the table's series of c and adds the
// component label; the awsemf exporter that writes them into the namespace as
// embedded metric format events to the log group (CloudWatch Logs turns them
// into metrics: no cloudwatch:PutMetricData), with one metric declaration per
// dimension set and no dimension rollup (a rollup would add a billed metric
// per extra dimension combination).
func CollectorConfig(in CollectorInputs) (string, error) {
	series := ForComponent(in.Component)
	switch {
	case len(series) == 0:
		return "", fmt.Errorf("ttsmetrics: the table keeps no series of %s; it needs no collector", in.Component)
	case in.Namespace == "" || in.LogGroup == "" || in.Region == "":
		return "", fmt.Errorf("ttsmetrics: Namespace, LogGroup and Region are required")
	}
	// One declaration per dimension set, in the table's order.
	type declaration struct {
		Dimensions [][]string `yaml:"dimensions"`
		Selectors  []string   `yaml:"metric_name_selectors"`
	}
	var decls []*declaration
	byDims := map[string]*declaration{}
	for _, s := range series {
		key := strings.Join(s.Dimensions(), ",")
		d := byDims[key]
		if d == nil {
			d = &declaration{Dimensions: [][]string{s.Dimensions()}}
			byDims[key] = d
			decls = append(decls, d)
		}
		// awsemf matches selectors as unanchored regular expressions; the
		// collector expands $ in its configuration, $$ is one $.
		d.Selectors = append(d.Selectors, "^"+regexp.QuoteMeta(s.Name)+"$$")
	}
	job := "tts-" + string(in.Component)
	cfg := map[string]any{
		"receivers": map[string]any{
			"prometheus": map[string]any{
				"config": map[string]any{
					"global": map[string]any{
						"scrape_interval": promDuration(ScrapeInterval),
						"scrape_timeout":  promDuration(ScrapeTimeout),
					},
					"scrape_configs": []any{map[string]any{
						"job_name":     job,
						"metrics_path": MetricsPath,
						"scheme":       "http",
						"basic_auth": map[string]any{
							"username": Username,
							"password": "${env:" + PasswordVariable + "}",
						},
						"static_configs": []any{map[string]any{
							"targets": []string{fmt.Sprintf("localhost:%d", ports.HTTP().Plain)},
							"labels":  map[string]string{ComponentDimension: string(in.Component)},
						}},
						"metric_relabel_configs": []any{map[string]any{
							"source_labels": []string{"__name__"},
							"regex":         KeepRegex(in.Component),
							"action":        "keep",
						}},
					}},
				},
			},
		},
		"processors": map[string]any{
			"batch/metrics": map[string]any{"timeout": promDuration(ScrapeInterval)},
		},
		"exporters": map[string]any{
			"awsemf": map[string]any{
				"namespace":               in.Namespace,
				"log_group_name":          in.LogGroup,
				"log_stream_name":         LogStreamName,
				"region":                  in.Region,
				"dimension_rollup_option": "NoDimensionRollup",
				"metric_declarations":     decls,
			},
		},
		"service": map[string]any{
			"pipelines": map[string]any{
				"metrics": map[string]any{
					"receivers":  []string{"prometheus"},
					"processors": []string{"batch/metrics"},
					"exporters":  []string{"awsemf"},
				},
			},
		},
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("ttsmetrics: %w", err)
	}
	return string(b), nil
}

// promDuration writes a duration as Prometheus's configuration reads it
// (whole seconds, "60s"; Go's "1m0s" is not its syntax).
func promDuration(d time.Duration) string { return fmt.Sprintf("%ds", int(d.Seconds())) }
