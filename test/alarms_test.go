package test

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/certbot/certmetrics"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ttsmetrics"
	"github.com/lorawan-stack-aws/tts-ecs/stacks"
)

// resourceRef is a resource of the deployment (stack name and logical id),
// or a parameter ("param", name) whose literal value a template uses.
type resourceRef struct{ stack, id string }

func (r resourceRef) String() string { return r.stack + "/" + r.id }

// refsOf returns the resources a template value of stack refers to:
// Ref and Fn::GetAtt, Fn::GetStackOutput followed to the output's value in
// the producing stack, Fn::ImportValue to the output that exports the
// name, the parts of Fn::Join; a literal CertificateArn or DomainName is the
// parameter.
func refsOf(a *Assembly, stack string, v any) []resourceRef {
	switch x := v.(type) {
	case string:
		switch {
		case a.Params.CertificateArn != "" && x == a.Params.CertificateArn:
			return []resourceRef{{"param", "CertificateArn"}}
		case x == a.Params.DomainName:
			return []resourceRef{{"param", "DomainName"}}
		}
	case map[string]any:
		if r, ok := x["Ref"].(string); ok {
			if _, found := a.Templates[stack].Resources[r]; found {
				return []resourceRef{{stack, r}}
			}
			return nil
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
			id, _ := ga[0].(string)
			return []resourceRef{{stack, id}}
		}
		if _, ok := x["Fn::GetStackOutput"]; ok {
			if producer, value, ok := stackOutput(a, x); ok {
				return refsOf(a, producer, value)
			}
			return nil
		}
		if name, ok := x["Fn::ImportValue"].(string); ok {
			for s, tpl := range a.Templates {
				for _, out := range tpl.Outputs {
					if get(out, "Export", "Name") == name {
						return refsOf(a, s, get(out, "Value"))
					}
				}
			}
			return nil
		}
		if args, ok := x["Fn::Join"].([]any); ok && len(args) == 2 {
			return refsOf(a, stack, args[1])
		}
	case []any:
		var out []resourceRef
		for _, item := range x {
			out = append(out, refsOf(a, stack, item)...)
		}
		return out
	}
	return nil
}

// alarmMetric is one metric an alarm watches (directly or in its math).
type alarmMetric struct {
	namespace, name string
	dims            map[string]any
}

func metricsOfAlarm(al Resource) []alarmMetric {
	if ns, ok := get(al.Properties, "Namespace").(string); ok {
		return []alarmMetric{{ns, fmt.Sprint(get(al.Properties, "MetricName")), namedValues(get(al.Properties, "Dimensions"), "Value")}}
	}
	var out []alarmMetric
	for _, q := range asList(get(al.Properties, "Metrics")) {
		m := get(q, "MetricStat", "Metric")
		if m == nil {
			continue
		}
		out = append(out, alarmMetric{fmt.Sprint(get(m, "Namespace")), fmt.Sprint(get(m, "MetricName")), namedValues(get(m, "Dimensions"), "Value")})
	}
	return out
}

// watched maps every resource that an alarm's metric dimensions resolve to
// to the metrics that watch it.
func watched(a *Assembly) map[resourceRef][]string {
	out := map[resourceRef][]string{}
	for stack, tpl := range a.Templates {
		for _, al := range tpl.OfType("AWS::CloudWatch::Alarm") {
			for _, m := range metricsOfAlarm(al) {
				for _, v := range m.dims {
					for _, r := range refsOf(a, stack, v) {
						out[r] = append(out[r], m.name)
					}
				}
			}
		}
	}
	return out
}

