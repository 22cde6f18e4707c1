package stacks

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/fargateservice"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/netbase"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/proxyservice"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/ttsservice"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ratelimit"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ttsconfig"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ttsmetrics"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// Sizing of the services of the Services stack that is not a parameter.
const (
	// FixedTasks is the task count of the components that do not scale on
	// CPU (Join Server, Console, Gateway Configuration Server, Device
	// Claiming Server, Device Repository, Packet Broker Agent): two, so that
	// a task or a zone can fail.
	FixedTasks = 2
	// ScaleOutFactor bounds CPU scaling: a scaling service runs between its
	// task parameter and ScaleOutFactor times as many tasks.
	ScaleOutFactor = 4
	// TargetCPUPercent is the average CPU use the scaling services are kept at.
	TargetCPUPercent = 60
	// ScaleOutCooldown and ScaleInCooldown: scale out quickly when traffic
	// grows, scale in slowly, because a stopped Gateway Server task drops its
	// gateways' connections (they reconnect to another task).
	ScaleOutCooldown = 60 * time.Second
	ScaleInCooldown  = 300 * time.Second
	// ServiceHealthGrace is how long the load balancer's health checks of a
	// new task are ignored while The Things Stack connects to Redis and, for
	// the Network and Application Server, reads the interop repository.
	ServiceHealthGrace = 90 * time.Second
)

// Services holds the ECS services of the components other than the Identity
// Server and the reverse proxy, in the cluster and Service Connect namespace
// of the IdentityServer stack.
type Services struct {
	awscdk.Stack
	// Services by component.
	Services map[ports.Component]*ttsservice.Service
	// Proxy is the reverse proxy (nginx) in front of the HTTP and gRPC APIs.
	Proxy *proxyservice.Service
	// Certbot issues and renews the proxy's certificate (SupportProxyTLS).
	Certbot *Certbot
	// Targets are the target groups of this stack's services; Public the
	// public listeners of the deployment.
	Targets []*listeners.Target
	Public  *listeners.Public
	// Alarms is the alarm topic of the deployment.
	Alarms awssns.Topic
	// Dashboard is the deployment's CloudWatch dashboard, named StackPrefix.
	Dashboard awscloudwatch.Dashboard
}

// serviceSpec is what differs between the components' services.
type serviceSpec struct {
	// component's Server is the load balancer's server whose task security
	// group, target groups and data ports the service has.
	component ports.Component
	// tasks is the desired count; scale turns on CPU scaling from it.
	tasks int
	scale bool
	// interop: the component reads the interop repository at start.
	interop bool
}

func serviceSpecs(p *params.Params) []serviceSpec {
	specs := []serviceSpec{
		{component: ports.GatewayServer, tasks: p.GatewayServerTasks, scale: true},
		{component: ports.NetworkServer, tasks: p.NetworkServerTasks, scale: true, interop: true},
		{component: ports.ApplicationServer, tasks: p.ApplicationServerTasks, scale: true, interop: true},
		{component: ports.JoinServer, tasks: FixedTasks},
		{component: ports.Console, tasks: FixedTasks},
		{component: ports.GatewayConfigurationServer, tasks: FixedTasks},
		{component: ports.DeviceClaimingServer, tasks: FixedTasks},
		{component: ports.DeviceRepository, tasks: FixedTasks},
	}
	if p.PacketBrokerEnabled {
		// The Packet Broker Agent: its subscriptions are shared by the
		// cluster id, so that two tasks split the traffic.
		specs = append(specs, serviceSpec{component: ports.PacketBrokerAgent, tasks: FixedTasks})
	}
	return specs
}

// deployedComponents returns the components that run as services:
// ports.Deployed and the optional ones the parameters turn on.
func deployedComponents(p *params.Params) []ports.Component {
	out := ports.Deployed()
	if p.PacketBrokerEnabled {
		out = append(out, ports.PacketBrokerAgent)
	}
	return out
}

// ServicesProps are what the Services stack needs.
type ServicesProps struct {
	awscdk.StackProps
	Params         *params.Params
	Network        *Network
	Data           *Data
	LoadBalancer   *LoadBalancer
	Configuration  *Configuration
	IdentityServer *IdentityServer
	// ModuleDir is the folder of go.mod, to build the Certbot image and the
	// deploy-time function.
	ModuleDir string
}

