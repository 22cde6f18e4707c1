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
//
// In proxy TLS mode (Props.TLS) the task runs the image of internal/run/certsync/Dockerfile
// instead: the same nginx plus the certsync supervisor
// (internal/run/cmd/certsync). The entrypoint writes the configuration (and the
// client CA bundle of the interop listener, also carried in the task
// definition) and execs certsync, which fetches the certificate secret,
// writes fullchain.pem and privkey.pem to CertDir, starts nginx, and reloads
// it when Certbot stores a new certificate. The task role may read only that
// secret, decrypt it only through Secrets Manager, and publish certsync's
// metrics in one namespace.
package proxyservice

import (
	"fmt"
	"path"
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
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/fargate"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/imageref"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/proxy"
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
	// ClientCAVariable holds the PEM bundle of the interop listener's client
	// CAs in proxy TLS mode; the entrypoint writes it to ClientCAPath.
	ClientCAVariable = "INTEROP_CLIENT_CA"
	// ClientCAPath is where the entrypoint writes the client CA bundle; the
	// configuration names it (proxy.ClientCert.CAFile).
	ClientCAPath = "/etc/nginx/bi/client-ca.pem"
	// CertsyncBinary is certsync's path in the image of internal/run/certsync/Dockerfile.
	CertsyncBinary = "/usr/local/bin/certsync"
)

// TLS configures proxy TLS mode.
type TLS struct {
	// Image is built from internal/run/certsync/Dockerfile (nginx proxy.Image plus
	// certsync), e.g. ecs.ContainerImage_FromDockerImageAsset.
	Image awsecs.ContainerImage
	// SecretName is the name of the certificate secret (CERT_SECRET_ID);
	// SecretArn the ARN the task role may read, e.g. the name's ARN with
	// Secrets Manager's suffix "-??????".
	SecretName string
	SecretArn  *string
	// SecretsKeyArn is the KMS key of the secret; the task role may decrypt
	// with it only through Secrets Manager in Region.
	SecretsKeyArn *string
	Region        string
	// Domain must be covered by the certificate (CERT_DOMAIN).
	Domain string
	// MetricNamespace and MetricDimensions ("Name=Value,...") of certsync's
	// metrics (DaysToExpiry, CertSyncFailure); the task role may publish in
	// MetricNamespace only.
	MetricNamespace  string
	MetricDimensions string
	// ClientCA is the PEM bundle of the CAs of Backend Interfaces peers'
	// client certificates, written to ClientCAPath; empty for none. The
	// configuration must name ClientCAPath when it is set.
	ClientCA string
}

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
	// Image of nginx with a pinned tag or digest (proxy.Image); ignored in
	// proxy TLS mode, which runs TLS.Image.
	Image string
	// TLS, when set, runs the proxy in proxy TLS mode (see the package
	// documentation).
	TLS *TLS
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
	// Architecture of the tasks; TLS.Image must be built for it.
	Architecture fargateservice.Architecture
}

// Service is the proxy's ECS service and its parts.
type Service struct {
	constructs.Construct
	Service        awsecs.FargateService
	TaskDefinition awsecs.FargateTaskDefinition
	Container      awsecs.ContainerDefinition
	// TaskRole has no permission (nginx calls no AWS API); in proxy TLS
	// mode it reads the certificate secret and publishes certsync's metrics.
	TaskRole awsiam.Role
	// ExecutionRole writes the container's logs (the image is public); in
	// proxy TLS mode it also pulls TLS.Image.
	ExecutionRole awsiam.Role
	LogGroup      awslogs.LogGroup
}