// mustBeWatched derives from the templates what needs an alarm: every ECS
// service, every target group a listener forwards to, every database
// cluster and instance, cache replication group, ACM certificate (or the
// CertificateArn the listeners use) and Lambda function; for the target
// groups of the public listeners, the metrics that must watch them.
func mustBeWatched(a *Assembly) map[resourceRef][]string {
	out := map[resourceRef][]string{}
	for stack, tpl := range a.Templates {
		for id, r := range tpl.Resources {
			switch r.Type {
			case "AWS::ECS::Service":
				out[resourceRef{stack, id}] = []string{"RunningTaskCount"}
			case "AWS::RDS::DBCluster", "AWS::RDS::DBInstance", "AWS::ElastiCache::ReplicationGroup", "AWS::CertificateManager::Certificate", "AWS::Lambda::Function":
				out[resourceRef{stack, id}] = nil
			case "AWS::ElasticLoadBalancingV2::Listener":
				for _, c := range asList(get(r.Properties, "Certificates")) {
					for _, ref := range refsOf(a, stack, get(c, "CertificateArn")) {
						if _, ok := out[ref]; !ok {
							out[ref] = nil
						}
					}
				}
				for _, tg := range refsOf(a, stack, get(r.Properties, "DefaultActions", "0", "TargetGroupArn")) {
					port, _ := get(r.Properties, "Port").(float64)
					if int(port) < listeners.StagingPortOffset {
						out[tg] = []string{"HealthyHostCount", "UnHealthyHostCount"}
					} else if _, ok := out[tg]; !ok {
						out[tg] = nil
					}
				}
			}
		}
	}
	return out
}

// unwatched lists what needs an alarm and has none (or lacks a metric).
func unwatched(a *Assembly) []string {
	have := watched(a)
	var out []string
	for r, metrics := range mustBeWatched(a) {
		got, ok := have[r]
		if !ok {
			out = append(out, r.String()+": no alarm")
			continue
		}
		for _, m := range metrics {
			if !contains(got, m) {
				out = append(out, r.String()+": no "+m+" alarm")
			}
		}
	}
	sort.Strings(out)
	return out
}

func alarmModes() map[string]map[string]string {
	return map[string]map[string]string{
		"load balancer TLS":             proxyOff(),
		"proxy TLS":                     proxyOn(),
		"Packet Broker Agent":           pbaOn,
		"load balancer TLS, given cert": {"CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"},
	}
}

// In every TLS mode (and with a given certificate, with the Packet Broker
// Agent), every resource that needs an alarm has one whose metric
// dimensions resolve to it, across stacks; every alarm notifies the one
// alarm topic and has a name <StackPrefix>-<what>, a threshold, a
// missing-data behaviour and a description.
func TestEveryPartHasAnAlarm(t *testing.T) {
	for name, overrides := range alarmModes() {
		a := synthOnce(t, overrides)
		if missing := unwatched(a); len(missing) != 0 {
			t.Errorf("%s: without an alarm:\n  %s", name, strings.Join(missing, "\n  "))
		}
		names := map[string]bool{}
		for stack, tpl := range a.Templates {
			for id, al := range tpl.OfType("AWS::CloudWatch::Alarm") {
				if stack != a.Params.StackName("Services") {
					t.Errorf("%s: alarm %s/%s is outside the Services stack, where the topic is", name, stack, id)
				}
				actions := asList(get(al.Properties, "AlarmActions"))
				if len(actions) != 1 || !strings.HasPrefix(refTo(actions[0]), "Alarms") || tpl.Resources[refTo(actions[0])].Type != "AWS::SNS::Topic" {
					t.Errorf("%s: %s notifies %s, want the alarm topic only", name, id, jsonText(actions))
				}
				n, _ := get(al.Properties, "AlarmName").(string)
				if !strings.HasPrefix(n, a.Params.StackPrefix+"-") || names[n] {
					t.Errorf("%s: %s is named %q, want a unique %s-<what>", name, id, n, a.Params.StackPrefix)
				}
				names[n] = true
				if get(al.Properties, "Threshold") == nil || get(al.Properties, "TreatMissingData") == nil || len(fmt.Sprint(get(al.Properties, "AlarmDescription"))) < 40 {
					t.Errorf("%s: %s lacks a threshold, a missing-data behaviour or a description that says what to do: %s", name, id, jsonText(al.Properties))
				}
			}
		}
	}
}