// NewServices creates the Services stack: one service per component, named
// as the configuration's cluster addresses name it (gs.tts.local, ...).
func NewServices(scope constructs.Construct, id string, props ServicesProps) (*Services, error) {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	p, net, data, lb, cfg, is, moduleDir := props.Params, props.Network, props.Data, props.LoadBalancer, props.Configuration, props.IdentityServer, props.ModuleDir
	out := &Services{Stack: stack, Services: map[ports.Component]*ttsservice.Service{}}

	// The target groups of this stack's services and every public listener:
	// they come last in the deployment, after the services that register
	// with them (see package listeners).
	targets, err := listeners.NewTargets(stack, "Front", listeners.TargetsProps{
		Vpc: net.Vpc, Nlb: net.Nlb.Nlb, NlbSecurityGroup: net.Nlb.SecurityGroup, Tasks: lb.Tasks, Plan: lb.Plan,
		Servers: []ports.Server{ports.ServerGS, ports.ServerAS, ports.ServerProxy},
	})
	if err != nil {
		return nil, err
	}
	isARNs, isNames := map[string]*string{}, map[string]*string{}
	for _, t := range is.Targets {
		if isARNs[t.Key], err = readPublished(stack, t.Group, TargetGroupArnOutput(t.Key)); err != nil {
			return nil, err
		}
		if isNames[t.Key], err = readPublished(stack, t.Group, TargetGroupFullNameOutput(t.Key)); err != nil {
			return nil, err
		}
	}
	public, err := listeners.NewPublic(stack, "Public", listeners.PublicProps{
		Nlb: net.Nlb.Nlb, NlbSecurityGroup: net.Nlb.SecurityGroup, Certificate: lb.CertificateArn, Plan: lb.Plan,
		Targets:    append(append([]*listeners.Target{}, is.Targets...), targets...),
		TargetARNs: isARNs,
		IngressCIDRs: map[ports.Group][]string{
			ports.GroupGateways:     p.GatewayIngressCidrs,
			ports.GroupApplications: p.ApplicationIngressCidrs,
			ports.GroupInterop:      p.InteropIngressCidrs,
		},
	})
	if err != nil {
		return nil, err
	}
	out.Targets, out.Public = targets, public
	byServer := func(s ports.Server) []*listeners.Target {
		var out []*listeners.Target
		for _, t := range registered(targets) {
			if t.Server == s {
				out = append(out, t)
			}
		}
		return out
	}

	// Imported by ARN, as in the other stacks: grants go into this stack's
	// roles, never into the Data stack's key policy.
	key := awskms.Key_FromKeyArn(stack, jsii.String("DataKey"), data.Key.KeyArn())
	ops, err := newOpsAccess(stack, p, data)
	if err != nil {
		return nil, err
	}
	for _, spec := range serviceSpecs(p) {
		conf, err := cfg.Container(stack, spec.component)
		if err != nil {
			return nil, err
		}
		digest := conf.Digest
		if spec.interop {
			// NS and AS read the repository only at start.
			digest += "-" + cfg.Interop.Digest
		}
		server := spec.component.Server()
		sg := lb.Tasks.ByServer[server]
		if sg == nil {
			return nil, fmt.Errorf("services: the LoadBalancer stack has no task security group of %s", server)
		}
		served := append([]ports.Port{ports.GRPC(), ports.HTTP()}, ports.ServedBy(server)...)
		name := string(spec.component)
		var metrics *ttsservice.Metrics
		if len(ttsmetrics.ForComponent(spec.component)) > 0 {
			metrics = &ttsservice.Metrics{
				Namespace: ttsmetrics.Namespace(p.StackPrefix), Region: p.Region,
				Password: conf.Secrets[ttsconfig.EnvName("http.metrics.password")],
			}
		}
		svc, err := ttsservice.New(stack, "Service-"+name, ttsservice.Props{
			Cluster:          is.Cluster,
			Namespace:        is.Namespace.NamespaceArn(),
			Subnets:          &awsec2.SubnetSelection{SubnetGroupName: jsii.String(netbase.PrivateSubnets)},
			SecurityGroup:    sg,
			Name:             name,
			ServiceDomain:    ServiceDomain,
			Components:       []ports.Component{spec.component},
			Image:            p.TTSImage,
			Environment:      conf.Environment,
			Secrets:          conf.Secrets,
			ConfigDigest:     digest,
			SecretsKey:       key,
			Ports:            served,
			Targets:          byServer(server),
			DesiredCount:     spec.tasks,
			CPU:              p.ServiceCpu,
			MemoryMiB:        p.ServiceMemory,
			HealthCheckGrace: ServiceHealthGrace,
			HealthPath:       "/healthz",
			LogRetention:     retention(p.LogRetentionDays),
			Architecture:     fargateservice.Architecture(p.CpuArchitecture),
			Exec:             ops != nil,
			Metrics:          metrics,
		})
		if err != nil {
			return nil, err
		}
		out.Services[spec.component] = svc
		if ops != nil {
			ops.grant(svc)
			serviceOutput(stack, spec.component, svc.Service)
		}
		if err := waitForListeners(svc.Service, byServer(server), lb.Plan, public); err != nil {
			return nil, err
		}
		if spec.interop {
			grantInteropRead(svc, data, key, p.Region)
		} else {
			grantRateLimitingRead(svc.TaskRole, data, key, p.Region)
		}
		if spec.scale {
			scaling := svc.Service.AutoScaleTaskCount(&awsapplicationautoscaling.EnableScalingProps{
				MinCapacity: jsii.Number(float64(spec.tasks)),
				MaxCapacity: jsii.Number(float64(ScaleOutFactor * spec.tasks)),
			})
			scaling.ScaleOnCpuUtilization(jsii.String("Cpu"), &awsecs.CpuUtilizationScalingProps{
				TargetUtilizationPercent: jsii.Number(TargetCPUPercent),
				ScaleOutCooldown:         awscdk.Duration_Seconds(jsii.Number(ScaleOutCooldown.Seconds())),
				ScaleInCooldown:          awscdk.Duration_Seconds(jsii.Number(ScaleInCooldown.Seconds())),
			})
		}
	}
	var deps []awsecs.FargateService
	for _, spec := range serviceSpecs(p) {
		deps = append(deps, out.Services[spec.component].Service)
	}
	out.Alarms = newAlarmTopic(stack, p)
	nlbName, err := readPublished(stack, net.Nlb.Nlb, LoadBalancerFullNameOutput)
	if err != nil {
		return nil, err
	}
	names := map[string]*string{}
	for k, v := range isNames {
		names[k] = v
	}
	for _, t := range targets {
		names[t.Key] = t.Group.TargetGroupFullName()
	}
	alarms := newAlarmSet(stack, p.StackPrefix, out.Alarms)
	alarms.targetGroups(nlbName, append(append([]*listeners.Target{}, is.Targets...), targets...), names)
	alarms.traffic()
	in := servicesInputs{params: p, net: net, data: data, lb: lb, is: is, moduleDir: moduleDir, targets: byServer(ports.ServerProxy), alarms: alarms}
	certbot, err := newCertbot(stack, in)
	if err != nil {
		return nil, err
	}
	out.Certbot = certbot
	proxySvc, err := newProxy(stack, in, deps)
	if err != nil {
		return nil, err
	}
	if certbot.Task != nil {
		// nginx must never start in TLS mode without a certificate.
		proxySvc.Service.Node().AddDependency(certbot.Task.FirstRun)
	}
	out.Proxy = proxySvc
	if err := waitForListeners(proxySvc.Service, in.targets, lb.Plan, public); err != nil {
		return nil, err
	}
	orderSwitch(proxySvc.Service, lb.Plan, public)

	// Every service, data tier resource, certificate and function alarms;
	// the dashboard shows them all.
	cluster := is.Cluster.ClusterName()
	services := []dashboardService{{name: string(ports.IdentityServer), service: is.Service.Service.ServiceName()}}
	for _, spec := range serviceSpecs(p) {
		services = append(services, dashboardService{name: string(spec.component), service: out.Services[spec.component].Service.ServiceName()})
	}
	services = append(services, dashboardService{name: "proxy", service: proxySvc.Service.ServiceName()})
	for _, s := range services {
		alarms.serviceTasks(s.name, cluster, s.service)
	}
	dbInstances := make([]*string, p.DatabaseReaders+1)
	for i := range dbInstances {
		if dbInstances[i], err = readPublished(stack, data.Stack, DatabaseInstanceOutput(i)); err != nil {
			return nil, err
		}
	}
	nodes := cacheNodes(data.Cache.Group.Ref(), p.CacheReplicas)
	alarms.dataTier(p, data.Database.Cluster.ClusterIdentifier(), dbInstances, nodes)
	certArn := jsii.String(lb.CertificateArn)
	alarms.acmExpiry(p, certArn)
	alarms.proxyErrors(proxySvc.LogGroup)
	fns, err := lambdaFunctions(stack, net.Stack, data.Stack, lb.Stack, cfg.Stack, is.Stack, stack)
	if err != nil {
		return nil, err
	}
	alarms.lambdaErrors(fns)
	out.Dashboard = newDashboard(stack, dashboardInputs{
		params: p, cluster: cluster, services: services, plan: lb.Plan, nlb: nlbName, targetNames: names,
		dbCluster: data.Database.Cluster.ClusterIdentifier(), dbInstances: dbInstances, cacheNodes: nodes,
		certArn: certArn, lambdas: fns, alarms: alarms.alarms,
	})
	return out, nil
}

