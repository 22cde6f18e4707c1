package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// newAlarmTopic creates the deployment's alarm topic (in every mode),
// encrypted with the Data stack's alarm key, named by its alias so that the
// Data stack publishes no output for it; AlarmEmail subscribes an address.
func newAlarmTopic(stack awscdk.Stack, p *params.Params) awssns.Topic {
	topic := awssns.NewTopic(stack, jsii.String("Alarms"), &awssns.TopicProps{
		DisplayName: jsii.String("The Things Stack " + p.StackPrefix + " alarms"),
		MasterKey:   awskms.Alias_FromAliasName(stack, jsii.String("AlarmKey"), jsii.String(AlarmKeyAlias(p.StackPrefix))),
		EnforceSSL:  jsii.Bool(true),
	})
	if p.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(p.AlarmEmail), nil))
	}
	return topic
}

// targetGroupAlarms alarms when a registered target of a target group fails
// the load balancer's health check for five minutes, for every target group
// of the plan (also those without targets in this mode: an empty group never
// alarms). The dimensions are the full-name attributes of the load balancer
// and of each target group (names, by key, as this stack reads them), each
// published by the stack that creates it: the CDK's target group metrics
// would split the load balancer's ARN imported from the Network stack
// (Fn::Split over Fn::GetStackOutput, which CloudFormation does not document).
func targetGroupAlarms(stack awscdk.Stack, topic awssns.ITopic, nlbFullName *string, targets []*listeners.Target, names map[string]*string) {
	action := awscloudwatchactions.NewSnsAction(topic)
	for _, t := range targets {
		what := fmt.Sprintf("%s %s %d", t.Server, t.Protocol, t.Port)
		a := awscloudwatch.NewAlarm(stack, jsii.String("Unhealthy-"+t.Key), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(fmt.Sprintf("A task registered in the load balancer's target group of %s has failed its health check for 5 minutes: "+
				"see the service's events and log group (a task that cannot start, or the proxy without a certificate)", what)),
			Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace: jsii.String("AWS/NetworkELB"), MetricName: jsii.String("UnHealthyHostCount"),
				DimensionsMap: &map[string]*string{"TargetGroup": names[t.Key], "LoadBalancer": nlbFullName},
				Statistic:     jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(1)),
			}),
			Threshold:          jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(5),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(action)
	}
}
