package certbottask

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/fargateservice"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

func TestCertbotTaskAlone(t *testing.T) {
	stack := cdktest.Stack(t)
	vpc := cdktest.VPC(stack)
	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: vpc})
	c, err := New(stack, "Certbot", Props{
		ModuleDir:             "../..",
		Family:                "test-certbot",
		Cluster:               cluster,
		Subnets:               &awsec2.SubnetSelection{SubnetGroupName: jsii.String(cdktest.PrivateSubnets)},
		SecurityGroup:         awsec2.NewSecurityGroup(stack, jsii.String("Tasks"), &awsec2.SecurityGroupProps{Vpc: vpc}),
		Region:                cdktest.Region,
		Account:               cdktest.Account,
		Domain:                "tts.example.com",
		HostedZoneID:          "Z0123456789EXAMPLE00",
		AcmeEmail:             "ops@example.com",
		AcmeDirectory:         "staging",
		CertificateSecretName: "test/tts/proxy-certificate",
		AccountSecretName:     "test/tts/acme-account",
		SecretsKey:            awskms.NewKey(stack, jsii.String("Key"), nil),
		RenewBeforeDays:       30,
		RenewSchedule:         "cron(17 3 * * ? *)",
		MetricNamespace:       "Test/Certificates",
		LogGroup:              awslogs.NewLogGroup(stack, jsii.String("Logs"), nil),
		RunnerLogGroup:        awslogs.NewLogGroup(stack, jsii.String("RunnerLogs"), nil),
		LogRetention:          awslogs.RetentionDays_ONE_WEEK,
		Architecture:          fargateservice.ARM64,
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.FirstRun == nil || c.Schedule == nil || c.TaskDefinition == nil || c.TaskRole == nil {
		t.Fatalf("incomplete result %+v", c)
	}
	tpl := cdktest.Synth(t, stack)

	td := tpl.Only(t, "AWS::ECS::TaskDefinition")
	if td.Properties["Family"] != "test-certbot" || td.Properties["Cpu"] != "256" || td.Properties["Memory"] != "512" {
		t.Errorf("task definition %v", td.Properties)
	}
	defs, _ := td.Properties["ContainerDefinitions"].([]any)
	if len(defs) != 1 {
		t.Fatalf("%d containers, want 1", len(defs))
	}
	env := map[string]string{}
	def, _ := defs[0].(map[string]any)
	envList, _ := def["Environment"].([]any)
	for _, e := range envList {
		m, _ := e.(map[string]any)
		name, _ := m["Name"].(string)
		value, _ := m["Value"].(string)
		env[name] = value
	}
	for k, want := range map[string]string{
		"CERT_DOMAIN": "tts.example.com", "CERT_SECRET_ID": "test/tts/proxy-certificate", "ACME_ACCOUNT_SECRET_ID": "test/tts/acme-account",
		"ACME_SERVER": "staging", "RENEW_BEFORE_DAYS": "30", "CERT_METRIC_NAMESPACE": "Test/Certificates", "AWS_REGION": cdktest.Region,
	} {
		if env[k] != want {
			t.Errorf("container environment %s = %q, want %q", k, env[k], want)
		}
	}
	if def["Name"] != Container {
		t.Errorf("container %v, want %s", def["Name"], Container)
	}

	rule := tpl.Only(t, "AWS::Events::Rule")
	if rule.Properties["ScheduleExpression"] != "cron(17 3 * * ? *)" {
		t.Errorf("schedule %v", rule.Properties["ScheduleExpression"])
	}
	// The platform version is pinned like that of every service, so that a
	// new Fargate platform never reaches the renewal runs unannounced.
	targets, _ := rule.Properties["Targets"].([]any)
	if len(targets) != 1 {
		t.Fatalf("%d schedule targets, want 1", len(targets))
	}
	target, _ := targets[0].(map[string]any)
	ecsParams, _ := target["EcsParameters"].(map[string]any)
	if ecsParams["PlatformVersion"] != "1.4.0" || ecsParams["LaunchType"] != "FARGATE" {
		t.Errorf("schedule target's ECS parameters %v, want Fargate platform 1.4.0", ecsParams)
	}

	// The deploy-time run: what the construct writes is what the handler reads.
	run := tpl.Only(t, deployres.CertbotRunType)
	props, _ := cdktest.Deployed(run.Properties).(map[string]any)
	delete(props, "ServiceToken")
	p, err := deployres.ParseCertbotRunProps(props)
	if err != nil {
		t.Fatal(err)
	}
	if p.Container != Container || p.Domain != "tts.example.com" || len(p.Subnets) != 2 || len(p.SecurityGroups) != 1 {
		t.Errorf("Custom::CertbotRun properties %+v", p)
	}
	if len(run.DependsOn) == 0 {
		t.Error("the run does not wait for its function's role and its grants")
	}

	// The task role may change TXT records of _acme-challenge.<domain> only.
	policies, _ := json.Marshal(tpl.OfType("AWS::IAM::Policy"))
	for _, want := range []string{`"_acme-challenge.tts.example.com"`, `"route53:ChangeResourceRecordSets"`, `:ecs:eu-west-1:123456789012:task-definition/test-certbot:*`} {
		if !strings.Contains(string(policies), want) {
			t.Errorf("policies lack %s", want)
		}
	}
}

func TestCertbotPropsAreValidated(t *testing.T) {
	err := Props{Family: "bad family", Domain: "Example", HostedZoneID: "zone", AcmeEmail: "ops", AcmeDirectory: "http://acme",
		RenewBeforeDays: 90, RenewSchedule: "daily"}.validate()
	if err == nil {
		t.Fatal("accepted")
	}
	got := diag.FromError(err)
	for _, code := range []string{"certbottask.missing-module-dir", "certbottask.missing-scope", "certbottask.bad-family",
		"certbottask.missing-account", "certbottask.bad-domain", "certbottask.bad-hosted-zone", "certbottask.bad-acme-email",
		"certbottask.bad-acme-directory", "certbottask.bad-secret-names", "certbottask.bad-renew-days", "certbottask.bad-schedule",
		"certbottask.missing-metric-namespace"} {
		if !got.Has(code) {
			t.Errorf("no %s in %v", code, err)
		}
	}
}
