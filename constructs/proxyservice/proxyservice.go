// Package proxyservice is the ECS Fargate service of the reverse proxy: the
// stock nginx image, configured with an nginx.conf rendered at synth time
// (package proxy), registered with the load balancer's target groups of the
// proxy, and a Service Connect client of the cluster's namespace so that it
// resolves <component>.<namespace>.
//
// The configuration reaches the container without an image of our own: the
// task definition carries it in the environment variable ConfigVariable,
// and the entrypoint writes it to ConfigPath, checks it with `nginx -t` and
// then execs nginx in the foreground. The rendered configuration holds no
// secret (upstream names, ports, routes), it is readable in a template diff,
// and a change of it is a change of the task definition, so ECS rolls the
// service, guarded by the circuit breaker. Alternatives were weighed: an
// image built at synth (a Docker build and an ECR asset for a text file), a
// file in S3 or Parameter Store fetched at start (nginx:alpine has no AWS
// CLI, and a change would not roll the service by itself), or an EFS volume
// (state outside the task definition).
package proxyservice

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/fargateservice"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/fargate"
)

// Names inside the task.
const (
	// ContainerName is the nginx container.
	ContainerName = "nginx"
	// ConfigVariable is the environment variable that holds the rendered
	// nginx.conf.
	ConfigVariable = "NGINX_CONF"
	// ConfigPath is where the entrypoint writes it: nginx's default
	// configuration file in the official image.
	ConfigPath = "/etc/nginx/nginx.conf"
	// MaxConfigBytes bounds the rendered configuration: ECS accepts task
	// definitions of up to 64 KiB, and the rest of the definition needs
	// room too.
	MaxConfigBytes = 48 * 1024
)

// Props configure the proxy's service.
type Props struct {
	// Cluster runs the service; Namespace is the ARN of the Service Connect
	// namespace the proxy resolves the components in (client only: the
	// proxy itself is not discoverable).
	Cluster   awsecs.ICluster
	Namespace *string
	// Subnets and SecurityGroup of the tasks.
	Subnets       *awsec2.SubnetSelection
	SecurityGroup awsec2.ISecurityGroup
	// Image of nginx with a pinned tag or digest (proxy.Image).
	Image string
	// Config is the rendered nginx.conf (proxy.Render).
	Config string
	// Targets are the load balancer's target groups of the proxy; the
	// container maps each target's port. All must be TCP.
	Targets []*listeners.Target
	// HealthPort and HealthPath are the proxy's own health endpoint
	// (proxy.DefaultHealthPort, proxy.HealthPath), used by the container
	// health check and mapped as a container port for the load balancer's
	// health checks.
	HealthPort int
	HealthPath string
	// DesiredCount tasks of CPU units and MemoryMiB each.
	DesiredCount int
	CPU          int
	MemoryMiB    int
	// HealthCheckGrace is how long the load balancer's health checks are
	// ignored after a task starts.
	HealthCheckGrace time.Duration
	// LogRetention of the service's log group.
	LogRetention awslogs.RetentionDays
}

// Service is the proxy's ECS service and its parts.
type Service struct {
	constructs.Construct
	Service        awsecs.FargateService
	TaskDefinition awsecs.FargateTaskDefinition
	Container      awsecs.ContainerDefinition
	// TaskRole has no permission: nginx calls no AWS API.
	TaskRole awsiam.Role
	// ExecutionRole only writes the container's logs (the image is public).
	ExecutionRole awsiam.Role
	LogGroup      awslogs.LogGroup
}

func (p Props) validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if p.Cluster == nil || p.Namespace == nil || p.Subnets == nil || p.SecurityGroup == nil {
		bad("Cluster, Namespace, Subnets and SecurityGroup are required")
	}
	if p.Image == "" || !strings.Contains(p.Image, ":") || strings.HasSuffix(p.Image, ":latest") {
		bad("Image %q must be an image with a pinned tag or digest, e.g. proxy.Image", p.Image)
	}
	switch {
	case strings.TrimSpace(p.Config) == "":
		bad("Config is empty; pass the nginx.conf that proxy.Render returns")
	case len(p.Config) > MaxConfigBytes:
		bad("Config has %d bytes, more than %d: the task definition (at most 64 KiB) would not take it; shorten the configuration", len(p.Config), MaxConfigBytes)
	}
	if len(p.Targets) == 0 {
		bad("no Targets: the proxy serves the load balancer's target groups of the proxy; pass them")
	}
	for _, t := range p.Targets {
		if t.Protocol != elbv2.Protocol_TCP {
			bad("target group of port %d is %s; the proxy serves TCP only", t.Port, t.Protocol)
		}
	}
	if p.HealthPort < 1 || p.HealthPort > 65535 || !strings.HasPrefix(p.HealthPath, "/") {
		bad("HealthPort %d and HealthPath %q must be a port and an absolute path (proxy.DefaultHealthPort, proxy.HealthPath)", p.HealthPort, p.HealthPath)
	}
	if p.DesiredCount < 1 {
		bad("DesiredCount %d: run at least 1 task", p.DesiredCount)
	}
	if err := fargate.CheckSize(p.CPU, p.MemoryMiB); err != nil {
		bad("%v", err)
	}
	if p.HealthCheckGrace < 10*time.Second {
		bad("HealthCheckGrace %s is too short; give nginx at least 10 s to start", p.HealthCheckGrace)
	}
	if p.LogRetention == "" {
		bad("LogRetention is required")
	}
	if len(errs) > 0 {
		return fmt.Errorf("proxyservice: %s", strings.Join(errs, "; "))
	}
	return nil
}

