package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// dashboardService is one ECS service on the dashboard.
type dashboardService struct {
	name    string
	service *string
}

// dashboardInputs are what the dashboard shows, taken from the tables that
// define the deployment: the services (serviceSpecs, the Identity Server,
// the proxy), the listeners of the plan and their target groups, the data
// tier, the certificates and every alarm.
type dashboardInputs struct {
	params   *params.Params
	cluster  *string
	services []dashboardService
	plan     listeners.Plan
	// nlb is the load balancer's full name; targetNames the full names of
	// the target groups by key.
	nlb         *string
	targetNames map[string]*string
	dbCluster   *string
	dbInstances []*string
	cacheNodes  []*string
	certArn     *string
	lambdas     []lambdaFunction
	alarms      []awscloudwatch.Alarm
}

// Widget sizes: the dashboard is 24 units wide.
const (
	widgetWidth  = 6
	widgetHeight = 6
)

// newDashboard creates the deployment's dashboard, named <StackPrefix>.
func newDashboard(stack awscdk.Stack, in dashboardInputs) awscloudwatch.Dashboard {
	d := awscloudwatch.NewDashboard(stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String(in.params.StackPrefix),
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
	})
	for _, row := range dashboardRows(in) {
		d.AddWidgets(row...)
	}
	return d
}

// dashboardRows are the dashboard's rows, top to bottom.
func dashboardRows(in dashboardInputs) [][]awscloudwatch.IWidget {
	var rows [][]awscloudwatch.IWidget
	rows = append(rows, []awscloudwatch.IWidget{alarmWidget(in)})
	rows = append(rows, trafficRows(in)...)
	rows = append(rows, serviceRows(in)...)
	rows = append(rows, targetGroupRows(in)...)
	rows = append(rows, dataTierRows(in)...)
	rows = append(rows, edgeRows(in)...)
	return rows
}

func header(text string) awscloudwatch.IWidget {
	return awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{Markdown: jsii.String("## " + text), Width: jsii.Number(24), Height: jsii.Number(1)})
}

func graph(title string, left []awscloudwatch.IMetric, leftAnnotations ...awscloudwatch.HorizontalAnnotation) awscloudwatch.GraphWidget {
	props := &awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &left, Width: jsii.Number(widgetWidth), Height: jsii.Number(widgetHeight)}
	if len(leftAnnotations) > 0 {
		anns := make([]*awscloudwatch.HorizontalAnnotation, len(leftAnnotations))
		for i := range leftAnnotations {
			anns[i] = &leftAnnotations[i]
		}
		props.LeftAnnotations = &anns
	}
	return awscloudwatch.NewGraphWidget(props)
}

func labeled(m awscloudwatch.Metric, label string) awscloudwatch.IMetric {
	return m.With(&awscloudwatch.MetricOptions{Label: jsii.String(label)})
}

// rowsOf breaks widgets into rows of 24 units.
func rowsOf(title string, widgets []awscloudwatch.IWidget) [][]awscloudwatch.IWidget {
	rows := [][]awscloudwatch.IWidget{{header(title)}}
	perRow := 24 / widgetWidth
	for i := 0; i < len(widgets); i += perRow {
		rows = append(rows, widgets[i:min(i+perRow, len(widgets))])
	}
	return rows
}

func alarmWidget(in dashboardInputs) awscloudwatch.IWidget {
	alarms := make([]interfacesawscloudwatch.IAlarmRef, len(in.alarms))
	for i, a := range in.alarms {
		alarms[i] = a
	}
	return awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title: jsii.String("Alarms of " + in.params.StackPrefix), Alarms: &alarms, Width: jsii.Number(24),
		Height: jsii.Number(float64(2 + (len(alarms)+3)/4)),
	})
}

// serviceRows: per service, its running and desired tasks, and its CPU and
// memory use.
func serviceRows(in dashboardInputs) [][]awscloudwatch.IWidget {
	var widgets []awscloudwatch.IWidget
	for _, s := range in.services {
		desired, running := tasksMetrics(in.cluster, s.service)
		widgets = append(widgets, graph(s.name+" tasks", []awscloudwatch.IMetric{labeled(desired, "desired"), labeled(running, "running")}))
		dims := map[string]*string{"ClusterName": in.cluster, "ServiceName": s.service}
		widgets = append(widgets, graph(s.name+" CPU and memory (%)", []awscloudwatch.IMetric{
			labeled(metric("AWS/ECS", "CPUUtilization", "Average", 1, dims), "CPU"),
			labeled(metric("AWS/ECS", "MemoryUtilization", "Average", 1, dims), "memory"),
		}))
	}
	return rowsOf("Services", widgets)
}

