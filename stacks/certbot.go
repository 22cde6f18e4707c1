package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecrassets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/gofunction"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/netbase"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/removal"
	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// Fixed settings of the Certbot task (SupportProxyTLS).
const (
	// CertbotContainer is the name of the task's only container; the
	// deploy-time run reads its exit code.
	CertbotContainer = "certbot"
	CertbotCPU       = 256
	CertbotMemoryMiB = 512
	// CertbotTimeout bounds certbot inside the task, so that the task
	// stops well within the 15 minutes of the deploy-time function.
	CertbotTimeout = "10m"
	// CertMetricNamespace is where certbot-task, the deploy hook and the
	// proxy publish DaysToExpiry and RenewalFailure (dimension Domain).
	CertMetricNamespace = "TTS/Certificates"
	// ExpiryAlarmDays: alarm when the certificate has fewer days left.
	ExpiryAlarmDays = 14
	// ProxyCertificateSecret and AcmeAccountSecret are the last parts of
	// the names of the Data stack's secrets <prefix>/tts/<name>.
	ProxyCertificateSecret = "proxy-certificate"
	AcmeAccountSecret      = "acme-account"
)

// AlarmKeyAlias is the alias of the Data stack's alarm key.
func AlarmKeyAlias(prefix string) string { return "alias/" + prefix + "-alarms" }

// Certbot is the Certbot task of the Services stack and what runs it. Only
// LogGroup exists without SupportProxyTLS (see newCertbot).
type Certbot struct {
	LogGroup       awslogs.LogGroup
	TaskDefinition awsecs.FargateTaskDefinition
	TaskRole       awsiam.Role
	Schedule       awsevents.Rule
	// FirstRun is the deploy-time run; the proxy depends on it.
	FirstRun awscdk.CustomResource
}

// servicesInputs are what the Certbot task needs of the other stacks.
type servicesInputs struct {
	params    *params.Params
	net       *Network
	data      *Data
	lb        *LoadBalancer
	is        *IdentityServer
	moduleDir string
	// targets are the proxy's registered target groups.
	targets []*listeners.Target
	// alarms is the deployment's alarm topic.
	alarms awssns.ITopic
}

