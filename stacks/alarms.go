package stacks

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/proxy"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// Thresholds of the deployment's alarms (see README, "Alarms and dashboard").
const (
	// TasksBelowDesiredMinutes: a service that runs fewer tasks than its
	// desired count for this long alarms (a task that crashes is replaced
	// within two or three minutes; a rolling deployment never goes below).
	TasksBelowDesiredMinutes = 10
	// DatabaseCPUPercent: an Aurora instance above this CPU use for 15
	// minutes alarms.
	DatabaseCPUPercent = 90
	// DatabaseCapacityPercent: the cluster's ACU utilization (capacity in
	// use of DatabaseMaxCapacity) above this for 15 minutes alarms.
	DatabaseCapacityPercent = 90
	// CacheMemoryPercent: a Redis node whose memory use (of maxmemory)
	// stays above this for 15 minutes alarms; at 100% Redis evicts.
	CacheMemoryPercent = 80
	// AcmExpiryDays: ACM renews a DNS-validated certificate 60 days before
	// it expires; fewer days left than this means the renewal fails.
	AcmExpiryDays = 30
	// ProxyErrorPercent of the proxy's requests answered with a 5xx status,
	// over three 5-minute periods with at least ProxyErrorMinRequests each.
	ProxyErrorPercent     = 5
	ProxyErrorMinRequests = 20
)

// ProxyMetricNamespace is the namespace of the metrics that the proxy log
// group's metric filters (proxy.AccessLogFilter, proxy.ServerErrorFilter)
// derive from nginx's access log (ProxyRequestsMetric, ProxyErrorsMetric):
// one per deployment, as metric filters have no constant dimensions.
func ProxyMetricNamespace(prefix string) string { return "TTS/" + prefix + "/Proxy" }

// Metric names of the proxy's metric filters.
const (
	ProxyRequestsMetric = "Requests"
	ProxyErrorsMetric   = "ServerErrors"
)

// ProxyRequestsPattern and ProxyErrorsPattern are the metric filters of the
// proxy's log group: every access log line (nginx's tts_json format has a
// status field, the error log and Service Connect's lines have none) and
// those with a 5xx status.
func ProxyRequestsPattern() awslogs.IFilterPattern {
	return awslogs.FilterPattern_Exists(jsii.String("$.status"))
}

// ProxyErrorsPattern: see ProxyRequestsPattern.
func ProxyErrorsPattern() awslogs.IFilterPattern {
	return awslogs.FilterPattern_StringValue(jsii.String("$.status"), jsii.String("="), jsii.String("5*"))
}

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

// alarmSet creates the deployment's alarms in one stack, each named
// <StackPrefix>-<what> and notifying the one alarm topic, and keeps them for
// the dashboard's alarm widget.
type alarmSet struct {
	stack  awscdk.Stack
	prefix string
	action awscloudwatch.IAlarmAction
	alarms []awscloudwatch.Alarm
}

func newAlarmSet(stack awscdk.Stack, prefix string, topic awssns.ITopic) *alarmSet {
	return &alarmSet{stack: stack, prefix: prefix, action: awscloudwatchactions.NewSnsAction(topic)}
}

var alarmNameUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// add creates the alarm id named <prefix>-<what>.
func (s *alarmSet) add(id, what string, props *awscloudwatch.AlarmProps) awscloudwatch.Alarm {
	props.AlarmName = jsii.String(s.prefix + "-" + alarmNameUnsafe.ReplaceAllString(what, "-"))
	a := awscloudwatch.NewAlarm(s.stack, jsii.String(id), props)
	a.AddAlarmAction(s.action)
	s.alarms = append(s.alarms, a)
	return a
}

// metric is a CloudWatch metric of an AWS service.
func metric(namespace, name, statistic string, minutes float64, dims map[string]*string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(namespace), MetricName: jsii.String(name), DimensionsMap: &dims,
		Statistic: jsii.String(statistic), Period: awscdk.Duration_Minutes(jsii.Number(minutes)),
	})
}

// tasksMetrics are Container Insights' desired and running task counts of
// a service (ECS/ContainerInsights, ClusterName and ServiceName).
func tasksMetrics(cluster, service *string) (desired, running awscloudwatch.Metric) {
	dims := map[string]*string{"ClusterName": cluster, "ServiceName": service}
	return metric("ECS/ContainerInsights", "DesiredTaskCount", "Average", 1, dims),
		metric("ECS/ContainerInsights", "RunningTaskCount", "Average", 1, dims)
}

