package stacks

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
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

// trafficAlarms creates the traffic alarms into topic.
func trafficAlarms(stack awscdk.Stack, topic awssns.ITopic, prefix string) {
	action := awscloudwatchactions.NewSnsAction(topic)
	names := TrafficAlarmNames(prefix)
	minute := time.Minute
	gw := int(GatewaysDisconnectedFor / minute)
	gateways := awscloudwatch.NewAlarm(stack, jsii.String("GatewaysDisconnected"), &awscloudwatch.AlarmProps{
		AlarmName: jsii.String(names[0]),
		AlarmDescription: jsii.String(fmt.Sprintf("No %s task has reported a connected gateway for %d minutes, after gateways had been connected: "+
			"check the %s service's events and logs, the load balancer's gateway listeners (UDP 1700, 8881, 8882, 8887) and their target groups, "+
			"and whether the gateways reach the deployment's addresses (PublicAddress outputs). Connected gateways per protocol are in the service's metrics log group.",
			ports.GatewayServer.Title(), gw, ports.GatewayServer)),
		Metric:             trafficMetric(prefix, ttsmetrics.GatewaysConnected, "Maximum", minute),
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(float64(gw)),
		DatapointsToAlarm:  jsii.Number(float64(gw)),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	gateways.AddAlarmAction(action)
	gateways.AddOkAction(action)
	up := int(UplinksStoppedFor / UplinksPeriod)
	uplinks := awscloudwatch.NewAlarm(stack, jsii.String("UplinksStopped"), &awscloudwatch.AlarmProps{
		AlarmName: jsii.String(names[1]),
		AlarmDescription: jsii.String(fmt.Sprintf("The %s tasks have received no uplink for %d minutes, after uplinks had been received: "+
			"if gateways are still connected (alarm %s is OK), check the gateways' radio side and frequency plans, else follow that alarm.",
			ports.GatewayServer.Title(), int(UplinksStoppedFor/minute), names[0])),
		Metric:             trafficMetric(prefix, ttsmetrics.GSUplinks, "Sum", UplinksPeriod),
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(float64(up)),
		DatapointsToAlarm:  jsii.Number(float64(up)),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	uplinks.AddAlarmAction(action)
	uplinks.AddOkAction(action)
}