// targetGroupRows: per public listener, the healthy and unhealthy targets
// of the target group it forwards to.
func targetGroupRows(in dashboardInputs) [][]awscloudwatch.IWidget {
	var widgets []awscloudwatch.IWidget
	for _, l := range in.plan.Listeners {
		t, _ := in.plan.Target(l.Target)
		dims := map[string]*string{"TargetGroup": in.targetNames[l.Target], "LoadBalancer": in.nlb}
		widgets = append(widgets, graph(fmt.Sprintf("%s %d → %s %s %d", l.Protocol, l.Port, t.Server, t.Protocol, t.Port), []awscloudwatch.IMetric{
			labeled(metric("AWS/NetworkELB", "HealthyHostCount", "Minimum", 1, dims), "healthy"),
			labeled(metric("AWS/NetworkELB", "UnHealthyHostCount", "Maximum", 1, dims), "unhealthy"),
		}))
	}
	return rowsOf("Load balancer listeners", widgets)
}

// dataTierRows: the database's capacity, CPU and connections; Redis'
// memory, evictions and engine CPU per node.
func dataTierRows(in dashboardInputs) [][]awscloudwatch.IWidget {
	var capacity, cpu, memory, evictions, engine []awscloudwatch.IMetric
	for i, id := range in.dbInstances {
		name := "writer"
		if i > 0 {
			name = fmt.Sprintf("reader%d", i)
		}
		dims := map[string]*string{"DBInstanceIdentifier": id}
		capacity = append(capacity, labeled(metric("AWS/RDS", "ServerlessDatabaseCapacity", "Maximum", 5, dims), name))
		cpu = append(cpu, labeled(metric("AWS/RDS", "CPUUtilization", "Average", 5, dims), name))
	}
	for i, node := range in.cacheNodes {
		name := fmt.Sprintf("node%d", i+1)
		dims := map[string]*string{"CacheClusterId": node}
		memory = append(memory, labeled(metric("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "Maximum", 5, dims), name))
		evictions = append(evictions, labeled(metric("AWS/ElastiCache", "Evictions", "Sum", 5, dims), name))
		engine = append(engine, labeled(metric("AWS/ElastiCache", "EngineCPUUtilization", "Average", 5, dims), name))
	}
	clusterDims := map[string]*string{"DBClusterIdentifier": in.dbCluster}
	widgets := []awscloudwatch.IWidget{
		graph("Database capacity (ACU)", capacity, awscloudwatch.HorizontalAnnotation{Value: jsii.Number(in.params.DatabaseMaxCapacity), Label: jsii.String("DatabaseMaxCapacity")}),
		graph("Database CPU (%)", cpu),
		graph("Database connections", []awscloudwatch.IMetric{labeled(metric("AWS/RDS", "DatabaseConnections", "Maximum", 5, clusterDims), "connections")}),
		graph("Database capacity used (% of maximum)", []awscloudwatch.IMetric{labeled(metric("AWS/RDS", "ACUUtilization", "Maximum", 5, clusterDims), "ACU utilization")},
			awscloudwatch.HorizontalAnnotation{Value: jsii.Number(DatabaseCapacityPercent), Label: jsii.String("alarm")}),
		graph("Redis memory (%)", memory, awscloudwatch.HorizontalAnnotation{Value: jsii.Number(CacheMemoryPercent), Label: jsii.String("alarm")}),
		graph("Redis evictions", evictions),
		graph("Redis engine CPU (%)", engine),
	}
	return rowsOf("Data tier", widgets)
}

// edgeRows: the certificates' days left, the proxy's requests and errors
// and the deployment's Lambda functions' errors.
func edgeRows(in dashboardInputs) [][]awscloudwatch.IWidget {
	days := []awscloudwatch.IMetric{labeled(awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String("AWS/CertificateManager"), MetricName: jsii.String("DaysToExpiry"),
		DimensionsMap: &map[string]*string{"CertificateArn": in.certArn},
		Statistic:     jsii.String("Minimum"), Period: awscdk.Duration_Days(jsii.Number(1)),
	}), "load balancer (ACM)")}
	if in.params.ProxyTerminatesTLS() {
		days = append(days, labeled(awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(CertMetricNamespace), MetricName: jsii.String("DaysToExpiry"),
			DimensionsMap: &map[string]*string{"Domain": jsii.String(in.params.DomainName)},
			Statistic:     jsii.String("Minimum"), Period: awscdk.Duration_Days(jsii.Number(1)),
		}), "proxy (Let's Encrypt)"))
	}
	requests, errors := proxyErrorMetrics(in.params.StackPrefix, 5)
	var lambdaErrors []awscloudwatch.IMetric
	for _, fn := range in.lambdas {
		lambdaErrors = append(lambdaErrors, labeled(metric("AWS/Lambda", "Errors", "Sum", 5, map[string]*string{"FunctionName": fn.ref}), fn.name))
	}
	widgets := []awscloudwatch.IWidget{
		awscloudwatch.NewSingleValueWidget(&awscloudwatch.SingleValueWidgetProps{
			Title: jsii.String("Certificate days left"), Metrics: &days, Width: jsii.Number(widgetWidth), Height: jsii.Number(widgetHeight),
		}),
		graph("Proxy requests and 5xx answers", []awscloudwatch.IMetric{labeled(requests, "requests"), labeled(errors, "5xx")}),
		graph("Lambda function errors", lambdaErrors),
	}
	return rowsOf("Certificates, proxy, deploy-time functions", widgets)
}