// cacheNodes are the CacheClusterId of the replication group's nodes: a
// group with one shard (cluster mode disabled) names its primary and
// replicas <group id>-001, -002, ...
func cacheNodes(group *string, replicas int) []*string {
	out := make([]*string, replicas+1)
	for i := range out {
		out[i] = awscdk.Fn_Join(jsii.String(""), &[]*string{group, jsii.String(fmt.Sprintf("-%03d", i+1))})
	}
	return out
}

// waitForListeners makes a service wait for the public listeners of its
// target groups that have no staging listener: ECS registers tasks only in a
// target group that a listener uses. (A target group with a staging listener
// is an L2 attachment, which the service already waits for.)
func waitForListeners(svc awsecs.FargateService, targets []*listeners.Target, plan listeners.Plan, public *listeners.Public) error {
	for _, t := range targets {
		if t.Staging != nil {
			continue
		}
		ls := public.ListenersOf(plan, t.Key)
		if len(ls) == 0 {
			return fmt.Errorf("services: target group %s has neither a public nor a staging listener; ECS would refuse to register in it", t.Key)
		}
		for _, l := range ls {
			svc.Node().AddDependency(l)
		}
	}
	return nil
}

// orderSwitch orders the listeners of the switch ports (443, 8886) against
// the proxy, so that a switch of TLS mode never leaves a listener without
// targets (package listeners):
//
//   - a listener that forwards to a proxy TLS port (proxy TLS mode) is
//     updated after the proxy: the proxy's new tasks serve TLS, with the
//     certificate, before 443 and 8886 move to them; until then the listener
//     forwards to the kept target group, where the Identity Server and the
//     old and new proxy tasks stay registered;
//   - otherwise (load-balancer mode) the proxy is updated after the
//     listener: 443 and 8886 leave the proxy's TLS target groups before the
//     proxy deregisters from them; they are deleted in the stack's cleanup.
func orderSwitch(proxySvc awsecs.FargateService, plan listeners.Plan, public *listeners.Public) {
	for _, spec := range plan.Listeners {
		if !spec.Switch {
			continue
		}
		t, _ := plan.Target(spec.Target)
		if t.PassThrough {
			public.Listeners[spec.Port].AddDependency(proxySvc.Node().DefaultChild().(awscdk.CfnResource))
		} else {
			proxySvc.Node().AddDependency(public.Listeners[spec.Port])
		}
	}
}