// The check fails when a resource that needs an alarm is added without one,
// or when an alarm is taken away.
func TestEveryPartHasAnAlarmCatchesAMissingOne(t *testing.T) {
	a := synthOnce(t, proxyOff())
	if missing := unwatched(a); len(missing) != 0 {
		t.Fatalf("the deployment itself has resources without alarms: %v", missing)
	}
	copyOf := func() *Assembly {
		b := *a
		b.Templates = map[string]Template{}
		for k, tpl := range a.Templates {
			res := map[string]Resource{}
			for id, r := range tpl.Resources {
				res[id] = r
			}
			tpl.Resources = res
			b.Templates[k] = tpl
		}
		return &b
	}
	cfg, svc := a.Params.StackName("Configuration"), a.Params.StackName("Services")
	added := copyOf()
	added.Templates[cfg].Resources["ExtraFunction"] = Resource{Type: "AWS::Lambda::Function", Properties: map[string]any{}}
	added.Templates[svc].Resources["ExtraService"] = Resource{Type: "AWS::ECS::Service", Properties: map[string]any{}}
	want := []string{cfg + "/ExtraFunction: no alarm", svc + "/ExtraService: no alarm"}
	if got := unwatched(added); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("with two resources added: %v, want %v", got, want)
	}
	removed := copyOf()
	var dropped []string
	for id, r := range removed.Templates[svc].Resources {
		if r.Type == "AWS::CloudWatch::Alarm" && (strings.HasPrefix(id, "NoHealthy") || strings.HasPrefix(id, "CacheEvictions") || strings.HasPrefix(id, "CacheMemory")) {
			delete(removed.Templates[svc].Resources, id)
			dropped = append(dropped, id)
		}
	}
	got := strings.Join(unwatched(removed), "\n")
	if !strings.Contains(got, "no HealthyHostCount alarm") || !regexp.MustCompile(`/CacheGroup[0-9A-F]+: no alarm`).MatchString(got) {
		t.Errorf("with %v removed, the check reports:\n%s", dropped, got)
	}
}

// emittedMetric is a metric an AWS service (or the deployment) emits: its
// namespace, name and dimension names, and where that is written.
type emittedMetric struct {
	namespace, name string
	dims            []string
	source          string
}

const (
	docContainerInsights = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html"
	docECS               = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html"
	docNLB               = "https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html"
	docAurora            = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html"
	docElastiCache       = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.Redis.html"
	docACM               = "https://docs.aws.amazon.com/acm/latest/userguide/cloudwatch-metrics.html"
	docLambda            = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html"
)

// emittedByAWS is what the AWS services of the deployment publish, by the
// documentation pages of each; TTS/Certificates is published by Certbot and
// certsync (certbot/certmetrics).
var emittedByAWS = []emittedMetric{
	{"ECS/ContainerInsights", "RunningTaskCount", []string{"ClusterName", "ServiceName"}, docContainerInsights},
	{"ECS/ContainerInsights", "DesiredTaskCount", []string{"ClusterName", "ServiceName"}, docContainerInsights},
	{"AWS/ECS", "CPUUtilization", []string{"ClusterName", "ServiceName"}, docECS},
	{"AWS/ECS", "MemoryUtilization", []string{"ClusterName", "ServiceName"}, docECS},
	{"AWS/NetworkELB", "HealthyHostCount", []string{"LoadBalancer", "TargetGroup"}, docNLB},
	{"AWS/NetworkELB", "UnHealthyHostCount", []string{"LoadBalancer", "TargetGroup"}, docNLB},
	{"AWS/RDS", "ServerlessDatabaseCapacity", []string{"DBInstanceIdentifier"}, docAurora},
	{"AWS/RDS", "CPUUtilization", []string{"DBInstanceIdentifier"}, docAurora},
	{"AWS/RDS", "ACUUtilization", []string{"DBClusterIdentifier"}, docAurora},
	{"AWS/RDS", "DatabaseConnections", []string{"DBClusterIdentifier"}, docAurora},
	{"AWS/ElastiCache", "DatabaseMemoryUsagePercentage", []string{"CacheClusterId"}, docElastiCache},
	{"AWS/ElastiCache", "Evictions", []string{"CacheClusterId"}, docElastiCache},
	{"AWS/ElastiCache", "EngineCPUUtilization", []string{"CacheClusterId"}, docElastiCache},
	{"AWS/CertificateManager", "DaysToExpiry", []string{"CertificateArn"}, docACM},
	{"AWS/Lambda", "Errors", []string{"FunctionName"}, docLambda},
	{stacks.CertMetricNamespace, certmetrics.DaysToExpiry, []string{"Domain"}, "certbot/certmetrics"},
	{stacks.CertMetricNamespace, certmetrics.RenewalFailure, []string{"Domain"}, "certbot/certmetrics"},
}

