// Package ttsservice is one ECS Fargate service of The Things Stack: a
// container running `ttn-lw-stack start <components>`, configured from
// Parameter Store and Secrets Manager, registered with the load balancer's
// target groups of what it serves, and reachable by the other components
// through Service Connect as <name>.<namespace>:<port>.
package ttsservice

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/fargateservice"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/removal"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/fargate"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/imageref"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ttsconfig"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ttsmetrics"
)

// Binary is the program of The Things Stack in its images. The images of
// thethingsnetwork/lorawan-stack set no ENTRYPOINT of their own (their
// Docker Compose example sets `ttn-lw-stack -c /config/ttn-lw-stack-docker.yml`,
// a file that does not exist here), so the task names the binary itself and
// passes no configuration file: everything comes from the environment.
const Binary = "ttn-lw-stack"

// DigestVariable is the environment variable that carries the configuration
// digest. It is not a TTN_LW_* variable, so The Things Stack ignores it; its
// change makes a new task definition revision and restarts the tasks.
const DigestVariable = "CONFIG_DIGEST"

// MainContainer is the container name of the service's task.
const MainContainer = "tts"

// Props configure a Service.
type Props struct {
	// Cluster runs the service; Namespace is the ARN of its Service Connect
	// namespace.
	Cluster   awsecs.ICluster
	Namespace *string
	// Subnets of the tasks (private subnets with a route to the internet,
	// for the image pull and the AWS APIs).
	Subnets *awsec2.SubnetSelection
	// SecurityGroup of the tasks (the load balancer stack's group of the
	// server, or its internal group).
	SecurityGroup awsec2.ISecurityGroup
	// Name is the service's short name: the Service Connect DNS name is
	// <Name>.<ServiceDomain>. Lowercase letters and digits.
	Name string
	// ServiceDomain is the Service Connect namespace's name, e.g. tts.local.
	ServiceDomain string
	// Components started in the container: `ttn-lw-stack start <Components>`.
	Components []ports.Component
	// Image of The Things Stack, with a pinned tag or digest.
	Image string
	// Environment, Secrets and ConfigDigest are the components'
	// configuration. Secrets hold everything that is a credential; the
	// Environment may hold only values that are not.
	Environment  map[string]*string
	Secrets      map[string]awsecs.Secret
	ConfigDigest string
	// SecretsKey is the KMS key of the Secrets Manager secrets among
	// Secrets (and a Job's); the execution role may decrypt with it only
	// through Secrets Manager. ECS's grants name the secrets, not their key.
	SecretsKey awskms.IKey
	// Ports are the rows of the port table the container serves; they must
	// include the gRPC and HTTP rows, which Service Connect exposes.
	Ports []ports.Port
	// Targets are the load balancer's target groups the tasks register
	// with; each target's port must be one of Ports.
	Targets []*listeners.Target
	// DesiredCount tasks of CPU units and MemoryMiB each.
	DesiredCount int
	CPU          int
	MemoryMiB    int
	// HealthCheckGrace is how long the load balancer's health checks are
	// ignored after a task starts (at least 30 s).
	HealthCheckGrace time.Duration
	// HealthPath is checked on the HTTP port by the container health check,
	// e.g. /healthz.
	HealthPath string
	// LogRetention of the service's log group.
	LogRetention awslogs.RetentionDays
	// Architecture of the tasks (the image must be published for it).
	Architecture fargateservice.Architecture
	// Exec turns on ECS Exec: the service accepts ecs:ExecuteCommand into
	// the main container, which runs under an init process (it reaps the
	// processes of the sessions). The caller grants the task role what the
	// sessions need (the cluster's ExecuteCommandConfiguration).
	Exec bool
	// Metrics, when set, runs the metrics collector beside the component
	// (package ttsmetrics); only for a single component that the table keeps
	// series of.
	Metrics *Metrics
}

// Metrics configure the collector of a service's component metrics.
type Metrics struct {
	// Namespace is the deployment's CloudWatch namespace
	// (ttsmetrics.Namespace); Region its region.
	Namespace, Region string
	// Password is http.metrics.password, the secret the component reads
	// (and must read: Secrets must set it).
	Password awsecs.Secret
}