// serviceTasks alarms when a service runs fewer tasks than it wants for
// TasksBelowDesiredMinutes: desired minus running (a missing running count
// is none), at least one task short in every minute.
func (s *alarmSet) serviceTasks(name string, cluster, service *string) {
	desired, running := tasksMetrics(cluster, service)
	short := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String("desired - FILL(running, 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{"desired": desired, "running": running},
		Label:        jsii.String("tasks short of desired"),
		Period:       awscdk.Duration_Minutes(jsii.Number(1)),
	})
	s.add("Tasks-"+name, "tasks-"+name, &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("The %s service has run fewer tasks than its desired count for %d minutes: open the service's events in the ECS console "+
			"(a task that fails its health check, cannot pull its image or read a secret, or no Fargate capacity) and its log group for why tasks stop.", name, TasksBelowDesiredMinutes)),
		Metric:             short,
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		EvaluationPeriods:  jsii.Number(TasksBelowDesiredMinutes),
		DatapointsToAlarm:  jsii.Number(TasksBelowDesiredMinutes),
		// No Container Insights data: the service does not exist (yet).
		TreatMissingData: awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

// targetGroupAlarms alarms, for every target group of the plan, when a
// registered target fails the load balancer's health check for five minutes
// (also those without targets in this mode: an empty group never alarms),
// and, for the target groups that the servers register in with these
// parameters, when none of its targets is healthy for five minutes. A
// target group that is empty by design (the kept group of the other interop
// state) has no healthy-host alarm; one without a listener has no metrics,
// which is not breaching. The dimensions are the full-name attributes of the
// load balancer and of each target group (names, by key, as this stack reads
// them), each published by the stack that creates it: the CDK's target group
// metrics would split the load balancer's ARN imported from the Network stack
// (Fn::Split over Fn::GetStackOutput, which CloudFormation does not document).
func (s *alarmSet) targetGroups(nlbFullName *string, targets []*listeners.Target, names map[string]*string) {
	for _, t := range targets {
		what := fmt.Sprintf("%s %s %d", t.Server, t.Protocol, t.Port)
		dims := map[string]*string{"TargetGroup": names[t.Key], "LoadBalancer": nlbFullName}
		s.add("Unhealthy-"+t.Key, "unhealthy-"+t.Key, &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(fmt.Sprintf("A task registered in the load balancer's target group of %s has failed its health check for 5 minutes: "+
				"see the service's events and log group (a task that cannot start, or the proxy without a certificate)", what)),
			Metric:             metric("AWS/NetworkELB", "UnHealthyHostCount", "Maximum", 1, dims),
			Threshold:          jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(5),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		if !t.Registered {
			continue
		}
		s.add("NoHealthy-"+t.Key, "no-healthy-"+t.Key, &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(fmt.Sprintf("The load balancer's target group of %s has had no healthy target for 5 minutes: its port is down for every client. "+
				"Check that the %s service runs tasks (its tasks alarm, its events) and that they pass the health check; a service that runs but is not registered needs a new deployment of the service.", what, t.Server)),
			Metric:             metric("AWS/NetworkELB", "HealthyHostCount", "Minimum", 1, dims),
			Threshold:          jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(5),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
}

// dataTier alarms on the database and the cache. instances are the Aurora
// instance identifiers (writer first); nodes the cache's node ids
// (CacheClusterId).
func (s *alarmSet) dataTier(p *params.Params, cluster *string, instances []*string, nodes []*string) {
	s.add("DatabaseCapacity", "db-capacity", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("The database has used more than %d%% of its maximum capacity (DatabaseMaxCapacity %g ACUs) for 15 minutes: "+
			"queries will slow down. Raise DatabaseMaxCapacity (or add DatabaseReaders) and deploy; look at the Identity Server's load.", DatabaseCapacityPercent, p.DatabaseMaxCapacity)),
		Metric:             metric("AWS/RDS", "ACUUtilization", "Maximum", 5, map[string]*string{"DBClusterIdentifier": cluster}),
		Threshold:          jsii.Number(DatabaseCapacityPercent),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(3),
		TreatMissingData:   awscloudwatch.TreatMissingData_MISSING,
	})
	for i, id := range instances {
		name := "writer"
		if i > 0 {
			name = fmt.Sprintf("reader%d", i)
		}
		dims := map[string]*string{"DBInstanceIdentifier": id}
		s.add("DatabaseAtMaximum-"+name, "db-at-max-"+name, &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(fmt.Sprintf("The database's %s has run at its maximum capacity (DatabaseMaxCapacity %g ACUs) for 15 minutes: it cannot scale further. "+
				"Raise DatabaseMaxCapacity and deploy; see Performance Insights for the queries.", name, p.DatabaseMaxCapacity)),
			Metric:             metric("AWS/RDS", "ServerlessDatabaseCapacity", "Minimum", 5, dims),
			Threshold:          jsii.Number(p.DatabaseMaxCapacity),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(3),
			TreatMissingData:   awscloudwatch.TreatMissingData_MISSING,
		})
		s.add("DatabaseCpu-"+name, "db-cpu-"+name, &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(fmt.Sprintf("The database's %s has used more than %d%% CPU for 15 minutes: requests to the Identity Server slow down. "+
				"Raise DatabaseMaxCapacity if its capacity is at the maximum too; otherwise see Performance Insights for the queries.", name, DatabaseCPUPercent)),
			Metric:             metric("AWS/RDS", "CPUUtilization", "Average", 5, dims),
			Threshold:          jsii.Number(DatabaseCPUPercent),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(3),
			TreatMissingData:   awscloudwatch.TreatMissingData_MISSING,
		})
	}
	for i, node := range nodes {
		name := fmt.Sprintf("node%d", i+1)
		dims := map[string]*string{"CacheClusterId": node}
		s.add("CacheMemory-"+name, "redis-memory-"+name, &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(fmt.Sprintf("Redis %s has used more than %d%% of its memory for 15 minutes; at 100%% Redis evicts keys, which The Things Stack keeps its sessions in. "+
				"Choose a larger CacheNodeType and deploy.", name, CacheMemoryPercent)),
			Metric:             metric("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "Maximum", 5, dims),
			Threshold:          jsii.Number(CacheMemoryPercent),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(3),
			TreatMissingData:   awscloudwatch.TreatMissingData_MISSING,
		})
		s.add("CacheEvictions-"+name, "redis-evictions-"+name, &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(fmt.Sprintf("Redis %s evicted keys: The Things Stack's device sessions and queues may be lost (devices must rejoin). "+
				"Choose a larger CacheNodeType and deploy now.", name)),
			Metric:             metric("AWS/ElastiCache", "Evictions", "Sum", 5, dims),
			Threshold:          jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
}

// acmExpiry alarms when the load balancer's ACM certificate has fewer than
// AcmExpiryDays left. The load balancer's TLS listeners use it in both TLS
// modes (in proxy TLS mode all but 443 and 8886).
func (s *alarmSet) acmExpiry(p *params.Params, certificateArn *string) {
	how := "ACM renews the certificate it issued by DNS validation: check that the validation CNAME records are still in the hosted zone " + p.HostedZoneName
	if !p.CreatesCertificate() {
		how = "the certificate is CertificateArn, which you renew or import again yourself"
	}
	s.add("AcmCertificateExpiry", "acm-certificate-expiry", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("The load balancer's certificate for %s expires in fewer than %d days: %s.", p.DomainName, AcmExpiryDays, how)),
		Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/CertificateManager"), MetricName: jsii.String("DaysToExpiry"),
			DimensionsMap: &map[string]*string{"CertificateArn": certificateArn},
			Statistic:     jsii.String("Minimum"), Period: awscdk.Duration_Days(jsii.Number(1)),
		}),
		Threshold:          jsii.Number(AcmExpiryDays),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		// ACM publishes once a day; a new deployment has no point yet.
		TreatMissingData: awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