// dimensionKinds: the resource type each dimension's value must resolve to.
var dimensionKinds = map[string]string{
	"ClusterName":          "AWS::ECS::Cluster",
	"ServiceName":          "AWS::ECS::Service",
	"LoadBalancer":         "AWS::ElasticLoadBalancingV2::LoadBalancer",
	"TargetGroup":          "AWS::ElasticLoadBalancingV2::TargetGroup",
	"DBInstanceIdentifier": "AWS::RDS::DBInstance",
	"DBClusterIdentifier":  "AWS::RDS::DBCluster",
	"CacheClusterId":       "AWS::ElastiCache::ReplicationGroup",
	"CertificateArn":       "AWS::CertificateManager::Certificate",
	"FunctionName":         "AWS::Lambda::Function",
	"Domain":               "DomainName",
}

// checkMetric reports why a metric is not one the deployment emits: its
// namespace, name and dimension names must be a row of emittedByAWS or a
// metric filter of the templates (without dimensions), and every dimension
// value must resolve to one resource of the kind the dimension names.
func checkMetric(a *Assembly, stack string, m alarmMetric) error {
	names := sortedKeys(m.dims)
	known := false
	for _, e := range emittedByAWS {
		d := append([]string{}, e.dims...)
		sort.Strings(d)
		if e.namespace == m.namespace && e.name == m.name && strings.Join(d, ",") == strings.Join(names, ",") {
			known = true
		}
	}
	if !known && len(m.dims) == 0 {
		for _, tpl := range a.Templates {
			for _, f := range tpl.OfType("AWS::Logs::MetricFilter") {
				for _, tr := range asList(get(f.Properties, "MetricTransformations")) {
					if get(tr, "MetricNamespace") == m.namespace && get(tr, "MetricName") == m.name {
						known = true
					}
				}
			}
		}
	}
	if !known {
		return fmt.Errorf("%s %s with dimensions %v is not a metric the deployment emits", m.namespace, m.name, names)
	}
	for _, d := range names {
		refs := refsOf(a, stack, m.dims[d])
		if len(refs) != 1 {
			return fmt.Errorf("%s %s: dimension %s = %s resolves to %v, want one resource", m.namespace, m.name, d, jsonText(m.dims[d]), refs)
		}
		r := refs[0]
		kind := r.id
		if r.stack != "param" {
			kind = a.Templates[r.stack].Resources[r.id].Type
		} else if r.id == "CertificateArn" {
			kind = "AWS::CertificateManager::Certificate"
		}
		if kind != dimensionKinds[d] {
			return fmt.Errorf("%s %s: dimension %s resolves to %s (%s), want a %s", m.namespace, m.name, d, r, kind, dimensionKinds[d])
		}
	}
	return nil
}