// Collector resources.
const (
	// CollectorContainer is the collector's container name.
	CollectorContainer = "collector"
	// CollectorCPU units (of the task's) and its memory, reserved and at
	// most: a scrape a minute of a few series needs little; the hard limit
	// keeps a runaway collector from taking the component's memory.
	CollectorCPU               = 64
	CollectorMemoryReservation = 64
	CollectorMemoryLimit       = 256
)

// Service is the ECS service and what callers grant permissions to.
type Service struct {
	constructs.Construct
	Service        awsecs.FargateService
	TaskDefinition awsecs.FargateTaskDefinition
	Container      awsecs.ContainerDefinition
	// TaskRole is what the components may do; it starts with no permission.
	TaskRole awsiam.Role
	// ExecutionRole pulls the image, writes the logs and reads exactly the
	// secrets and parameters of the containers.
	ExecutionRole awsiam.Role
	LogGroup      awslogs.LogGroup
	// Collector is the metrics collector's container and MetricsLogGroup
	// the log group of its embedded metric format events; nil without
	// Props.Metrics.
	Collector       awsecs.ContainerDefinition
	MetricsLogGroup awslogs.LogGroup
	// props are kept for Job, which runs with the same configuration.
	props Props
}

// credential matches environment variable names that hold credentials; such a
// variable must come from Secrets.
var credential = regexp.MustCompile(`PASSWORD|SECRET|_KEYS?(_|$)|DATABASE_URI|TOKEN`)

