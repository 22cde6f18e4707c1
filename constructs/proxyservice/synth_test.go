package proxyservice

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsservicediscovery"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/fargateservice"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

const testConfig = "events {}\nhttp { server { listen 1880; location = /healthz { return 200; } } }\n"

// newProxy synthesizes a proxy alone, serving one TCP target group on 443.
func newProxy(t *testing.T, tls func(awsec2.IVpc) *TLS) cdktest.Template {
	t.Helper()
	stack := cdktest.Stack(t)
	vpc := cdktest.VPC(stack)
	group := elbv2.NewNetworkTargetGroup(stack, jsii.String("Group"), &elbv2.NetworkTargetGroupProps{
		Vpc: vpc, Port: jsii.Number(443), Protocol: elbv2.Protocol_TCP, TargetType: elbv2.TargetType_IP,
	})
	ns := awsservicediscovery.NewPrivateDnsNamespace(stack, jsii.String("Ns"), &awsservicediscovery.PrivateDnsNamespaceProps{Name: jsii.String("tts.local"), Vpc: vpc})
	props := Props{
		Cluster: awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: vpc}), Namespace: ns.NamespaceArn(),
		Subnets:       &awsec2.SubnetSelection{SubnetGroupName: jsii.String(cdktest.PrivateSubnets)},
		SecurityGroup: awsec2.NewSecurityGroup(stack, jsii.String("Tasks"), &awsec2.SecurityGroupProps{Vpc: vpc}),
		Image:         "public.ecr.aws/nginx/nginx:1.27", Config: testConfig,
		Targets:    []*listeners.Target{{TargetSpec: listeners.TargetSpec{Key: "proxy-tcp443", Port: 443, Protocol: elbv2.Protocol_TCP}, Group: group}},
		HealthPort: 1880, HealthPath: "/healthz", DesiredCount: 2, CPU: 256, MemoryMiB: 512, HealthCheckGrace: 30 * time.Second,
		LogRetention: awslogs.RetentionDays_ONE_WEEK,
		Architecture: fargateservice.X86_64,
	}
	if tls != nil {
		props.TLS = tls(vpc)
	}
	if _, err := New(stack, "Proxy", props); err != nil {
		t.Fatal(err)
	}
	return cdktest.Synth(t, stack)
}

func container(t *testing.T, tpl cdktest.Template) map[string]any {
	t.Helper()
	defs, _ := tpl.Only(t, "AWS::ECS::TaskDefinition").Properties["ContainerDefinitions"].([]any)
	if len(defs) != 1 {
		t.Fatalf("%d containers, want 1", len(defs))
	}
	c, _ := defs[0].(map[string]any)
	return c
}

func TestProxyAlone(t *testing.T) {
	tpl := newProxy(t, nil)
	c := container(t, tpl)
	text := cdktest.JSON(c)
	if c["Image"] != "public.ecr.aws/nginx/nginx:1.27" {
		t.Errorf("image %v", c["Image"])
	}
	// The container starts nginx with the configuration it carries.
	if !strings.Contains(text, cdktest.JSON(StartScript())) || !strings.Contains(text, `"Name":"`+ConfigVariable+`","Value":`+cdktest.JSON(testConfig)) {
		t.Errorf("container %s does not run the start script with the configuration", text)
	}
	for _, port := range []string{`"ContainerPort":443`, `"ContainerPort":1880`} {
		if !strings.Contains(text, port) {
			t.Errorf("container maps no %s: %s", port, text)
		}
	}
	svc := tpl.Only(t, "AWS::ECS::Service").Properties
	if lbs := cdktest.JSON(svc["LoadBalancers"]); !strings.Contains(lbs, `"ContainerPort":443`) {
		t.Errorf("the service does not register port 443 with the target group: %s", lbs)
	}
	if sc := cdktest.JSON(svc["ServiceConnectConfiguration"]); !strings.Contains(sc, `"Enabled":true`) || strings.Contains(sc, `"Services"`) {
		t.Errorf("Service Connect %s: want a client only", sc)
	}
	if n := len(tpl.OfType("AWS::IAM::Policy")); n != 1 {
		t.Errorf("%d policies, want only the execution role's (logs): the plain proxy needs no AWS permission", n)
	}
}

func TestProxyAloneInTLSMode(t *testing.T) {
	tpl := newProxy(t, func(vpc awsec2.IVpc) *TLS {
		return &TLS{
			Image:      awsecs.ContainerImage_FromRegistry(jsii.String("example/proxy:1"), nil),
			SecretName: "test/tts/proxy-certificate", SecretArn: jsii.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:test/tts/proxy-certificate-??????"),
			SecretsKeyArn: jsii.String("arn:aws:kms:eu-west-1:123456789012:key/test"), Region: cdktest.Region, Domain: "tts.example.com",
			MetricNamespace: "Test/Certificates", MetricDimensions: "Domain=tts.example.com",
		}
	})
	text := cdktest.JSON(container(t, tpl))
	if !strings.Contains(text, cdktest.JSON(TLSStartScript(false))) || !strings.Contains(text, `"test/tts/proxy-certificate"`) {
		t.Errorf("container %s does not hand over to certsync with the certificate secret", text)
	}
	policies := cdktest.JSON(tpl.OfType("AWS::IAM::Policy"))
	for _, want := range []string{"test/tts/proxy-certificate-??????", `"kms:ViaService":"secretsmanager.eu-west-1.amazonaws.com"`, `"cloudwatch:namespace":"Test/Certificates"`} {
		if !strings.Contains(policies, want) {
			t.Errorf("policies lack %s: %s", want, policies)
		}
	}
}
