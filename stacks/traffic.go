package stacks

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ttsmetrics"
)

// The traffic alarms, on The Things Stack's own metrics (package
// ttsmetrics). Both treat missing data as not breaching, on purpose: the
// Gateway Server exports a series only once it has counted something (a
// fresh deployment without gateways sends nothing and never alarms), and once
// it has, it sends a datapoint every scrape, zero included. So they alarm
// when traffic that existed stops, not on a network that has none yet. The
// price: a Gateway Server task that restarts exports nothing until a gateway
// connects to it, so a restart after which no gateway reconnects is silent
// here (the service and target-group alarms watch the tasks themselves).
const (
	// GatewaysDisconnectedFor is how long no Gateway Server task may report
	// a connected gateway: longer than a gateway's reboot or a rolling
	// deployment of the Gateway Server (gateways reconnect to a new task).
	GatewaysDisconnectedFor = 15 * time.Minute
	// UplinksStoppedFor is how long the Gateway Servers may receive no
	// uplink: an hour, as a small network's devices may send once an hour.
	UplinksStoppedFor = time.Hour
	// UplinksPeriod is the period of the uplinks alarm.
	UplinksPeriod = 15 * time.Minute
)

// TrafficAlarmNames are the names of the traffic alarms of a deployment.
func TrafficAlarmNames(prefix string) []string {
	return []string{prefix + "-gateways-disconnected", prefix + "-uplinks-stopped"}
}

// trafficMetric is a metric of the table with its dimensions in the
// deployment's namespace.
func trafficMetric(prefix, name, stat string, period time.Duration) awscloudwatch.Metric {
	s, ok := ttsmetrics.Lookup(name)
	if !ok || len(s.Labels) > 0 {
		panic("stacks: the traffic alarms read " + name + ", which must be a kept series with the component dimension only")
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(ttsmetrics.Namespace(prefix)),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{ttsmetrics.ComponentDimension: jsii.String(string(s.Component))},
		Statistic:     jsii.String(stat),
		Period:        awscdk.Duration_Seconds(jsii.Number(period.Seconds())),
	})
}

// traffic creates the traffic alarms; they tell when traffic comes back too.
func (s *alarmSet) traffic() {
	names := TrafficAlarmNames(s.prefix)
	minute := time.Minute
	gw := int(GatewaysDisconnectedFor / minute)
	gateways := s.add("GatewaysDisconnected", strings.TrimPrefix(names[0], s.prefix+"-"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("No %s task has reported a connected gateway for %d minutes, after gateways had been connected: "+
			"check the %s service's events and logs, the load balancer's gateway listeners (UDP 1700, 8881, 8882, 8887) and their target groups, "+
			"and whether the gateways reach the deployment's addresses (PublicAddress outputs). Connected gateways per protocol are in the service's metrics log group.",
			ports.GatewayServer.Title(), gw, ports.GatewayServer)),
		Metric:             trafficMetric(s.prefix, ttsmetrics.GatewaysConnected, "Maximum", minute),
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(float64(gw)),
		DatapointsToAlarm:  jsii.Number(float64(gw)),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	gateways.AddOkAction(s.action)
	up := int(UplinksStoppedFor / UplinksPeriod)
	uplinks := s.add("UplinksStopped", strings.TrimPrefix(names[1], s.prefix+"-"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("The %s tasks have received no uplink for %d minutes, after uplinks had been received: "+
			"if gateways are still connected (alarm %s is OK), check the gateways' radio side and frequency plans, else follow that alarm.",
			ports.GatewayServer.Title(), int(UplinksStoppedFor/minute), names[0])),
		Metric:             trafficMetric(s.prefix, ttsmetrics.GSUplinks, "Sum", UplinksPeriod),
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(float64(up)),
		DatapointsToAlarm:  jsii.Number(float64(up)),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	uplinks.AddOkAction(s.action)
}

// trafficRows are the rows of The Things Stack's own traffic (uplinks,
// downlinks, joins, gateways connected): the widgets of ttsmetrics.Widgets,
// which reads only the series its collectors keep, as graph widgets.
func trafficRows(in dashboardInputs) [][]awscloudwatch.IWidget {
	var widgets []awscloudwatch.IWidget
	for _, w := range ttsmetrics.Widgets(in.params.StackPrefix, in.params.Region, 0) {
		widgets = append(widgets, trafficGraph(w))
	}
	return rowsOf("Traffic (The Things Stack's own metrics, namespace "+ttsmetrics.Namespace(in.params.StackPrefix)+")", widgets)
}

// trafficGraph is a graph widget of one ttsmetrics widget: each metric row
// a metric, each expression row a math expression over the rows it names
// by id; a row marked invisible is only read by expressions.
func trafficGraph(w ttsmetrics.Widget) awscloudwatch.IWidget {
	period := awscdk.Duration_Seconds(jsii.Number(float64(w.Properties.Period)))
	byID := map[string]awscloudwatch.IMetric{}
	type expression struct{ expr, label string }
	var order []any // awscloudwatch.IMetric or expression, as the rows come
	for _, r := range w.Properties.Metrics {
		opts, _ := r[len(r)-1].(map[string]any)
		str := func(k string) string { v, _ := opts[k].(string); return v }
		if e := str("expression"); e != "" {
			order = append(order, expression{e, str("label")})
			continue
		}
		dims := map[string]*string{}
		for i := 2; i+1 < len(r); i += 2 {
			k, _ := r[i].(string)
			v, _ := r[i+1].(string)
			dims[k] = jsii.String(v)
		}
		stat := w.Properties.Stat
		if s := str("stat"); s != "" {
			stat = s
		}
		props := &awscloudwatch.MetricProps{
			Namespace: jsii.String(r[0].(string)), MetricName: jsii.String(r[1].(string)),
			DimensionsMap: &dims, Statistic: jsii.String(stat), Period: period,
		}
		if l := str("label"); l != "" {
			props.Label = jsii.String(l)
		}
		m := awscloudwatch.NewMetric(props)
		if id := str("id"); id != "" {
			byID[id] = m
		}
		if v, ok := opts["visible"].(bool); !ok || v {
			order = append(order, m)
		}
	}
	var left []awscloudwatch.IMetric
	for _, o := range order {
		switch x := o.(type) {
		case awscloudwatch.IMetric:
			left = append(left, x)
		case expression:
			using := map[string]awscloudwatch.IMetric{}
			for id, m := range byID {
				if regexp.MustCompile(`\b` + regexp.QuoteMeta(id) + `\b`).MatchString(x.expr) {
					using[id] = m
				}
			}
			left = append(left, awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
				Expression: jsii.String(x.expr), Label: jsii.String(x.label), UsingMetrics: &using, Period: period,
			}))
		}
	}
	return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String(w.Properties.Title), Left: &left, Width: jsii.Number(float64(w.Width)), Height: jsii.Number(float64(w.Height)),
		Stacked: jsii.Bool(w.Properties.Stacked),
	})
}