func (p Props) validate() error {
	var errs diag.List
	if p.Cluster == nil || p.Namespace == nil || p.Subnets == nil || p.SecurityGroup == nil || p.SecretsKey == nil {
		errs.Errorf("ttsservice.missing-scope", "", "Cluster, Namespace, Subnets, SecurityGroup and SecretsKey are required")
	}
	if !regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`).MatchString(p.Name) {
		errs.Errorf("ttsservice.bad-name", "Name", "%q must be 1 to 16 lowercase letters and digits, starting with a letter (it is a DNS label)", p.Name)
	}
	if p.ServiceDomain == "" {
		errs.Errorf("ttsservice.missing-service-domain", "ServiceDomain", "is required (the Service Connect namespace's name)")
	}
	if len(p.Components) == 0 {
		errs.Errorf("ttsservice.no-components", "Components", "none given; name at least one, e.g. is")
	}
	if problem := imageref.Check(p.Image); problem != imageref.None {
		errs.Errorf("ttsservice.unpinned-image", "Image", "%q %s; give an image with a pinned tag or digest", p.Image, problem.Reason())
	}
	if p.ConfigDigest == "" {
		errs.Errorf("ttsservice.missing-digest", "ConfigDigest", "is empty; pass the configuration's digest so that tasks restart when it changes")
	}
	for name := range p.Environment {
		if _, dup := p.Secrets[name]; dup {
			errs.Errorf("ttsservice.environment-and-secret", "Environment", "%s is both in Environment and in Secrets", name)
		}
		if credential.MatchString(name) {
			errs.Errorf("ttsservice.credential-in-environment", "Environment", "%s looks like a credential; pass it in Secrets, never in the plain Environment", name)
		}
		if name == DigestVariable {
			errs.Errorf("ttsservice.digest-in-environment", "Environment", "%s is set by the construct from ConfigDigest", name)
		}
	}
	served := map[int]bool{}
	for _, port := range p.Ports {
		served[port.Plain] = true
	}
	for _, row := range []ports.Port{ports.GRPC(), ports.HTTP()} {
		if !served[row.Plain] {
			errs.Errorf("ttsservice.missing-port", "Ports", "lack the %s row: every component serves it and Service Connect exposes it", row.Name)
		}
	}
	for _, t := range p.Targets {
		if !served[t.Port] {
			errs.Errorf("ttsservice.target-not-served", "Targets", "target group of port %d (%s) is not among the container's Ports", t.Port, t.Server)
		}
	}
	if p.DesiredCount < 1 {
		errs.Errorf("ttsservice.no-tasks", "DesiredCount", "%d: run at least 1 task", p.DesiredCount)
	}
	if err := fargate.CheckSize(p.CPU, p.MemoryMiB); err != nil {
		errs.Errorf("ttsservice.task-size", "CPU", "%v", err)
	}
	if p.HealthCheckGrace < 30*time.Second {
		errs.Errorf("ttsservice.short-grace", "HealthCheckGrace", "%s is too short: The Things Stack needs about 30 s to connect to its database and cache", p.HealthCheckGrace)
	}
	if !strings.HasPrefix(p.HealthPath, "/") {
		errs.Errorf("ttsservice.bad-health-path", "HealthPath", "%q must be an absolute path, e.g. /healthz", p.HealthPath)
	}
	if p.LogRetention == "" {
		errs.Errorf("ttsservice.missing-log-retention", "LogRetention", "is required")
	}
	if p.Metrics != nil {
		switch {
		case len(p.Components) != 1 || len(ttsmetrics.ForComponent(p.Components[0])) == 0:
			errs.Errorf("ttsservice.metrics-nothing-kept", "Metrics", "the metrics table keeps no series of %v: a collector would scrape for nothing", p.Components)
		case p.Metrics.Namespace == "" || p.Metrics.Region == "" || p.Metrics.Password == nil:
			errs.Errorf("ttsservice.metrics-incomplete", "Metrics", "Namespace, Region and Password are required")
		}
		if _, ok := p.Secrets[ttsconfig.EnvName("http.metrics.password")]; !ok {
			errs.Errorf("ttsservice.metrics-without-password", "Secrets", "lack %s: the collector would scrape an open /metrics with a password the component does not check", ttsconfig.EnvName("http.metrics.password"))
		}
	}
	if !p.Architecture.Valid() {
		errs.Errorf("ttsservice.bad-architecture", "Architecture", "%q: give fargateservice.ARM64 or fargateservice.X86_64", p.Architecture)
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("ttsservice %s:\n%w", p.Name, err)
	}
	return nil
}

// New creates the service.
func New(scope constructs.Construct, id string, props Props) (*Service, error) {
	if err := props.validate(); err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	out := &Service{Construct: c, props: props}
	task, image, env := newTask(c, props, fargateservice.TaskProps{
		CPU:                      props.CPU,
		MemoryMiB:                props.MemoryMiB,
		TaskRoleDescription:      fmt.Sprintf("The Things Stack %v tasks", props.Components),
		ExecutionRoleDescription: fmt.Sprintf("ECS agent of the The Things Stack %v tasks: logs and configuration secrets", props.Components),
		LogRetention:             props.LogRetention,
		Architecture:             props.Architecture,
		MaskedLogFields:          maskedLogFields(props.Components),
	})
	out.TaskRole, out.ExecutionRole, out.LogGroup, out.TaskDefinition = task.TaskRole, task.ExecutionRole, task.LogGroup, task.Definition
	logs := task.Logs

	http := ports.HTTP().Plain
	command := append([]string{"start"}, componentNames(props.Components)...)
	var linux awsecs.LinuxParameters
	if props.Exec {
		linux = awsecs.NewLinuxParameters(c, jsii.String("Linux"), &awsecs.LinuxParametersProps{InitProcessEnabled: jsii.Bool(true)})
	}
	out.Container = out.TaskDefinition.AddContainer(jsii.String(MainContainer), &awsecs.ContainerDefinitionOptions{
		ContainerName: jsii.String(MainContainer),
		Image:         image,
		EntryPoint:    jsii.Strings(Binary),
		Command:       jsii.Strings(command...),
		Environment:   &env,
		Secrets:       &props.Secrets,
		Essential:     jsii.Bool(true),
		Logging:       logs(props.Name),
		PortMappings:  portMappings(props.Ports),
		// The image has curl; /healthz answers without credentials.
		HealthCheck: &awsecs.HealthCheck{
			Command:     jsii.Strings("CMD-SHELL", fmt.Sprintf("curl -fsS -o /dev/null http://localhost:%d%s || exit 1", http, props.HealthPath)),
			Interval:    awscdk.Duration_Seconds(jsii.Number(15)),
			Timeout:     awscdk.Duration_Seconds(jsii.Number(5)),
			Retries:     jsii.Number(3),
			StartPeriod: awscdk.Duration_Seconds(jsii.Number(props.HealthCheckGrace.Seconds())),
		},
		LinuxParameters: linux,
	})
	if props.Metrics != nil {
		if err := out.addCollector(c, props, logs); err != nil {
			return nil, err
		}
	}
	svc, err := fargateservice.New(c, "Service", fargateservice.Props{
		Cluster:          props.Cluster,
		TaskDefinition:   out.TaskDefinition,
		DesiredCount:     props.DesiredCount,
		Subnets:          props.Subnets,
		SecurityGroup:    props.SecurityGroup,
		HealthCheckGrace: props.HealthCheckGrace,
		ServiceConnect: &awsecs.ServiceConnectProps{
			Namespace: props.Namespace,
			Services:  serviceConnect(props),
			LogDriver: logs(props.Name + "-service-connect"),
		},
		Targets:       props.Targets,
		ContainerName: MainContainer,
	})
	if err != nil {
		return nil, err
	}
	if props.Exec {
		svc.Node().DefaultChild().(awsecs.CfnService).SetEnableExecuteCommand(jsii.Bool(true))
	}
	out.Service = svc
	return out, nil
}

// newTask creates the task definition of the configuration in props, with
// its roles and log group: the execution role may decrypt the secrets'
// key through Secrets Manager only. It returns the image and the plain
// environment, which carries the configuration's digest.
func newTask(scope constructs.Construct, props Props, task fargateservice.TaskProps) (*fargateservice.Task, awsecs.ContainerImage, map[string]*string) {
	t := fargateservice.NewTask(scope, task)
	t.ExecutionRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DecryptSecrets"),
		Actions:    jsii.Strings("kms:Decrypt"),
		Resources:  &[]*string{props.SecretsKey.KeyArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("secretsmanager.%s.amazonaws.com", *awscdk.Stack_Of(scope).Region())}},
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(t.Definition, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-ECS2"),
		Reason: jsii.String("The plain environment holds only " + DigestVariable + " (a hash that restarts tasks on a configuration change), " +
			"settings whose value is the empty string (TLS listeners turned off), which Parameter Store cannot hold, and the metrics collector's " +
			ttsmetrics.ConfigVariable + " (its configuration, which names the password's variable, never its value); every other setting " +
			"comes from Parameter Store and every credential from Secrets Manager (the construct refuses a credential in the environment)."),
	}}, jsii.Bool(false))
	env := map[string]*string{DigestVariable: jsii.String(props.ConfigDigest)}
	for k, v := range props.Environment {
		env[k] = v
	}
	return t, awsecs.ContainerImage_FromRegistry(jsii.String(props.Image), nil), env
}

func componentNames(cs []ports.Component) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

// portMappings maps every served row's plain port; the rows' names name the
// mappings (Service Connect refers to them by name).
func portMappings(rows []ports.Port) *[]*awsecs.PortMapping {
	sorted := append([]ports.Port(nil), rows...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Plain < sorted[j].Plain })
	var out []*awsecs.PortMapping
	for _, p := range sorted {
		m := &awsecs.PortMapping{
			Name:          jsii.String(p.Name),
			ContainerPort: jsii.Number(float64(p.Plain)),
			Protocol:      awsecs.Protocol_TCP,
		}
		if p.Transport == ports.UDP {
			m.Protocol = awsecs.Protocol_UDP
		}
		out = append(out, m)
	}
	return &out
}

// serviceConnect exposes the gRPC and HTTP ports as <Name>.<ServiceDomain>,
// and the Backend Interfaces port (1886) as well when the container serves
// it, so that the reverse proxy can forward its TLS 8886 to
// <Name>.<ServiceDomain>:1886 in proxy TLS mode. An alias is unique by name
// and port, so all share the DNS name; the discovery names, unique in the
// namespace, are <Name>-grpc, <Name>-http and <Name>-interop. All are proxied
// as TCP (the port mappings name no application protocol):
// the components keep gRPC streams and HTTP event streams open for hours,
// which the proxy's per-request timeout of the http and grpc protocols
// (15 s by default) would cut.
func serviceConnect(props Props) *[]*awsecs.ServiceConnectService {
	var out []*awsecs.ServiceConnectService
	rows := []ports.Port{ports.GRPC(), ports.HTTP()}
	for _, p := range props.Ports {
		if p.Kind == ports.KindInterop {
			rows = append(rows, p)
		}
	}
	for _, p := range rows {
		out = append(out, &awsecs.ServiceConnectService{
			PortMappingName: jsii.String(p.Name),
			DiscoveryName:   jsii.String(props.Name + "-" + p.Name),
			DnsName:         jsii.String(props.Name + "." + props.ServiceDomain),
			Port:            jsii.Number(float64(p.Plain)),
		})
	}
	return &out
}

// maskedLogFields are the log fields in which the components write
// credentials (ttsconfig.SecretLogFields).
func maskedLogFields(cs []ports.Component) []string {
	var out []string
	for _, c := range cs {
		out = append(out, ttsconfig.SecretLogFields(c)...)
	}
	return out
}

// addCollector adds the metrics collector (package ttsmetrics) to the task: a
// non-essential container, so that its failure never stops the component;
// its configuration in the plain environment, the password from the secret
// the component reads; its embedded metric format events into a log group of
// its own, which the task role may write (and nothing else of CloudWatch:
// awsemf writes logs, CloudWatch Logs makes the metrics).
func (s *Service) addCollector(scope constructs.Construct, props Props, logs func(string) awsecs.LogDriver) error {
	s.MetricsLogGroup = awslogs.NewLogGroup(scope, jsii.String("MetricsLogs"), &awslogs.LogGroupProps{
		Retention:     props.LogRetention,
		RemovalPolicy: removal.Keep(),
	})
	// The configuration is a Fn::Sub template: the log group's name is a
	// variable, and the collector's own ${env:...} references are escaped
	// as ${!env:...}, which CloudFormation writes back as ${env:...}.
	const logGroupVar = "MetricsLogGroup"
	marker := "@" + logGroupVar + "@"
	config, err := ttsmetrics.CollectorConfig(ttsmetrics.CollectorInputs{
		Component: props.Components[0], Namespace: props.Metrics.Namespace, LogGroup: marker, Region: props.Metrics.Region,
	})
	if err != nil {
		return err
	}
	tmpl := strings.ReplaceAll(strings.ReplaceAll(config, "${", "${!"), marker, "${"+logGroupVar+"}")
	configValue := awscdk.Fn_Sub(jsii.String(tmpl), &map[string]*string{logGroupVar: s.MetricsLogGroup.LogGroupName()})
	s.Collector = s.TaskDefinition.AddContainer(jsii.String(CollectorContainer), &awsecs.ContainerDefinitionOptions{
		ContainerName:        jsii.String(CollectorContainer),
		Image:                awsecs.ContainerImage_FromRegistry(jsii.String(ttsmetrics.Image), nil),
		Essential:            jsii.Bool(false),
		Cpu:                  jsii.Number(CollectorCPU),
		MemoryReservationMiB: jsii.Number(CollectorMemoryReservation),
		MemoryLimitMiB:       jsii.Number(CollectorMemoryLimit),
		Environment:          &map[string]*string{ttsmetrics.ConfigVariable: configValue},
		Secrets:              &map[string]awsecs.Secret{ttsmetrics.PasswordVariable: props.Metrics.Password},
		Logging:              logs(props.Name + "-collector"),
	})
	s.MetricsLogGroup.GrantWrite(s.TaskRole)
	cdknag.NagSuppressions_AddResourceSuppressions(s.TaskRole, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The metrics collector creates its log stream (one per task, named by the task id) and puts its embedded metric format " +
			"events in the service's own metrics log group: the wildcard is the log-stream part of that one group's ARN."),
		AppliesTo: &[]any{
			"Resource::<" + *awscdk.Stack_Of(scope).GetLogicalId(s.MetricsLogGroup.Node().DefaultChild().(awscdk.CfnElement)) + ".Arn>:*",
		},
	}}, jsii.Bool(true))
	return nil
}