// grantInteropRead lets a component read the interop repository: the objects
// under InteropPrefix of the interop bucket, listing only that prefix (so that
// a missing file is a 404, not a 403), and the data key through S3 only.
func grantInteropRead(svc *ttsservice.Service, data *Data, key awskms.IKey, region string) {
	bucket := data.InteropBucket.BucketArn()
	svc.TaskRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadInteropRepository"),
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: &[]*string{jsii.String(*bucket + "/" + InteropPrefix + "/*")},
	}))
	svc.TaskRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("ListInteropRepository"),
		Actions:    jsii.Strings("s3:ListBucket"),
		Resources:  &[]*string{bucket},
		Conditions: &map[string]any{"StringLike": map[string]any{"s3:prefix": []string{InteropPrefix + "/*"}}},
	}))
	svc.TaskRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DecryptInteropRepository"),
		Actions:    jsii.Strings("kms:Decrypt"),
		Resources:  &[]*string{key.KeyArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("s3.%s.amazonaws.com", region)}},
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(svc.TaskRole, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The Network and Application Server read the interop repository, whose file names the operator chooses: " +
			"objects under the " + InteropPrefix + "/ folder of the interop bucket only."),
		AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<[A-Za-z0-9]+\.Arn>\/` + InteropPrefix + `\/\*$/`)}},
	}}, jsii.Bool(true))
}

// grantRateLimitingRead lets a component read its rate limiting profiles:
// the one object rate-limiting.yml in the interop repository's folder, and
// the data key through S3 only (rate-limiting.config-source blob). The
// Network and Application Server read it through grantInteropRead.
func grantRateLimitingRead(role awsiam.Role, data *Data, key awskms.IKey, region string) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadRateLimitingProfiles"),
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: &[]*string{jsii.String(*data.InteropBucket.BucketArn() + "/" + InteropPrefix + "/" + ratelimit.FileName)},
	}))
	if key == nil {
		return
	}
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DecryptRateLimitingProfiles"),
		Actions:    jsii.Strings("kms:Decrypt"),
		Resources:  &[]*string{key.KeyArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("s3.%s.amazonaws.com", region)}},
	}))
}
