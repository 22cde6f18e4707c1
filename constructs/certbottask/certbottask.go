// Package certbottask creates the Certbot task of proxy TLS mode: its image
// (built by `cdk deploy` from certbot/Dockerfile), a least-privilege task
// role, the renewal schedule and the run at deploy time, which the proxy
// waits for so that nginx never starts without a certificate.
//
// The log groups are the caller's: they exist in both TLS modes and are
// retained, so that switching the mode back neither deletes nor orphans
// Certbot's logs.
package certbottask

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecrassets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/fargateservice"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/gofunction"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
)

// Fixed settings of the task.
const (
	// Container is the name of the task's only container; the deploy-time
	// run reads its exit code.
	Container = "certbot"
	CPU       = 256
	MemoryMiB = 512
	// Timeout bounds certbot inside the task, so that the task stops well
	// within the 15 minutes of the deploy-time function.
	Timeout = "10m"
)

// Props configure the Certbot task.
type Props struct {
	// ModuleDir is the folder of this module's go.mod: the build context of
	// certbot/Dockerfile and of the deploy-time function.
	ModuleDir string
	// Family of the task definition; the deploy-time function may run any
	// revision of it.
	Family string
	// Cluster, Subnets and SecurityGroup: where the task runs.
	Cluster       awsecs.ICluster
	Subnets       *awsec2.SubnetSelection
	SecurityGroup awsec2.ISecurityGroup
	// Region and Account of the stack, in the ARNs the roles are granted.
	Region, Account string
	// Domain is the certificate's domain (the certificate also covers
	// *.Domain); HostedZoneID is its Route 53 zone, where the DNS-01 TXT
	// records are written.
	Domain, HostedZoneID string
	// AcmeEmail and AcmeDirectory: the ACME account's e-mail and the ACME
	// server (production, staging or a directory URL; certbot-task reads it).
	AcmeEmail, AcmeDirectory string
	// CertificateSecretName and AccountSecretName are the names of the
	// secrets of the certificate and of the ACME account; SecretsKey
	// encrypts them.
	CertificateSecretName, AccountSecretName string
	SecretsKey                               awskms.IKey
	// RenewBeforeDays: the task renews when fewer days are left.
	RenewBeforeDays int
	// RenewSchedule is the EventBridge schedule expression of the renewal
	// runs, e.g. "cron(17 3 * * ? *)".
	RenewSchedule string
	// MetricNamespace is where the task publishes DaysToExpiry and
	// RenewalFailure (dimension Domain).
	MetricNamespace string
	// LogGroup receives the task's logs, RunnerLogGroup the deploy-time
	// function's; LogRetention is the function's retention.
	LogGroup, RunnerLogGroup awslogs.LogGroup
	LogRetention             awslogs.RetentionDays
	// Architecture of the task and of the image built for it.
	Architecture fargateservice.Architecture
}

var (
	familyPattern     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	schedulePattern   = regexp.MustCompile(`^(cron|rate)\(.+\)$`)
	domainPattern     = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	hostedZonePattern = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
)