// proxyErrorMetrics are the requests and 5xx answers of the proxy, from its
// access log's metric filters.
func proxyErrorMetrics(prefix string, minutes float64) (requests, errors awscloudwatch.Metric) {
	ns := ProxyMetricNamespace(prefix)
	return metric(ns, ProxyRequestsMetric, "Sum", minutes, nil), metric(ns, ProxyErrorsMetric, "Sum", minutes, nil)
}

// proxyErrors counts the proxy's requests and 5xx answers from its access
// log and alarms on their rate (in both TLS modes: the proxy serves HTTP
// behind the load balancer's TLS listener too).
func (s *alarmSet) proxyErrors(logGroup awslogs.ILogGroup) {
	ns := jsii.String(ProxyMetricNamespace(s.prefix))
	awslogs.NewMetricFilter(s.stack, jsii.String("ProxyRequestsFilter"), &awslogs.MetricFilterProps{
		LogGroup: logGroup, FilterPattern: awslogs.FilterPattern_Literal(jsii.String(proxy.AccessLogFilter)),
		MetricNamespace: ns, MetricName: jsii.String(ProxyRequestsMetric), MetricValue: jsii.String("1"),
	})
	awslogs.NewMetricFilter(s.stack, jsii.String("ProxyErrorsFilter"), &awslogs.MetricFilterProps{
		LogGroup: logGroup, FilterPattern: awslogs.FilterPattern_Literal(jsii.String(proxy.ServerErrorFilter)),
		MetricNamespace: ns, MetricName: jsii.String(ProxyErrorsMetric), MetricValue: jsii.String("1"),
	})
	requests, errors := proxyErrorMetrics(s.prefix, 5)
	rate := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(fmt.Sprintf("IF(requests >= %d, 100 * FILL(errors, 0) / requests, 0)", ProxyErrorMinRequests)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{"requests": requests, "errors": errors},
		Label:        jsii.String("5xx answers of the proxy (%)"),
		Period:       awscdk.Duration_Minutes(jsii.Number(5)),
	})
	s.add("ProxyErrorRate", "proxy-5xx-rate", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("More than %d%% of the proxy's requests were answered with a 5xx status for 15 minutes: "+
			"in the proxy's log group, find the access log lines with status 5xx and their upstream (502/504: that component's service is down or slow; see its tasks alarm and log group).", ProxyErrorPercent)),
		Metric:             rate,
		Threshold:          jsii.Number(ProxyErrorPercent),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(3),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