func (p Props) validate() error {
	var errs diag.List
	if p.Cluster == nil || p.Namespace == nil || p.Subnets == nil || p.SecurityGroup == nil {
		errs.Errorf("proxyservice.missing-scope", "", "Cluster, Namespace, Subnets and SecurityGroup are required")
	}
	caBytes := 0
	if t := p.TLS; t != nil {
		caBytes = len(t.ClientCA)
		if t.Image == nil || t.SecretName == "" || t.SecretArn == nil || t.SecretsKeyArn == nil || t.Region == "" || t.Domain == "" || t.MetricNamespace == "" {
			errs.Errorf("proxyservice.incomplete-tls", "TLS", "needs Image, SecretName, SecretArn, SecretsKeyArn, Region, Domain and MetricNamespace: the image of internal/run/certsync/Dockerfile and the certificate secret it reads")
		}
		if t.ClientCA != "" && !strings.Contains(p.Config, "ssl_client_certificate "+ClientCAPath+";") {
			errs.Errorf("proxyservice.client-ca-unused", "TLS.ClientCA", "is set but Config does not name %s; render it with ClientCert.CAFile %q", ClientCAPath, ClientCAPath)
		}
	} else if problem := imageref.Check(p.Image); problem != imageref.None {
		errs.Errorf("proxyservice.unpinned-image", "Image", "%q %s; give an image with a pinned tag or digest, e.g. proxy.Image", p.Image, problem.Reason())
	}
	switch {
	case strings.TrimSpace(p.Config) == "":
		errs.Errorf("proxyservice.empty-config", "Config", "is empty; pass the nginx.conf that proxy.Render returns")
	case len(p.Config)+caBytes > MaxConfigBytes:
		errs.Errorf("proxyservice.config-too-large", "Config", "(and TLS.ClientCA) have %d bytes, more than %d: the task definition (at most 64 KiB) would not take them; shorten the configuration or the CA bundle", len(p.Config)+caBytes, MaxConfigBytes)
	}
	if len(p.Targets) == 0 {
		errs.Errorf("proxyservice.no-targets", "Targets", "none given: the proxy serves the load balancer's target groups of the proxy; pass them")
	}
	for _, t := range p.Targets {
		if t.Protocol != elbv2.Protocol_TCP {
			errs.Errorf("proxyservice.not-tcp", "Targets", "target group of port %d is %s; the proxy serves TCP only", t.Port, t.Protocol)
		}
	}
	if p.HealthPort < 1 || p.HealthPort > 65535 || !strings.HasPrefix(p.HealthPath, "/") {
		errs.Errorf("proxyservice.bad-health-check", "HealthPort", "%d and HealthPath %q must be a port and an absolute path (proxy.DefaultHealthPort, proxy.HealthPath)", p.HealthPort, p.HealthPath)
	}
	if !p.Architecture.Valid() {
		errs.Errorf("proxyservice.bad-architecture", "Architecture", "%q: give fargateservice.ARM64 or fargateservice.X86_64", p.Architecture)
	}
	if p.DesiredCount < 1 {
		errs.Errorf("proxyservice.no-tasks", "DesiredCount", "%d: run at least 1 task", p.DesiredCount)
	}
	if err := fargate.CheckSize(p.CPU, p.MemoryMiB); err != nil {
		errs.Errorf("proxyservice.task-size", "CPU", "%v", err)
	}
	if p.HealthCheckGrace < 10*time.Second {
		errs.Errorf("proxyservice.short-grace", "HealthCheckGrace", "%s is too short; give nginx at least 10 s to start", p.HealthCheckGrace)
	}
	if p.LogRetention == "" {
		errs.Errorf("proxyservice.missing-log-retention", "LogRetention", "is required")
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("proxyservice:\n%w", err)
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

// TLSStartScript is the container's `/bin/sh -c` script in proxy TLS mode:
// it writes the configuration (and, with withClientCA, the client CA bundle)
// from the environment, creates the certificate directory and replaces the
// shell with certsync, which installs the certificate, runs `nginx -t`,
// starts nginx in the foreground and forwards the stop signal to it as a
// graceful SIGQUIT. nginx -t cannot run before certsync: the certificate
// files do not exist yet.
func TLSStartScript(withClientCA bool) string {
	lines := []string{
		"set -eu",
		fmt.Sprintf(`printf '%%s' "$%s" > %s`, ConfigVariable, ConfigPath),
		"unset " + ConfigVariable,
	}
	if withClientCA {
		lines = append(lines,
			"mkdir -p "+path.Dir(ClientCAPath),
			fmt.Sprintf(`printf '%%s\n' "$%s" > %s`, ClientCAVariable, ClientCAPath),
			"unset "+ClientCAVariable)
	}
	lines = append(lines,
		"mkdir -p "+proxy.DefaultCertDir,
		fmt.Sprintf(`exec %s -- nginx -g 'daemon off;'`, CertsyncBinary))
	return strings.Join(lines, "\n")
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
	taskRole, execRole := "reverse proxy (nginx) tasks: no AWS permissions", "ECS agent of the reverse proxy (nginx) tasks: writes their logs"
	if props.TLS != nil {
		taskRole = "reverse proxy (nginx and certsync) tasks: read the certificate secret, publish certificate metrics"
		execRole = "ECS agent of the reverse proxy (nginx and certsync) tasks: pulls the proxy image, writes their logs"
	}
	task := fargateservice.NewTask(c, fargateservice.TaskProps{
		CPU:                      props.CPU,
		MemoryMiB:                props.MemoryMiB,
		TaskRoleDescription:      taskRole,
		ExecutionRoleDescription: execRole,
		LogRetention:             props.LogRetention,
		Architecture:             props.Architecture,
	})
	out.TaskRole, out.ExecutionRole, out.LogGroup, out.TaskDefinition = task.TaskRole, task.ExecutionRole, task.LogGroup, task.Definition
	logs := task.Logs
	var mappings []*awsecs.PortMapping
	for _, port := range ContainerPorts(props.Targets, props.HealthPort) {
		mappings = append(mappings, &awsecs.PortMapping{
			Name:          jsii.String(fmt.Sprintf("proxy-%d", port)),
			ContainerPort: jsii.Number(float64(port)),
			Protocol:      awsecs.Protocol_TCP,
		})
	}
	image := awsecs.ContainerImage_FromRegistry(jsii.String(props.Image), nil)
	script := StartScript()
	env := map[string]*string{ConfigVariable: jsii.String(props.Config)}
	// nginx answers its health port within seconds of the start; certsync
	// fetches the certificate first.
	startPeriod := 10
	if t := props.TLS; t != nil {
		image, script, startPeriod = t.Image, TLSStartScript(t.ClientCA != ""), 60
		for k, v := range map[string]string{
			"CERT_SECRET_ID":         t.SecretName,
			"CERT_DOMAIN":            t.Domain,
			"CERTSYNC_DIR":           proxy.DefaultCertDir,
			"CERT_METRIC_NAMESPACE":  t.MetricNamespace,
			"CERT_METRIC_DIMENSIONS": t.MetricDimensions,
			"AWS_REGION":             t.Region,
		} {
			env[k] = jsii.String(v)
		}
		if t.ClientCA != "" {
			env[ClientCAVariable] = jsii.String(t.ClientCA)
		}
		grantTLS(out.TaskRole, t)
	}
	out.Container = out.TaskDefinition.AddContainer(jsii.String(ContainerName), &awsecs.ContainerDefinitionOptions{
		ContainerName: jsii.String(ContainerName),
		Image:         image,
		EntryPoint:    jsii.Strings("/bin/sh", "-c"),
		Command:       jsii.Strings(script),
		Environment:   &env,
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
			StartPeriod: awscdk.Duration_Seconds(jsii.Number(float64(startPeriod))),
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
	if props.TLS == nil {
		cdknag.NagSuppressions_AddResourceSuppressions(out.TaskDefinition, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-ECS2"),
			Reason: jsii.String("The plain environment holds only " + ConfigVariable + ", the nginx.conf rendered at synth time (upstream names, " +
				"ports and routes; no credential), so that the stock nginx image needs no custom build and a configuration change rolls the service."),
		}}, jsii.Bool(false))
		return out, nil
	}
	cdknag.NagSuppressions_AddResourceSuppressions(out.TaskDefinition, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-ECS2"),
		Reason: jsii.String("The plain environment holds " + ConfigVariable + " (the nginx.conf rendered at synth time: upstream names, ports, routes), " +
			ClientCAVariable + " (public CA certificates of Backend Interfaces peers) and certsync's settings (secret name, domain, metric namespace, region); " +
			"no credential: certsync reads the certificate and its key from Secrets Manager with the task role."),
	}}, jsii.Bool(false))
	cdknag.NagSuppressions_AddResourceSuppressions(out.TaskRole, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("cloudwatch:PutMetricData has no resource-level permissions; it is limited to the " + props.TLS.MetricNamespace +
			" namespace by the cloudwatch:namespace condition."),
		AppliesTo: &[]any{"Resource::*"},
	}}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(out.ExecutionRole, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("ecr:GetAuthorizationToken, which the execution role needs to pull the proxy image from the CDK asset repository, " +
			"has no resource-level permissions; the pull actions are on that repository only."),
		AppliesTo: &[]any{"Resource::*"},
	}}, jsii.Bool(true))
	return out, nil
}

// grantTLS lets certsync read the certificate secret (GetSecretValue only:
// it needs neither DescribeSecret nor a version list), decrypt it through
// Secrets Manager only, and publish its metrics in one namespace.
func grantTLS(role awsiam.Role, t *TLS) {
	for _, s := range []*awsiam.PolicyStatementProps{
		{Sid: jsii.String("ReadCertificateSecret"), Actions: jsii.Strings("secretsmanager:GetSecretValue"), Resources: &[]*string{t.SecretArn}},
		{Sid: jsii.String("DecryptCertificateSecret"), Actions: jsii.Strings("kms:Decrypt"), Resources: &[]*string{t.SecretsKeyArn},
			Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("secretsmanager.%s.amazonaws.com", t.Region)}}},
		{Sid: jsii.String("CertificateMetrics"), Actions: jsii.Strings("cloudwatch:PutMetricData"), Resources: jsii.Strings("*"),
			Conditions: &map[string]any{"StringEquals": map[string]any{"cloudwatch:namespace": t.MetricNamespace}}},
	} {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(s))
	}
}