// StartScript is the container's `/bin/sh -c` script: it writes the
// configuration from the environment to ConfigPath, refuses to start when
// `nginx -t` rejects it (the task fails and the circuit breaker rolls the
// deployment back), and replaces the shell with nginx in the foreground so
// that nginx receives the stop signal.
func StartScript() string {
	return strings.Join([]string{
		"set -eu",
		fmt.Sprintf(`printf '%%s' "$%s" > %s`, ConfigVariable, ConfigPath),
		"unset " + ConfigVariable,
		"nginx -t",
		`exec nginx -g 'daemon off;'`,
	}, "\n")
}

// ContainerPorts returns the ports the container maps: every target's port
// and the health port, sorted, each once.
func ContainerPorts(targets []*listeners.Target, healthPort int) []int {
	seen := map[int]bool{healthPort: true}
	out := []int{healthPort}
	for _, t := range targets {
		if !seen[t.Port] {
			seen[t.Port] = true
			out = append(out, t.Port)
		}
	}
	sort.Ints(out)
	return out
}

// New creates the proxy's service.
func New(scope constructs.Construct, id string, props Props) (*Service, error) {
	if err := props.validate(); err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	out := &Service{Construct: c}
	tasks := awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil)
	out.TaskRole = awsiam.NewRole(c, jsii.String("TaskRole"), &awsiam.RoleProps{
		AssumedBy:   tasks,
		Description: jsii.String("reverse proxy (nginx) tasks: no AWS permissions"),
	})
	out.ExecutionRole = awsiam.NewRole(c, jsii.String("ExecutionRole"), &awsiam.RoleProps{
		AssumedBy:   tasks,
		Description: jsii.String("ECS agent of the reverse proxy (nginx) tasks: writes their logs"),
	})
	out.LogGroup = awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     props.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	out.TaskDefinition = awsecs.NewFargateTaskDefinition(c, jsii.String("Task"), &awsecs.FargateTaskDefinitionProps{
		Cpu:            jsii.Number(float64(props.CPU)),
		MemoryLimitMiB: jsii.Number(float64(props.MemoryMiB)),
		TaskRole:       out.TaskRole,
		ExecutionRole:  out.ExecutionRole,
		RuntimePlatform: &awsecs.RuntimePlatform{
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
			CpuArchitecture:       awsecs.CpuArchitecture_X86_64(),
		},
	})
	logs := func(prefix string) awsecs.LogDriver {
		return awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{LogGroup: out.LogGroup, StreamPrefix: jsii.String(prefix)})
	}
	var mappings []*awsecs.PortMapping
	for _, port := range ContainerPorts(props.Targets, props.HealthPort) {
		mappings = append(mappings, &awsecs.PortMapping{
			Name:          jsii.String(fmt.Sprintf("proxy-%d", port)),
			ContainerPort: jsii.Number(float64(port)),
			Protocol:      awsecs.Protocol_TCP,
		})
	}
	out.Container = out.TaskDefinition.AddContainer(jsii.String(ContainerName), &awsecs.ContainerDefinitionOptions{
		ContainerName: jsii.String(ContainerName),
		Image:         awsecs.ContainerImage_FromRegistry(jsii.String(props.Image), nil),
		EntryPoint:    jsii.Strings("/bin/sh", "-c"),
		Command:       jsii.Strings(StartScript()),
		Environment:   &map[string]*string{ConfigVariable: jsii.String(props.Config)},
		Essential:     jsii.Bool(true),
		Logging:       logs("proxy"),
		PortMappings:  &mappings,
		// BusyBox wget is in the Alpine image; the health port answers
		// without any upstream.
		HealthCheck: &awsecs.HealthCheck{
			Command:     jsii.Strings("CMD-SHELL", fmt.Sprintf("wget -q -O /dev/null http://127.0.0.1:%d%s || exit 1", props.HealthPort, props.HealthPath)),
			Interval:    awscdk.Duration_Seconds(jsii.Number(10)),
			Timeout:     awscdk.Duration_Seconds(jsii.Number(5)),
			Retries:     jsii.Number(3),
			StartPeriod: awscdk.Duration_Seconds(jsii.Number(10)),
		},
		// Long-lived streams get time to end after the stop signal (nginx's
		// worker_shutdown_timeout is 60 s on a graceful stop).
		StopTimeout: awscdk.Duration_Seconds(jsii.Number(75)),
	})

	// A configuration nginx rejects, or tasks that do not become healthy,
	// roll the deployment back. Service Connect is client only (no
	// Services): the agent gives the tasks the names of the namespace's
	// services, the proxy itself gets none.
	svc, err := fargateservice.New(c, "Service", fargateservice.Props{
		Cluster:          props.Cluster,
		TaskDefinition:   out.TaskDefinition,
		DesiredCount:     props.DesiredCount,
		Subnets:          props.Subnets,
		SecurityGroup:    props.SecurityGroup,
		HealthCheckGrace: props.HealthCheckGrace,
		ServiceConnect: &awsecs.ServiceConnectProps{
			Namespace: props.Namespace,
			LogDriver: logs("proxy-service-connect"),
		},
		Targets:       props.Targets,
		ContainerName: ContainerName,
	})
	if err != nil {
		return nil, err
	}
	out.Service = svc
	cdknag.NagSuppressions_AddResourceSuppressions(out.TaskDefinition, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-ECS2"),
		Reason: jsii.String("The plain environment holds only " + ConfigVariable + ", the nginx.conf rendered at synth time (upstream names, " +
			"ports and routes; no credential), so that the stock nginx image needs no custom build and a configuration change rolls the service."),
	}}, jsii.Bool(false))
	return out, nil
}