// lambdaFunction is a Lambda function of the deployment.
type lambdaFunction struct {
	// name is the construct path below the stack, for the alarm's name.
	name string
	ref  *string
}

// lambdaFunctions finds every AWS::Lambda::Function of the stacks (those
// of the CDK's own providers too), in construct order, as consumer reads
// their names: a function whose stack publishes FunctionNameOutput of it
// through that output, the others by reference.
func lambdaFunctions(consumer awscdk.Stack, stacks ...awscdk.Stack) ([]lambdaFunction, error) {
	var out []lambdaFunction
	for _, st := range stacks {
		for _, c := range *st.Node().FindAll(constructs.ConstructOrder_PREORDER) {
			r, ok := c.(awscdk.CfnResource)
			if !ok || *r.CfnResourceType() != "AWS::Lambda::Function" {
				continue
			}
			path := strings.TrimPrefix(*r.Node().Path(), *st.Node().Path()+"/")
			path = strings.TrimSuffix(strings.TrimSuffix(path, "/Resource"), "/Handler")
			path = strings.TrimSuffix(path, "/Function")
			ref := r.Ref()
			if st.Node().TryFindChild(jsii.String(FunctionNameOutput(path))) != nil {
				var err error
				if ref, err = readPublished(consumer, st, FunctionNameOutput(path)); err != nil {
					return nil, err
				}
			}
			out = append(out, lambdaFunction{name: *st.Node().Id() + "-" + path, ref: ref})
		}
	}
	return out, nil
}

// lambdaErrors alarms when a function of the deployment fails.
func (s *alarmSet) lambdaErrors(fns []lambdaFunction) {
	for _, fn := range fns {
		short := alarmNameUnsafe.ReplaceAllString(strings.TrimPrefix(fn.name, s.prefix+"-"), "-")
		s.add("LambdaErrors-"+short, "lambda-errors-"+short, &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(fmt.Sprintf("The Lambda function %s (deploy-time work of the stacks) failed: a deploy that ran it failed or rolled back. "+
				"Read its log group /aws/lambda/<function name> for the error, fix the cause and deploy again.", short)),
			Metric:             metric("AWS/Lambda", "Errors", "Sum", 5, map[string]*string{"FunctionName": fn.ref}),
			Threshold:          jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
}