func (p Props) validate() error {
	var errs diag.List
	if p.ModuleDir == "" {
		errs.Errorf("certbottask.missing-module-dir", "ModuleDir", "is required: the module folder is the build context of the Certbot image")
	}
	if p.Cluster == nil || p.Subnets == nil || p.SecurityGroup == nil || p.SecretsKey == nil || p.LogGroup == nil || p.RunnerLogGroup == nil {
		errs.Errorf("certbottask.missing-scope", "Cluster", "Cluster, Subnets, SecurityGroup, SecretsKey, LogGroup and RunnerLogGroup are required")
	}
	if !familyPattern.MatchString(p.Family) {
		errs.Errorf("certbottask.bad-family", "Family", "%q must be 1 to 255 letters, digits, hyphens and underscores", p.Family)
	}
	if p.Region == "" || p.Account == "" {
		errs.Errorf("certbottask.missing-account", "Region", "Region and Account are required: the roles are granted ARNs of this account and region")
	}
	if !domainPattern.MatchString(p.Domain) {
		errs.Errorf("certbottask.bad-domain", "Domain", "%q must be a lower-case DNS name such as tts.example.com", p.Domain)
	}
	if !hostedZonePattern.MatchString(p.HostedZoneID) {
		errs.Errorf("certbottask.bad-hosted-zone", "HostedZoneID", "%q must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ", p.HostedZoneID)
	}
	if !strings.Contains(p.AcmeEmail, "@") {
		errs.Errorf("certbottask.bad-acme-email", "AcmeEmail", "%q must be an e-mail address: the ACME server sends expiry notices there", p.AcmeEmail)
	}
	if p.AcmeDirectory != "production" && p.AcmeDirectory != "staging" && !strings.HasPrefix(p.AcmeDirectory, "https://") {
		errs.Errorf("certbottask.bad-acme-directory", "AcmeDirectory", "%q must be production, staging or the https:// URL of an ACME directory", p.AcmeDirectory)
	}
	if p.CertificateSecretName == "" || p.AccountSecretName == "" || p.CertificateSecretName == p.AccountSecretName {
		errs.Errorf("certbottask.bad-secret-names", "CertificateSecretName", "CertificateSecretName and AccountSecretName are required and must differ")
	}
	if p.RenewBeforeDays < 1 || p.RenewBeforeDays > 89 {
		errs.Errorf("certbottask.bad-renew-days", "RenewBeforeDays", "%d must be between 1 and 89: certificates of Let's Encrypt last 90 days", p.RenewBeforeDays)
	}
	if !schedulePattern.MatchString(p.RenewSchedule) {
		errs.Errorf("certbottask.bad-schedule", "RenewSchedule", "%q must be an EventBridge schedule expression, cron(...) or rate(...)", p.RenewSchedule)
	}
	if !p.Architecture.Valid() {
		errs.Errorf("certbottask.bad-architecture", "Architecture", "%q: give fargateservice.ARM64 or fargateservice.X86_64", p.Architecture)
	}
	if p.MetricNamespace == "" {
		errs.Errorf("certbottask.missing-metric-namespace", "MetricNamespace", "is required: the certificate alarms read it")
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("certbottask:\n%w", err)
	}
	return nil
}

// Certbot is the task and what runs it.
type Certbot struct {
	TaskDefinition awsecs.FargateTaskDefinition
	TaskRole       awsiam.Role
	Schedule       awsevents.Rule
	// FirstRun is the deploy-time run; whatever needs the certificate
	// depends on it.
	FirstRun awscdk.CustomResource
}

