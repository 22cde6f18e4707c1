package stacks

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsservicediscovery"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/fargateservice"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/netbase"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/pictures"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/sesemail"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/ttsservice"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ttsconfig"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// AdminUserID is the administrator the Identity Server's bootstrap creates.
const AdminUserID = "admin"

// IdentityServerHealthGrace is how long the load balancer's health checks of
// a new Identity Server task are ignored. The database bootstrap runs before
// the service changes (DatabaseBootstrapRun), not in the task.
const IdentityServerHealthGrace = 90 * time.Second

// IdentityServer holds the ECS cluster of the deployment, with its Service
// Connect namespace, and the Identity Server's service. The Services stack
// runs the other components in the same cluster.
type IdentityServer struct {
	awscdk.Stack
	Cluster awsecs.Cluster
	// Namespace is the Service Connect namespace ServiceDomain.
	Namespace awsservicediscovery.INamespace
	Service   *ttsservice.Service
	// Targets are the Identity Server's target groups (listeners.NewTargets);
	// the Services stack's public listeners forward to them.
	Targets []*listeners.Target
	// Email is the SES identity, the SMTP user and its credentials; nil
	// when EmailSender is empty.
	Email *sesemail.Email
}

// IdentityServerProps are what the IdentityServer stack needs.
type IdentityServerProps struct {
	awscdk.StackProps
	Params        *params.Params
	Network       *Network
	Data          *Data
	LoadBalancer  *LoadBalancer
	Configuration *Configuration
	// ModuleDir is the folder of go.mod, to build the deploy-time function.
	ModuleDir string
}