// newCertbot creates the Certbot task in proxy TLS mode: its image (built by
// `cdk deploy` from certbot/Dockerfile), a least-privilege task role, the
// renewal schedule, the run at deploy time and the alarms. The log group is
// created in both modes and retained, so that flipping SupportProxyTLS back
// neither deletes nor orphans Certbot's logs (the data-loss guard would
// refuse that).
func newCertbot(stack awscdk.Stack, in servicesInputs) (*Certbot, error) {
	p, data, lb, is := in.params, in.data, in.lb, in.is
	// The cluster by name, its ARN formatted here: the Services stack reads
	// the cluster's name in every mode, while a reference to its ARN would
	// make the IdentityServer stack publish an output in proxy TLS mode only,
	// and remove it, ahead of this stack's update, when the mode switches back.
	cluster := awsecs.Cluster_FromClusterAttributes(stack, jsii.String("CertbotCluster"), &awsecs.ClusterAttributes{
		ClusterName: is.Cluster.ClusterName(),
		ClusterArn: stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ecs"), Resource: jsii.String("cluster"),
			ResourceName: is.Cluster.ClusterName(), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME}),
		Vpc: is.Cluster.Vpc(),
	})
	out := &Certbot{}
	out.LogGroup = awslogs.NewLogGroup(stack, jsii.String("CertbotLogs"), &awslogs.LogGroupProps{
		Retention:     retention(p.LogRetentionDays),
		RemovalPolicy: removal.Keep(),
	})
	runnerLogs := awslogs.NewLogGroup(stack, jsii.String("CertbotRunnerLogs"), &awslogs.LogGroupProps{
		Retention:     retention(p.LogRetentionDays),
		RemovalPolicy: removal.Keep(),
	})
	if !p.ProxyTerminatesTLS() {
		return out, nil
	}
	if in.moduleDir == "" {
		return nil, fmt.Errorf("certbot: the module folder is needed to build the Certbot image; set stacks.Inputs.ModuleDir")
	}
	key := awskms.Key_FromKeyArn(stack, jsii.String("CertbotDataKey"), data.Key.KeyArn())
	// The secrets and the alarm key are named, not referenced: a reference
	// would add outputs to the Data stack in proxy mode only, and the Data
	// stack must not change with SupportProxyTLS.
	certName, accountName := p.StackPrefix+"/tts/"+ProxyCertificateSecret, p.StackPrefix+"/tts/"+AcmeAccountSecret
	secretArn := func(name string) *string {
		// Secrets Manager appends 6 random characters to the name.
		return jsii.String(fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-??????", *stack.Partition(), p.Region, p.Account, name))
	}
	certArn, accountArn := secretArn(certName), secretArn(accountName)

	image := awsecrassets.NewDockerImageAsset(stack, jsii.String("CertbotImage"), &awsecrassets.DockerImageAssetProps{
		Directory: jsii.String(in.moduleDir),
		File:      jsii.String("certbot/Dockerfile"),
		Platform:  awsecrassets.Platform_LINUX_AMD64(),
		// The build context is the module root; only what the image builds.
		IgnoreMode: awscdk.IgnoreMode_DOCKER,
		Exclude:    jsii.Strings("*", "!go.mod", "!go.sum", "!certbot", "certbot/integration"),
	})

	role := awsiam.NewRole(stack, jsii.String("CertbotTaskRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil),
		Description: jsii.String("Certbot task: DNS-01 TXT records of _acme-challenge." + p.DomainName + ", the certificate and ACME account secrets, certificate metrics"),
	})
	out.TaskRole = role
	zoneArn := fmt.Sprintf("arn:%s:route53:::hostedzone/%s", *stack.Partition(), p.HostedZoneId)
	statements := []*awsiam.PolicyStatementProps{
		{Sid: jsii.String("FindHostedZone"), Actions: jsii.Strings("route53:ListHostedZones"), Resources: jsii.Strings("*")},
		{Sid: jsii.String("WaitForDNSChange"), Actions: jsii.Strings("route53:GetChange"),
			Resources: jsii.Strings(fmt.Sprintf("arn:%s:route53:::change/*", *stack.Partition()))},
		{Sid: jsii.String("ACMEChallengeRecords"), Actions: jsii.Strings("route53:ChangeResourceRecordSets"), Resources: jsii.Strings(zoneArn),
			Conditions: &map[string]any{"ForAllValues:StringEquals": map[string]any{
				"route53:ChangeResourceRecordSetsRecordTypes":           []string{"TXT"},
				"route53:ChangeResourceRecordSetsActions":               []string{"UPSERT", "DELETE"},
				"route53:ChangeResourceRecordSetsNormalizedRecordNames": []string{"_acme-challenge." + p.DomainName},
			}}},
		{Sid: jsii.String("CertificateAndAccount"), Actions: jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:DescribeSecret"),
			Resources: &[]*string{certArn, accountArn}},
		{Sid: jsii.String("SecretsKey"), Actions: jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"), Resources: &[]*string{key.KeyArn()},
			Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("secretsmanager.%s.amazonaws.com", p.Region)}}},
		{Sid: jsii.String("CertificateMetrics"), Actions: jsii.Strings("cloudwatch:PutMetricData"), Resources: jsii.Strings("*"),
			Conditions: &map[string]any{"StringEquals": map[string]any{"cloudwatch:namespace": CertMetricNamespace}}},
	}
	for _, s := range statements {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(s))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("certbot-dns-route53 finds the hosted zone with route53:ListHostedZones, which has no resource-level permissions; " +
			"route53:GetChange is on change/* because change ids are generated; cloudwatch:PutMetricData has no resources and is limited to the " +
			CertMetricNamespace + " namespace. Record changes are limited to the hosted zone and TXT records of _acme-challenge." + p.DomainName + "."),
		AppliesTo: &[]any{"Resource::*", "Resource::arn:<AWS::Partition>:route53:::change/*", "Resource::arn:aws:route53:::change/*"},
	}}, jsii.Bool(true))

	task := awsecs.NewFargateTaskDefinition(stack, jsii.String("CertbotTask"), &awsecs.FargateTaskDefinitionProps{
		Family:         jsii.String(p.StackPrefix + "-certbot"),
		Cpu:            jsii.Number(CertbotCPU),
		MemoryLimitMiB: jsii.Number(CertbotMemoryMiB),
		TaskRole:       role,
		RuntimePlatform: &awsecs.RuntimePlatform{
			CpuArchitecture:       awsecs.CpuArchitecture_X86_64(),
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
		},
	})
	out.TaskDefinition = task
	task.AddContainer(jsii.String(CertbotContainer), &awsecs.ContainerDefinitionOptions{
		Image:     awsecs.ContainerImage_FromDockerImageAsset(image),
		Essential: jsii.Bool(true),
		Logging:   awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{LogGroup: out.LogGroup, StreamPrefix: jsii.String("certbot")}),
		Environment: &map[string]*string{
			"CERT_SECRET_ID":         jsii.String(certName),
			"ACME_ACCOUNT_SECRET_ID": jsii.String(accountName),
			"CERT_DOMAIN":            jsii.String(p.DomainName),
			"CERT_WILDCARD":          jsii.String("true"),
			"ACME_EMAIL":             jsii.String(p.AcmeEmail),
			"ACME_SERVER":            jsii.String(p.AcmeDirectory),
			"RENEW_BEFORE_DAYS":      jsii.String(fmt.Sprint(p.CertificateRenewDays)),
			"CERTBOT_TIMEOUT":        jsii.String(CertbotTimeout),
			"CERT_METRIC_NAMESPACE":  jsii.String(CertMetricNamespace),
			"CERT_METRIC_DIMENSIONS": jsii.String("Domain=" + p.DomainName),
			"AWS_REGION":             jsii.String(p.Region),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(task, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-ECS2"),
		Reason: jsii.String("The plain environment holds the settings of certbot-task (domain, ACME e-mail and directory, renewal threshold, " +
			"secret ARNs, metric namespace); no credential: the certificate and account are read from Secrets Manager by the program."),
	}}, jsii.Bool(false))
	cdknag.NagSuppressions_AddResourceSuppressions(task.ObtainExecutionRole(), &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("ecr:GetAuthorizationToken, which the execution role needs to pull the Certbot image from the CDK asset repository, " +
			"has no resource-level permissions; the pull actions are on that repository only."),
		AppliesTo: &[]any{"Resource::*"},
	}}, jsii.Bool(true))

	subnets := &awsec2.SubnetSelection{SubnetGroupName: jsii.String(netbase.PrivateSubnets)}
	out.Schedule = awsevents.NewRule(stack, jsii.String("CertbotSchedule"), &awsevents.RuleProps{
		Description: jsii.String("Runs the Certbot task, which renews the proxy's certificate when fewer than " + fmt.Sprint(p.CertificateRenewDays) + " days are left"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(p.CertificateRenewSchedule)),
	})
	out.Schedule.AddTarget(awseventstargets.NewEcsTask(&awseventstargets.EcsTaskProps{
		Cluster:         cluster,
		TaskDefinition:  task,
		TaskCount:       jsii.Number(1),
		SubnetSelection: subnets,
		SecurityGroups:  &[]awsec2.ISecurityGroup{lb.Tasks.Internal},
		LaunchType:      awsecs.LaunchType_FARGATE,
		PlatformVersion: awsecs.FargatePlatformVersion_LATEST,
	}))

	cdknag.NagSuppressions_AddResourceSuppressions(task, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The schedule's role (EventsRole, made by the ECS task target) may tag the tasks it starts, which EventBridge does at RunTask; " +
			"task ARNs are generated, so the resource is the tasks of this cluster only. RunTask itself names the Certbot task definition."),
		AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:aws:ecs:[a-z0-9-]+:\*:task\/<Cluster[A-Z0-9]+>\/\*$/`)}},
	}}, jsii.Bool(true))

	fn, err := gofunction.New(stack, "CertbotRunner", gofunction.Props{
		ModuleDir:    in.moduleDir,
		Package:      "./internal/run/cmd/deploy-resources",
		Description:  "Runs the Certbot task at deploy time and waits for its exit code",
		Timeout:      awscdk.Duration_Minutes(jsii.Number(15)),
		LogRetention: retention(p.LogRetentionDays),
		LogGroup:     runnerLogs,
	})
	if err != nil {
		return nil, err
	}
	family := fmt.Sprintf("arn:%s:ecs:%s:%s:task-definition/%s:*", *stack.Partition(), p.Region, p.Account, p.StackPrefix+"-certbot")
	fn.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("RunCertbotTask"),
		Actions:    jsii.Strings("ecs:RunTask"),
		Resources:  jsii.Strings(family),
		Conditions: &map[string]any{"ArnEquals": map[string]any{"ecs:cluster": cluster.ClusterArn()}},
	}))
	fn.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("WatchCertbotTask"),
		Actions:    jsii.Strings("ecs:DescribeTasks"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnEquals": map[string]any{"ecs:cluster": cluster.ClusterArn()}},
	}))
	fn.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("PassCertbotRoles"),
		Actions:   jsii.Strings("iam:PassRole"),
		Resources: &[]*string{role.RoleArn(), task.ObtainExecutionRole().RoleArn()},
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(fn.Role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("ecs:RunTask names the Certbot task definition family (" + p.StackPrefix + "-certbot:*, any revision) and the cluster; " +
			"ecs:DescribeTasks is limited to the cluster by condition, because the task ARN is known only after RunTask."),
		AppliesTo: &[]any{"Resource::" + family, "Resource::*"},
	}}, jsii.Bool(true))
	var subnetIDs []string
	for _, s := range *cluster.Vpc().SelectSubnets(subnets).Subnets {
		subnetIDs = append(subnetIDs, *s.SubnetId())
	}
	out.FirstRun = awscdk.NewCustomResource(stack, jsii.String("CertbotFirstRun"), &awscdk.CustomResourceProps{
		ServiceToken: fn.Function.FunctionArn(),
		ResourceType: jsii.String(deployres.CertbotRunType),
		Properties: deployres.CertbotRunProps{
			Task: deployres.Task{
				Cluster:        *cluster.ClusterArn(),
				TaskDefinition: *task.TaskDefinitionArn(),
				Container:      CertbotContainer,
				Subnets:        subnetIDs,
				SecurityGroups: []string{*lb.Tasks.Internal.SecurityGroupId()},
				LogGroup:       *out.LogGroup.LogGroupName(),
			},
			Domain: p.DomainName,
		}.Properties(),
	})
	out.FirstRun.Node().AddDependency(fn.Role)

	certbotAlarms(stack, in)
	return out, nil
}

// certbotAlarms creates the alarms of proxy TLS mode, to the deployment's
// alarm topic: certificate expiry and failed renewal.
func certbotAlarms(stack awscdk.Stack, in servicesInputs) {
	p, topic := in.params, in.alarms
	action := awscloudwatchactions.NewSnsAction(topic)
	dims := &map[string]*string{"Domain": jsii.String(p.DomainName)}
	expiry := awscloudwatch.NewAlarm(stack, jsii.String("CertificateExpiryAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("The proxy's certificate for %s has fewer than %d days left, or no run reported it for a day: see the Certbot log group", p.DomainName, ExpiryAlarmDays)),
		Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(CertMetricNamespace), MetricName: jsii.String("DaysToExpiry"), DimensionsMap: dims,
			Statistic: jsii.String("Minimum"), Period: awscdk.Duration_Days(jsii.Number(1)),
		}),
		Threshold:          jsii.Number(ExpiryAlarmDays),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
	})
	failure := awscloudwatch.NewAlarm(stack, jsii.String("CertificateRenewalFailureAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("The Certbot task failed to renew the proxy's certificate for " + p.DomainName + ": see the Certbot log group"),
		Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(CertMetricNamespace), MetricName: jsii.String("RenewalFailure"), DimensionsMap: dims,
			Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Hours(jsii.Number(1)),
		}),
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	for _, a := range []awscloudwatch.Alarm{expiry, failure} {
		a.AddAlarmAction(action)
	}
}