// New creates the task in scope. Its resources are children of scope whose
// ids start with id (idImage, idTaskRole, idExecutionRole, idTask,
// idSchedule, idRunner, idFirstRun), not of a construct of its own, so that the logical ids are
// those the stack had before this construct existed.
func New(scope constructs.Construct, id string, props Props) (*Certbot, error) {
	if err := props.validate(); err != nil {
		return nil, err
	}
	p := props
	partition := *awscdk.Stack_Of(scope).Partition()
	secretArn := func(name string) *string {
		// Secrets Manager appends 6 random characters to the name.
		return jsii.String(fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-??????", partition, p.Region, p.Account, name))
	}
	out := &Certbot{}
	image := awsecrassets.NewDockerImageAsset(scope, jsii.String(id+"Image"), &awsecrassets.DockerImageAssetProps{
		Directory: jsii.String(p.ModuleDir),
		File:      jsii.String("certbot/Dockerfile"),
		Platform:  p.Architecture.Platform(),
		// The build context is the module root; only what the image builds.
		IgnoreMode: awscdk.IgnoreMode_DOCKER,
		Exclude:    jsii.Strings("*", "!go.mod", "!go.sum", "!certbot", "certbot/integration", "!internal/pemkey", "**/*_test.go"),
	})

	t := fargateservice.NewTask(scope, fargateservice.TaskProps{
		ID:                       id,
		Family:                   p.Family,
		CPU:                      CPU,
		MemoryMiB:                MemoryMiB,
		Architecture:             p.Architecture,
		TaskRoleDescription:      "Certbot task: DNS-01 TXT records of _acme-challenge." + p.Domain + ", the certificate and ACME account secrets, certificate metrics",
		ExecutionRoleDescription: "Certbot task: pulls the Certbot image and writes the task's logs",
		LogGroup:                 p.LogGroup,
	})
	role := t.TaskRole
	out.TaskRole = role
	zoneArn := fmt.Sprintf("arn:%s:route53:::hostedzone/%s", partition, p.HostedZoneID)
	statements := []*awsiam.PolicyStatementProps{
		{Sid: jsii.String("FindHostedZone"), Actions: jsii.Strings("route53:ListHostedZones"), Resources: jsii.Strings("*")},
		{Sid: jsii.String("WaitForDNSChange"), Actions: jsii.Strings("route53:GetChange"),
			Resources: jsii.Strings(fmt.Sprintf("arn:%s:route53:::change/*", partition))},
		{Sid: jsii.String("ACMEChallengeRecords"), Actions: jsii.Strings("route53:ChangeResourceRecordSets"), Resources: jsii.Strings(zoneArn),
			Conditions: &map[string]any{"ForAllValues:StringEquals": map[string]any{
				"route53:ChangeResourceRecordSetsRecordTypes":           []string{"TXT"},
				"route53:ChangeResourceRecordSetsActions":               []string{"UPSERT", "DELETE"},
				"route53:ChangeResourceRecordSetsNormalizedRecordNames": []string{"_acme-challenge." + p.Domain},
			}}},
		{Sid: jsii.String("CertificateAndAccount"), Actions: jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:DescribeSecret"),
			Resources: &[]*string{secretArn(p.CertificateSecretName), secretArn(p.AccountSecretName)}},
		{Sid: jsii.String("SecretsKey"), Actions: jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"), Resources: &[]*string{p.SecretsKey.KeyArn()},
			Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("secretsmanager.%s.amazonaws.com", p.Region)}}},
		{Sid: jsii.String("CertificateMetrics"), Actions: jsii.Strings("cloudwatch:PutMetricData"), Resources: jsii.Strings("*"),
			Conditions: &map[string]any{"StringEquals": map[string]any{"cloudwatch:namespace": p.MetricNamespace}}},
	}
	for _, s := range statements {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(s))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("certbot-dns-route53 finds the hosted zone with route53:ListHostedZones, which has no resource-level permissions; " +
			"route53:GetChange is on change/* because change ids are generated; cloudwatch:PutMetricData has no resources and is limited to the " +
			p.MetricNamespace + " namespace. Record changes are limited to the hosted zone and TXT records of _acme-challenge." + p.Domain + "."),
		AppliesTo: &[]any{"Resource::*", "Resource::arn:<AWS::Partition>:route53:::change/*", "Resource::arn:aws:route53:::change/*"},
	}}, jsii.Bool(true))

	task := t.Definition
	out.TaskDefinition = task
	task.AddContainer(jsii.String(Container), &awsecs.ContainerDefinitionOptions{
		Image:     awsecs.ContainerImage_FromDockerImageAsset(image),
		Essential: jsii.Bool(true),
		Logging:   t.Logs("certbot"),
		Environment: &map[string]*string{
			"CERT_SECRET_ID":         jsii.String(p.CertificateSecretName),
			"ACME_ACCOUNT_SECRET_ID": jsii.String(p.AccountSecretName),
			"CERT_DOMAIN":            jsii.String(p.Domain),
			"CERT_WILDCARD":          jsii.String("true"),
			"ACME_EMAIL":             jsii.String(p.AcmeEmail),
			"ACME_SERVER":            jsii.String(p.AcmeDirectory),
			"RENEW_BEFORE_DAYS":      jsii.String(fmt.Sprint(p.RenewBeforeDays)),
			"CERTBOT_TIMEOUT":        jsii.String(Timeout),
			"CERT_METRIC_NAMESPACE":  jsii.String(p.MetricNamespace),
			"CERT_METRIC_DIMENSIONS": jsii.String("Domain=" + p.Domain),
			"AWS_REGION":             jsii.String(p.Region),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(task, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-ECS2"),
		Reason: jsii.String("The plain environment holds the settings of certbot-task (domain, ACME e-mail and directory, renewal threshold, " +
			"secret ARNs, metric namespace); no credential: the certificate and account are read from Secrets Manager by the program."),
	}}, jsii.Bool(false))
	cdknag.NagSuppressions_AddResourceSuppressions(t.ExecutionRole, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("ecr:GetAuthorizationToken, which the execution role needs to pull the Certbot image from the CDK asset repository, " +
			"has no resource-level permissions; the pull actions are on that repository only."),
		AppliesTo: &[]any{"Resource::*"},
	}}, jsii.Bool(true))

	out.Schedule = awsevents.NewRule(scope, jsii.String(id+"Schedule"), &awsevents.RuleProps{
		Description: jsii.String("Runs the Certbot task, which renews the proxy's certificate when fewer than " + fmt.Sprint(p.RenewBeforeDays) + " days are left"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(p.RenewSchedule)),
	})
	out.Schedule.AddTarget(awseventstargets.NewEcsTask(&awseventstargets.EcsTaskProps{
		Cluster:         p.Cluster,
		TaskDefinition:  task,
		TaskCount:       jsii.Number(1),
		SubnetSelection: p.Subnets,
		SecurityGroups:  &[]awsec2.ISecurityGroup{p.SecurityGroup},
		LaunchType:      awsecs.LaunchType_FARGATE,
		PlatformVersion: awsecs.FargatePlatformVersion_VERSION1_4,
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(task, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The schedule's role (EventsRole, made by the ECS task target) may tag the tasks it starts, which EventBridge does at RunTask; " +
			"task ARNs are generated, so the resource is the tasks of this cluster only. RunTask itself names the Certbot task definition."),
		AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:aws:ecs:[a-z0-9-]+:\*:task\/<Cluster[A-Z0-9]+>\/\*$/`)}},
	}}, jsii.Bool(true))

	firstRun, err := newFirstRun(scope, id, p, t)
	if err != nil {
		return nil, err
	}
	out.FirstRun = firstRun
	return out, nil
}

// newFirstRun creates the deploy-time function and its run of the task.
func newFirstRun(scope constructs.Construct, id string, p Props, t *fargateservice.Task) (awscdk.CustomResource, error) {
	fn, err := gofunction.New(scope, id+"Runner", gofunction.Props{
		ModuleDir:    p.ModuleDir,
		Package:      "./internal/run/cmd/deploy-resources",
		Description:  "Runs the Certbot task at deploy time and waits for its exit code",
		Timeout:      awscdk.Duration_Minutes(jsii.Number(15)),
		LogRetention: p.LogRetention,
		LogGroup:     p.RunnerLogGroup,
	})
	if err != nil {
		return nil, err
	}
	if err := fargateservice.GrantRunTask(fn.Role, fargateservice.RunGrant{
		Name: "Certbot", What: "the Certbot", Family: p.Family, Region: p.Region, Account: p.Account,
		Cluster: p.Cluster, Roles: []awsiam.IRole{t.TaskRole, t.ExecutionRole},
	}); err != nil {
		return nil, err
	}
	run := awscdk.NewCustomResource(scope, jsii.String(id+"FirstRun"), &awscdk.CustomResourceProps{
		ServiceToken: fn.Function.FunctionArn(),
		ResourceType: jsii.String(deployres.CertbotRunType),
		Properties: deployres.CertbotRunProps{
			Task: deployres.Task{
				Cluster:        *p.Cluster.ClusterArn(),
				TaskDefinition: *t.Definition.TaskDefinitionArn(),
				Container:      Container,
				Subnets:        fargateservice.SubnetIDs(p.Cluster, p.Subnets),
				SecurityGroups: []string{*p.SecurityGroup.SecurityGroupId()},
				LogGroup:       *p.LogGroup.LogGroupName(),
			},
			Domain: p.Domain,
		}.Properties(),
	})
	run.Node().AddDependency(fn.Role)
	return run, nil
}