// NewIdentityServer creates the IdentityServer stack.
func NewIdentityServer(scope constructs.Construct, id string, props IdentityServerProps) (*IdentityServer, error) {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	p, net, data, lb, cfg, moduleDir := props.Params, props.Network, props.Data, props.LoadBalancer, props.Configuration, props.ModuleDir
	ops, err := newOpsAccess(stack, p, data)
	if err != nil {
		return nil, err
	}
	var exec *awsecs.ExecuteCommandConfiguration
	if ops != nil {
		exec = ops.clusterConfiguration(stack)
	}
	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{
		Vpc:                 net.Vpc,
		ContainerInsightsV2: awsecs.ContainerInsights_ENHANCED,
		// An HTTP namespace: Service Connect resolves the names inside the
		// tasks, no private DNS zone is needed.
		DefaultCloudMapNamespace: &awsecs.CloudMapNamespaceOptions{
			Name:                 jsii.String(ServiceDomain),
			Type:                 awsservicediscovery.NamespaceType_HTTP,
			UseForServiceConnect: jsii.Bool(true),
		},
		ExecuteCommandConfiguration: exec,
	})
	out := &IdentityServer{Stack: stack, Cluster: cluster, Namespace: cluster.DefaultCloudMapNamespace()}

	targets, err := listeners.NewTargets(stack, "Front", listeners.TargetsProps{
		Vpc: net.Vpc, Nlb: net.Nlb.Nlb, NlbSecurityGroup: net.Nlb.SecurityGroup, Tasks: lb.Tasks, Plan: lb.Plan,
		Servers: []ports.Server{ports.ServerIS},
	})
	if err != nil {
		return nil, err
	}
	out.Targets = targets
	// Published in every mode (TLS mode, interop): the Services stack's 8886
	// listener forwards to the target group only in some, its alarm reads
	// it in all.
	for _, t := range targets {
		publish(t.Group, TargetGroupArnOutput(t.Key), "The load balancer's target group of the Identity Server's "+fmt.Sprint(t.Port), t.Group.TargetGroupArn())
		publish(t.Group, TargetGroupFullNameOutput(t.Key), "The TargetGroupFullName of the Identity Server's "+fmt.Sprint(t.Port)+" target group (a dimension of its metrics)",
			t.Group.TargetGroupFullName())
	}

	conf, err := cfg.Container(stack, ports.IdentityServer)
	if err != nil {
		return nil, err
	}
	served := []ports.Port{ports.GRPC(), ports.HTTP()}
	if p.InteropEnabledIS() {
		served = append(served, ports.Interop())
	}

	// The Data stack's resources are imported by ARN, as in the
	// Configuration stack: grants then go into this stack's roles only.
	key := awskms.Key_FromKeyArn(stack, jsii.String("DataKey"), data.Key.KeyArn())
	// E-mail: its own resources in this stack, so that turning it off
	// deletes them in this stack's cleanup, after the tasks that read the
	// credentials are gone.
	if p.EmailEnabled() {
		email, err := newEmail(stack, p, cfg, key, moduleDir)
		if err != nil {
			return nil, err
		}
		out.Email = email
		conf.Environment[SMTPCredentialsVersionVariable] = awscdk.Fn_Join(jsii.String(":"), &[]*string{jsii.String(p.EmailCredentialsVersion), email.VersionID})
	}
	if !p.EmailEnabled() {
		// Published in every mode: the Services stack's alarm reads it
		// while e-mail is on, and its rollback may read it after.
		publish(stack, FunctionNameOutput(SmtpCredentialsFunction), "No function makes SMTP credentials while EmailSender is empty", jsii.String("none"))
	}
	adminPassword := data.Secrets.ByID["admin-password"]
	if adminPassword == nil {
		return nil, fmt.Errorf("identity server: the Data stack has no admin-password secret")
	}
	adminSecret := awssecretsmanager.Secret_FromSecretAttributes(stack, jsii.String("AdminPassword"), &awssecretsmanager.SecretAttributes{
		SecretCompleteArn: adminPassword.SecretArn(),
		EncryptionKey:     key,
	})
	consoleSecret := cfg.Secrets[ttsconfig.SecretConsoleOAuth]
	if consoleSecret == nil {
		return nil, fmt.Errorf("identity server: the Configuration stack has no %s secret", ttsconfig.SecretConsoleOAuth)
	}

	svc, err := ttsservice.New(stack, "Service", ttsservice.Props{
		Cluster:          cluster,
		Namespace:        out.Namespace.NamespaceArn(),
		Subnets:          &awsec2.SubnetSelection{SubnetGroupName: jsii.String(netbase.PrivateSubnets)},
		SecurityGroup:    lb.Tasks.ByServer[ports.ServerIS],
		Name:             string(ports.IdentityServer),
		ServiceDomain:    ServiceDomain,
		Components:       []ports.Component{ports.IdentityServer},
		Image:            p.TTSImage,
		Environment:      conf.Environment,
		Secrets:          conf.Secrets,
		ConfigDigest:     conf.Digest,
		SecretsKey:       key,
		Ports:            served,
		Targets:          registered(targets),
		DesiredCount:     p.IdentityServerTasks,
		CPU:              p.IdentityServerCpu,
		MemoryMiB:        p.IdentityServerMemory,
		HealthCheckGrace: IdentityServerHealthGrace,
		HealthPath:       "/healthz",
		LogRetention:     retention(p.LogRetentionDays),
		Architecture:     fargateservice.Architecture(p.CpuArchitecture),
		Exec:             ops != nil,
	})
	if err != nil {
		return nil, err
	}
	out.Service = svc
	if ops != nil {
		ops.grant(svc)
		ops.operatorPolicy(stack, p, cluster)
		serviceOutput(stack, ports.IdentityServer, svc.Service)
	}
	if err := newDatabaseBootstrap(stack, p, out, lb.Tasks.ByServer[ports.ServerIS], moduleDir, map[string]awsecs.Secret{
		"ADMIN_PASSWORD": awsecs.Secret_FromSecretsManager(adminSecret, nil),
		"CONSOLE_SECRET": awsecs.Secret_FromSecretsManager(consoleSecret, nil),
	}); err != nil {
		return nil, err
	}

	// The Identity Server stores profile and end device pictures in the
	// pictures bucket (is.profile-picture.bucket, is.end-device-picture.bucket),
	// encrypted with S3's own key.
	svc.TaskRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadWritePictures"),
		Actions:   jsii.Strings("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
		Resources: &[]*string{jsii.String(*data.PicturesBucket.BucketArn() + "/" + pictures.ObjectPattern)},
	}))
	// Its rate limiting profiles; the data key is granted above.
	grantRateLimitingRead(svc.TaskRole, data, nil, p.Region)
	cdknag.NagSuppressions_AddResourceSuppressions(svc.TaskRole, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The Identity Server names picture objects itself (<user or device id>.<ULID>/<size>.<ext>) in the pictures bucket, " +
			"which holds nothing else: objects of that shape in that one bucket only."),
		AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<[A-Za-z0-9]+\.Arn>\/\*\.\?{26}\/\*$/`)}},
	}}, jsii.Bool(true))
	return out, nil
}

// registered returns the target groups whose server registers its tasks
// with these parameters.
func registered(targets []*listeners.Target) []*listeners.Target {
	var out []*listeners.Target
	for _, t := range targets {
		if t.Registered {
			out = append(out, t)
		}
	}
	return out
}
