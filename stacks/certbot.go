package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/certbottask"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/fargateservice"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/netbase"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/removal"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// Settings of proxy TLS mode shared by the Certbot task, the proxy and the
// alarms.
const (
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

// Certbot is the Certbot task of the Services stack, its log groups and what
// runs it.
type Certbot struct {
	LogGroup awslogs.LogGroup
	// Task is nil without SupportProxyTLS.
	Task *certbottask.Certbot
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
	// alarms creates the deployment's alarms.
	alarms *alarmSet
}

// newCertbot creates the Certbot task in proxy TLS mode, and its alarms. The
// log groups are created in both modes and retained, so that flipping
// SupportProxyTLS back neither deletes nor orphans Certbot's logs (the
// data-loss guard would refuse that).
func newCertbot(stack awscdk.Stack, in servicesInputs) (*Certbot, error) {
	p, data, lb, is := in.params, in.data, in.lb, in.is
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
	// The secrets and the alarm key are named, not referenced: a reference
	// would add outputs to the Data stack in proxy mode only, and the Data
	// stack must not change with SupportProxyTLS.
	task, err := certbottask.New(stack, "Certbot", certbottask.Props{
		ModuleDir:             in.moduleDir,
		Family:                p.StackPrefix + "-certbot",
		Cluster:               cluster,
		Subnets:               &awsec2.SubnetSelection{SubnetGroupName: jsii.String(netbase.PrivateSubnets)},
		SecurityGroup:         lb.Tasks.Internal,
		Region:                p.Region,
		Account:               p.Account,
		Domain:                p.DomainName,
		HostedZoneID:          p.HostedZoneId,
		AcmeEmail:             p.AcmeEmail,
		AcmeDirectory:         p.AcmeDirectory,
		CertificateSecretName: p.StackPrefix + "/tts/" + ProxyCertificateSecret,
		AccountSecretName:     p.StackPrefix + "/tts/" + AcmeAccountSecret,
		SecretsKey:            awskms.Key_FromKeyArn(stack, jsii.String("CertbotDataKey"), data.Key.KeyArn()),
		RenewBeforeDays:       p.CertificateRenewDays,
		RenewSchedule:         p.CertificateRenewSchedule,
		MetricNamespace:       CertMetricNamespace,
		LogGroup:              out.LogGroup,
		RunnerLogGroup:        runnerLogs,
		LogRetention:          retention(p.LogRetentionDays),
		Architecture:          fargateservice.Architecture(p.CpuArchitecture),
	})
	if err != nil {
		return nil, err
	}
	out.Task = task
	certbotAlarms(stack, in)
	return out, nil
}

// certbotAlarms creates the alarms of proxy TLS mode, to the deployment's
// alarm topic: certificate expiry and failed renewal.
func certbotAlarms(stack awscdk.Stack, in servicesInputs) {
	p := in.params
	dims := map[string]*string{"Domain": jsii.String(p.DomainName)}
	in.alarms.add("CertificateExpiryAlarm", "proxy-certificate-expiry", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("The proxy's certificate for %s has fewer than %d days left, or no run reported it for a day: see the Certbot log group", p.DomainName, ExpiryAlarmDays)),
		Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(CertMetricNamespace), MetricName: jsii.String("DaysToExpiry"), DimensionsMap: &dims,
			Statistic: jsii.String("Minimum"), Period: awscdk.Duration_Days(jsii.Number(1)),
		}),
		Threshold:          jsii.Number(ExpiryAlarmDays),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
	})
	in.alarms.add("CertificateRenewalFailureAlarm", "proxy-certificate-renewal-failure", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("The Certbot task failed to renew the proxy's certificate for " + p.DomainName + ": see the Certbot log group"),
		Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(CertMetricNamespace), MetricName: jsii.String("RenewalFailure"), DimensionsMap: &dims,
			Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Hours(jsii.Number(1)),
		}),
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}
