package test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ttsmetrics"
	"github.com/lorawan-stack-aws/tts-ecs/stacks"
)

// deployedCollector is a collector as a task definition of the template
// configures it.
type deployedCollector struct {
	component string
	container map[string]any
	config    *ttsmetrics.Collector
	// logGroup is the logical id of the log group the exporter writes to.
	logGroup string
}

// withoutCollectorLogs drops the statements that only write CloudWatch Logs
// (the collector's), which TestCollectorWritesOnlyItsLogGroup checks.
func withoutCollectorLogs(statements []any) []any {
	var out []any
	for _, st := range statements {
		only := true
		for _, a := range actionsOf(st) {
			only = only && strings.HasPrefix(a, "logs:")
		}
		if !only || len(actionsOf(st)) == 0 {
			out = append(out, st)
		}
	}
	return out
}

func actionsOf(st any) []string {
	var out []string
	for _, a := range asList(get(st, "Action")) {
		out = append(out, fmt.Sprint(a))
	}
	if a, ok := get(st, "Action").(string); ok {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// subWithRefs resolves a Fn::Sub whose variables are Refs as CloudFormation
// does, writing each Ref as "ref:<logical id>".
func subWithRefs(t *testing.T, v any) string {
	t.Helper()
	args := asList(get(v, "Fn::Sub"))
	if len(args) != 2 {
		t.Fatalf("not a Fn::Sub with variables: %s", jsonText(v))
	}
	text, _ := args[0].(string)
	vars, _ := args[1].(map[string]any)
	for name, val := range vars {
		text = strings.ReplaceAll(text, "${"+name+"}", "ref:"+refTo(val))
	}
	return strings.ReplaceAll(text, "${!", "${")
}

// collectors returns the collectors of every TTS service of the
// IdentityServer and Services stacks, by component, as deployed.
func collectors(t *testing.T, a *Assembly) (map[string]deployedCollector, map[string]svcTask) {
	t.Helper()
	out := map[string]deployedCollector{}
	all := map[string]svcTask{}
	for _, stack := range []string{"IdentityServer", "Services"} {
		tpl := a.Stack(t, stack)
		for comp, s := range servicesByComponent(t, tpl) {
			all[comp] = s
			for _, d := range asList(get(s.task.Properties, "ContainerDefinitions")) {
				c, _ := d.(map[string]any)
				if c["Name"] != "collector" {
					continue
				}
				env := namedValues(c["Environment"], "Value")
				text := subWithRefs(t, env[ttsmetrics.ConfigVariable])
				expanded, err := ttsmetrics.Expand(text, map[string]string{ttsmetrics.PasswordVariable: "from-the-secret"})
				if err != nil {
					t.Fatalf("%s: %v", comp, err)
				}
				cfg, err := ttsmetrics.ParseCollector(expanded)
				if err != nil {
					t.Fatalf("%s: %v", comp, err)
				}
				if _, ok := tpl.Resources[strings.TrimPrefix(cfg.LogGroup, "ref:")]; !ok || !strings.HasPrefix(cfg.LogGroup, "ref:") {
					t.Errorf("%s: the collector writes to %q, not a log group of its stack", comp, cfg.LogGroup)
				}
				out[comp] = deployedCollector{component: comp, container: c, config: cfg, logGroup: strings.TrimPrefix(cfg.LogGroup, "ref:")}
			}
		}
	}
	return out, all
}

// Every component the table keeps series of runs a collector beside it, and
// no other: pinned, not essential, with the password the component checks,
// scraping the component's own HTTP port, into the deployment's namespace.
func TestCollectorsBesideTheComponentsTheyScrape(t *testing.T) {
	a := synthOnce(t, nil)
	cols, services := collectors(t, a)
	for comp, s := range services {
		col, has := cols[comp]
		want := slices.Contains(ttsmetrics.Collected(), ports.Component(comp))
		if has != want {
			t.Errorf("%s: collector %v, want %v (the table keeps series of %v)", comp, has, want, ttsmetrics.Collected())
		}
		if !has {
			continue
		}
		c := col.container
		if c["Image"] != ttsmetrics.Image || strings.HasSuffix(fmt.Sprint(c["Image"]), ":latest") {
			t.Errorf("%s: collector image %v", comp, c["Image"])
		}
		if c["Essential"] != false || c["MemoryReservation"] == nil || c["Memory"] == nil {
			t.Errorf("%s: collector essential %v, memory %v/%v: it must never stop the component nor take its memory", comp, c["Essential"], c["MemoryReservation"], c["Memory"])
		}
		mine := jsonText(namedValues(c["Secrets"], "ValueFrom")[ttsmetrics.PasswordVariable])
		theirs := jsonText(namedValues(s.main["Secrets"], "ValueFrom")["TTN_LW_HTTP_METRICS_PASSWORD"])
		if mine == "null" || mine != theirs {
			t.Errorf("%s: the collector's password comes from %s, the component's from %s", comp, mine, theirs)
		}
		if strings.Contains(jsonText(c["Environment"]), "from-the-secret") {
			t.Errorf("%s: a password value in the environment", comp)
		}
		cfg := col.config
		port := strings.TrimPrefix(cfg.Target, "localhost:")
		served := false
		for _, pm := range asList(s.main["PortMappings"]) {
			served = served || (fmt.Sprint(get(pm, "ContainerPort")) == port && get(pm, "Name") == "http")
		}
		if !served || cfg.Path != "/metrics" || cfg.Username != "metrics" || cfg.Password != "from-the-secret" {
			t.Errorf("%s: scrapes %s%s as %s, not the component's HTTP port with its metrics user", comp, cfg.Target, cfg.Path, cfg.Username)
		}
		if cfg.Namespace != ttsmetrics.Namespace(a.Params.StackPrefix) || cfg.Labels["component"] != comp {
			t.Errorf("%s: namespace %q, component label %q", comp, cfg.Namespace, cfg.Labels["component"])
		}
		if get(c, "LogConfiguration", "Options", "awslogs-group") == nil || jsonText(get(c, "LogConfiguration", "Options", "awslogs-group")) != jsonText(get(s.main, "LogConfiguration", "Options", "awslogs-group")) {
			t.Errorf("%s: the collector's own logs go elsewhere than the service's log group", comp)
		}
	}
}

// The collector's task role may write its metrics log group and nothing else
// of CloudWatch: awsemf sends embedded metric format events through
// CloudWatch Logs, which makes the metrics (no cloudwatch:PutMetricData).
func TestCollectorWritesOnlyItsLogGroup(t *testing.T) {
	a := synthOnce(t, nil)
	cols, services := collectors(t, a)
	for comp, s := range services {
		tpl := a.Stack(t, "Services")
		if comp == "is" {
			tpl = a.Stack(t, "IdentityServer")
		}
		var logStatements []any
		for _, st := range taskRoleStatements(tpl, s.task) {
			for _, act := range actionsOf(st) {
				if strings.HasPrefix(act, "cloudwatch:") {
					t.Errorf("%s: task role may %s", comp, act)
				}
			}
			if len(withoutCollectorLogs([]any{st})) == 0 {
				logStatements = append(logStatements, st)
			}
		}
		col, has := cols[comp]
		if !has {
			if len(logStatements) > 0 {
				t.Errorf("%s runs no collector but its task role may write logs: %s", comp, jsonText(logStatements))
			}
			continue
		}
		if len(logStatements) != 1 {
			t.Errorf("%s: %d statements on logs, want 1: %s", comp, len(logStatements), jsonText(logStatements))
			continue
		}
		st := logStatements[0]
		if got := strings.Join(actionsOf(st), " "); got != "logs:CreateLogStream logs:PutLogEvents" {
			t.Errorf("%s: the collector may %s", comp, got)
		}
		res := jsonText(get(st, "Resource"))
		if !strings.Contains(res, `"`+col.logGroup+`","Arn"`) || strings.Count(res, "*") > 0 && !strings.HasSuffix(strings.TrimSuffix(res, `]}`), `:*"`) {
			t.Errorf("%s: the collector writes %s, want only its log group %s", comp, res, col.logGroup)
		}
	}
}

// checkAgainstCollector tells why the deployed collectors do not export a
// metric as a reader (alarm, widget) reads it ("" when they do).
func checkAgainstCollector(cols map[string]deployedCollector, namespace, name string, dims map[string]string) string {
	col, ok := cols[dims["component"]]
	if !ok {
		return fmt.Sprintf("%s: no collector runs beside component %q", name, dims["component"])
	}
	cfg := col.config
	if cfg.Namespace != namespace {
		return fmt.Sprintf("%s: namespace %q, the collector writes %q", name, namespace, cfg.Namespace)
	}
	labels := map[string]string{"__name__": name}
	for k, v := range cfg.Labels {
		labels[k] = v
	}
	if !cfg.Keeps(labels) || cfg.Labels["component"] != dims["component"] {
		return fmt.Sprintf("%s: the %s collector does not keep it", name, dims["component"])
	}
	keys := sortedKeys(dims)
	sets := cfg.DimensionSets(name)
	for _, set := range sets {
		s := append([]string(nil), set...)
		sort.Strings(s)
		if slices.Equal(s, keys) {
			return ""
		}
	}
	return fmt.Sprintf("%s: read with dimensions %v, exported with %v", name, keys, sets)
}

// The traffic alarms watch metrics that the deployed collectors export, with
// exactly their dimensions, notify the alarm topic, and keep quiet on a
// network that has no traffic yet (missing data is not breaching).
func TestTrafficAlarmsWatchWhatTheCollectorsExport(t *testing.T) {
	for _, overrides := range []map[string]string{proxyOff(), proxyOn()} {
		a := synthOnce(t, overrides)
		cols, _ := collectors(t, a)
		tpl := a.Stack(t, "Services")
		var names []string
		for id, al := range tpl.OfType("AWS::CloudWatch::Alarm") {
			ns, _ := get(al.Properties, "Namespace").(string)
			if !strings.HasPrefix(ns, "TheThingsStack/") {
				continue
			}
			name, _ := get(al.Properties, "MetricName").(string)
			dims := map[string]string{}
			for k, v := range namedValues(get(al.Properties, "Dimensions"), "Value") {
				dims[k] = fmt.Sprint(v)
			}
			if why := checkAgainstCollector(cols, ns, name, dims); why != "" {
				t.Errorf("%s: %s", id, why)
			}
			s, _ := ttsmetrics.Lookup(name)
			wantStat := map[ttsmetrics.Kind]string{ttsmetrics.Gauge: "Maximum", ttsmetrics.Counter: "Sum"}[s.Kind]
			if get(al.Properties, "Statistic") != wantStat || get(al.Properties, "TreatMissingData") != "notBreaching" ||
				get(al.Properties, "ComparisonOperator") != "LessThanThreshold" || get(al.Properties, "Threshold") != 1.0 {
				t.Errorf("%s: %s", id, jsonText(al.Properties))
			}
			if !strings.Contains(jsonText(get(al.Properties, "AlarmActions")), "Alarms") {
				t.Errorf("%s does not notify the alarm topic", id)
			}
			if d, _ := get(al.Properties, "AlarmDescription").(string); len(d) < 80 {
				t.Errorf("%s: description %q does not say what to do", id, d)
			}
			names = append(names, fmt.Sprint(get(al.Properties, "AlarmName")))
		}
		sort.Strings(names)
		want := stacks.TrafficAlarmNames(a.Params.StackPrefix)
		sort.Strings(want)
		if !slices.Equal(names, want) {
			t.Errorf("traffic alarms %v, want %v", names, want)
		}
	}
}

// The dashboard's traffic row, rendered as a dashboard body, reads only
// metrics the deployed collectors export, and shows every kept series.
func TestTrafficWidgetsReadWhatTheCollectorsExport(t *testing.T) {
	a := synthOnce(t, nil)
	cols, _ := collectors(t, a)
	// The rows of the deployment's dashboard, as the template deploys it.
	var body map[string]any
	for _, d := range a.Stack(t, "Services").OfType("AWS::CloudWatch::Dashboard") {
		body, _ = renderDashboard(t, get(d.Properties, "DashboardBody"))
	}
	var widgets []ttsmetrics.Widget
	if err := json.Unmarshal([]byte(jsonText(body["widgets"])), &widgets); err != nil {
		t.Fatal(err)
	}
	refs, err := ttsmetrics.WidgetMetrics(widgets)
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, r := range refs {
		if r.Namespace != ttsmetrics.Namespace(a.Params.StackPrefix) {
			continue // the metrics of AWS services: TestDashboardShowsWhatTheDeploymentEmits
		}
		if why := checkAgainstCollector(cols, r.Namespace, r.Name, r.Dimensions); why != "" {
			t.Error(why)
		}
		shown[r.Name] = true
	}
	for _, col := range cols {
		for _, s := range ttsmetrics.ForComponent(ports.Component(col.component)) {
			if !shown[s.Name] {
				t.Errorf("%s is exported (and billed) but no widget shows it", s.Name)
			}
		}
	}
}