// checkEmitted reports why a metric is not one the deployment emits: a
// metric of The Things Stack's namespace must be one its collectors (cols,
// as the templates deploy them) export, any other one must pass checkMetric.
func checkEmitted(a *Assembly, cols map[string]deployedCollector, stack string, m alarmMetric) error {
	if m.namespace != ttsmetrics.Namespace(a.Params.StackPrefix) {
		return checkMetric(a, stack, m)
	}
	dims := map[string]string{}
	for k, v := range m.dims {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s %s: dimension %s = %s, want a literal", m.namespace, m.name, k, jsonText(v))
		}
		dims[k] = s
	}
	if why := checkAgainstCollector(cols, m.namespace, m.name, dims); why != "" {
		return errors.New(why)
	}
	return nil
}

// renderDashboard resolves the dashboard body's Fn::Join: every token
// becomes a placeholder string, which tokens maps back to the template value.
func renderDashboard(t *testing.T, body any) (map[string]any, map[string]any) {
	t.Helper()
	tokens := map[string]any{}
	var text strings.Builder
	parts := []any{body}
	if args, ok := get(body, "Fn::Join").([]any); ok && len(args) == 2 && args[0] == "" {
		parts = asList(args[1])
	}
	for _, p := range parts {
		if s, ok := p.(string); ok {
			text.WriteString(s)
			continue
		}
		key := fmt.Sprintf("@@%d@@", len(tokens))
		tokens[key] = p
		text.WriteString(key)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text.String()), &out); err != nil {
		t.Fatalf("dashboard body is not JSON once rendered: %v\n%s", err, text.String())
	}
	return out, tokens
}

var placeholder = regexp.MustCompile(`@@\d+@@`)

// detoken maps a rendered string back to the template values it was made of.
func detoken(s string, tokens map[string]any) any {
	ps := placeholder.FindAllString(s, -1)
	if len(ps) == 0 {
		return s
	}
	var vs []any
	for _, p := range ps {
		vs = append(vs, tokens[p])
	}
	return vs
}

// The dashboard of each mode: one, named StackPrefix, in the Services
// stack; every widget's metric is one the deployment emits (namespace,
// name, dimension names) with dimension values that resolve to resources of
// the deployment; the alarm widget lists every alarm; there is a task
// widget per service and a health widget per public listener.
func TestDashboardShowsWhatTheDeploymentEmits(t *testing.T) {
	for name, overrides := range alarmModes() {
		a := synthOnce(t, overrides)
		cols, _ := collectors(t, a)
		svc := a.Params.StackName("Services")
		var boards []Resource
		for _, tpl := range a.Templates {
			for _, d := range tpl.OfType("AWS::CloudWatch::Dashboard") {
				boards = append(boards, d)
			}
		}
		if len(boards) != 1 || len(a.Stack(t, "Services").OfType("AWS::CloudWatch::Dashboard")) != 1 {
			t.Fatalf("%s: %d dashboards, want one in the Services stack", name, len(boards))
		}
		if n := get(boards[0].Properties, "DashboardName"); n != a.Params.StackPrefix {
			t.Errorf("%s: dashboard named %v, want %s", name, n, a.Params.StackPrefix)
		}
		body, tokens := renderDashboard(t, get(boards[0].Properties, "DashboardBody"))
		services, listenersShown := map[resourceRef]bool{}, map[resourceRef]bool{}
		alarmsShown := map[resourceRef]bool{}
		metrics := 0
		for _, w := range asList(body["widgets"]) {
			for _, arn := range asList(get(w, "properties", "alarms")) {
				for _, r := range refsOf(a, svc, detoken(fmt.Sprint(arn), tokens)) {
					alarmsShown[r] = true
				}
			}
			for _, line := range asList(get(w, "properties", "metrics")) {
				items := asList(line)
				if len(items) == 1 && get(items[0], "expression") != nil {
					continue // a math expression over the rows it names by id
				}
				if len(items) < 2 {
					t.Errorf("%s: widget %v has a metric %s without namespace and name", name, get(w, "properties", "title"), jsonText(line))
					continue
				}
				m := alarmMetric{namespace: fmt.Sprint(items[0]), name: fmt.Sprint(items[1]), dims: map[string]any{}}
				for i := 2; i+1 < len(items); i += 2 {
					k, ok := items[i].(string)
					if !ok {
						break
					}
					m.dims[k] = detoken(fmt.Sprint(items[i+1]), tokens)
				}
				metrics++
				if err := checkEmitted(a, cols, svc, m); err != nil {
					t.Errorf("%s: widget %v: %v", name, get(w, "properties", "title"), err)
				}
				if m.name == "RunningTaskCount" {
					for _, r := range refsOf(a, svc, m.dims["ServiceName"]) {
						services[r] = true
					}
				}
				if m.name == "HealthyHostCount" {
					for _, r := range refsOf(a, svc, m.dims["TargetGroup"]) {
						listenersShown[r] = true
					}
				}
			}
		}
		if metrics == 0 {
			t.Errorf("%s: the dashboard shows no metric", name)
		}
		for r, want := range mustBeWatched(a) {
			kind := a.Templates[r.stack].Resources[r.id].Type
			if kind == "AWS::ECS::Service" && !services[r] {
				t.Errorf("%s: no task widget for the service %s", name, r)
			}
			if contains(want, "HealthyHostCount") && !listenersShown[r] {
				t.Errorf("%s: no health widget for the target group %s of a public listener", name, r)
			}
		}
		for id := range a.Stack(t, "Services").OfType("AWS::CloudWatch::Alarm") {
			if !alarmsShown[resourceRef{svc, id}] {
				t.Errorf("%s: alarm %s is not in the dashboard's alarm widget", name, id)
			}
		}
		// The alarms watch metrics the deployment emits too.
		for id, al := range a.Stack(t, "Services").OfType("AWS::CloudWatch::Alarm") {
			for _, m := range metricsOfAlarm(al) {
				if err := checkEmitted(a, cols, svc, m); err != nil {
					t.Errorf("%s: alarm %s: %v", name, id, err)
				}
			}
		}
	}
}

// checkMetric accepts a metric that an alarm of the deployment watches and
// refuses it with a name, namespace or dimension that AWS does not emit, or
// a dimension value that is a resource of another kind.
func TestCheckMetricRefusesWhatIsNotEmitted(t *testing.T) {
	a := synthOnce(t, proxyOff())
	svc := a.Params.StackName("Services")
	var good alarmMetric
	for _, al := range a.Stack(t, "Services").OfType("AWS::CloudWatch::Alarm") {
		if get(al.Properties, "MetricName") == "UnHealthyHostCount" {
			good = metricsOfAlarm(al)[0]
			break
		}
	}
	if err := checkMetric(a, svc, good); err != nil {
		t.Fatalf("a target group alarm's metric is refused: %v", err)
	}
	with := func(f func(m *alarmMetric)) alarmMetric {
		m := alarmMetric{namespace: good.namespace, name: good.name, dims: map[string]any{}}
		for k, v := range good.dims {
			m.dims[k] = v
		}
		f(&m)
		return m
	}
	for name, m := range map[string]alarmMetric{
		"metric name":          with(func(m *alarmMetric) { m.name = "UnhealthyHostCount" }),
		"namespace":            with(func(m *alarmMetric) { m.namespace = "AWS/ApplicationELB" }),
		"missing dimension":    with(func(m *alarmMetric) { delete(m.dims, "LoadBalancer") }),
		"value of other kind":  with(func(m *alarmMetric) { m.dims["TargetGroup"] = good.dims["LoadBalancer"] }),
		"value of no resource": with(func(m *alarmMetric) { m.dims["TargetGroup"] = "net/tts/0123456789abcdef" }),
	} {
		if err := checkMetric(a, svc, m); err == nil {
			t.Errorf("%s: checkMetric accepts %+v", name, m)
		}
	}
}
