package ttsservice

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsservicediscovery"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/fargateservice"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

// containers returns the only container of each task definition, by the
// task definition's logical id.
func containers(t *testing.T, tpl cdktest.Template) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, td := range tpl.OfType("AWS::ECS::TaskDefinition") {
		defs, _ := td.Properties["ContainerDefinitions"].([]any)
		if len(defs) != 1 {
			t.Fatalf("%s has %d containers, want 1", id, len(defs))
		}
		out[id], _ = defs[0].(map[string]any)
	}
	return out
}

func TestServiceAndJobAlone(t *testing.T) {
	stack := cdktest.Stack(t)
	vpc := cdktest.VPC(stack)
	key := awskms.NewKey(stack, jsii.String("Key"), nil)
	redis := awssecretsmanager.NewSecret(stack, jsii.String("Redis"), &awssecretsmanager.SecretProps{EncryptionKey: key})
	ns := awsservicediscovery.NewPrivateDnsNamespace(stack, jsii.String("Ns"), &awsservicediscovery.PrivateDnsNamespaceProps{Name: jsii.String("tts.local"), Vpc: vpc})
	svc, err := New(stack, "IS", Props{
		Cluster: awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: vpc}), Namespace: ns.NamespaceArn(),
		Subnets:       &awsec2.SubnetSelection{SubnetGroupName: jsii.String(cdktest.PrivateSubnets)},
		SecurityGroup: awsec2.NewSecurityGroup(stack, jsii.String("Tasks"), &awsec2.SecurityGroupProps{Vpc: vpc}),
		Name:          "is", ServiceDomain: "tts.local", Components: []ports.Component{ports.IdentityServer},
		Image: "thethingsnetwork/lorawan-stack:3.32.1", ConfigDigest: "0123456789abcdef",
		Environment: map[string]*string{"TTN_LW_IS_EMAIL_PROVIDER": jsii.String("")},
		Secrets:     map[string]awsecs.Secret{"TTN_LW_REDIS_PASSWORD": awsecs.Secret_FromSecretsManager(redis, nil)},
		SecretsKey:  key, Ports: []ports.Port{ports.GRPC(), ports.HTTP()},
		DesiredCount: 2, CPU: 512, MemoryMiB: 1024, HealthCheckGrace: time.Minute, HealthPath: "/healthz", LogRetention: awslogs.RetentionDays_ONE_WEEK, Architecture: fargateservice.ARM64,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Job(stack, "Bootstrap", JobProps{Family: "test-is-db", Purpose: "database bootstrap", Script: "ttn-lw-stack is-db migrate", CPU: 256, MemoryMiB: 512}); err != nil {
		t.Fatal(err)
	}
	tpl := cdktest.Synth(t, stack)

	cs := containers(t, tpl)
	if len(cs) != 2 {
		t.Fatalf("%d task definitions, want the service's and the job's", len(cs))
	}
	var main, job map[string]any
	for _, c := range cs {
		if cdktest.JSON(c["Command"]) == `["start","is"]` {
			main = c
		} else {
			job = c
		}
	}
	if main == nil || job == nil {
		t.Fatalf("no container runs `%s start is`, or no job container: %v", Binary, cs)
	}
	for name, c := range map[string]map[string]any{"service": main, "job": job} {
		text := cdktest.JSON(c)
		if c["Image"] != "thethingsnetwork/lorawan-stack:3.32.1" {
			t.Errorf("%s image %v", name, c["Image"])
		}
		// The same configuration: digest and settings in the environment,
		// credentials from Secrets Manager only.
		for _, want := range []string{`{"Name":"` + DigestVariable + `","Value":"0123456789abcdef"}`, `"TTN_LW_IS_EMAIL_PROVIDER"`, `{"Name":"TTN_LW_REDIS_PASSWORD","ValueFrom":`} {
			if !strings.Contains(text, want) {
				t.Errorf("%s container lacks %s: %s", name, want, text)
			}
		}
	}
	if got := cdktest.JSON(main["EntryPoint"]); got != `["`+Binary+`"]` {
		t.Errorf("service entry point %s", got)
	}
	if hc := cdktest.JSON(main["HealthCheck"]); !strings.Contains(hc, "http://localhost:1885/healthz") {
		t.Errorf("health check %s, want the HTTP port's /healthz", hc)
	}
	if job["Command"] == nil || !strings.Contains(cdktest.JSON(job["Command"]), "is-db migrate") {
		t.Errorf("job command %v", job["Command"])
	}

	s := tpl.Only(t, "AWS::ECS::Service").Properties
	sc := cdktest.JSON(s["ServiceConnectConfiguration"])
	for _, want := range []string{`"DiscoveryName":"is-grpc"`, `"DiscoveryName":"is-http"`, `"DnsName":"is.tts.local"`} {
		if !strings.Contains(sc, want) {
			t.Errorf("Service Connect %s lacks %s", sc, want)
		}
	}
	if s["PlatformVersion"] != "1.4.0" || s["DesiredCount"] != float64(2) {
		t.Errorf("service platform %v, desired %v", s["PlatformVersion"], s["DesiredCount"])
	}
	policies := cdktest.JSON(tpl.OfType("AWS::IAM::Policy"))
	if !strings.Contains(policies, `"kms:ViaService":"secretsmanager.eu-west-1.amazonaws.com"`) {
		t.Errorf("the execution roles may decrypt other than through Secrets Manager: %s", policies)
	}
}

// Exec turns on ECS Exec for the service and an init process in its
// container, and nothing else; without it neither is there (the test above
// synthesizes a service without it).
func TestExecTurnsOnECSExecAndTheInitProcess(t *testing.T) {
	for _, exec := range []bool{true, false} {
		stack := cdktest.Stack(t)
		vpc := cdktest.VPC(stack)
		key := awskms.NewKey(stack, jsii.String("Key"), nil)
		ns := awsservicediscovery.NewPrivateDnsNamespace(stack, jsii.String("Ns"), &awsservicediscovery.PrivateDnsNamespaceProps{Name: jsii.String("tts.local"), Vpc: vpc})
		_, err := New(stack, "NS", Props{
			Cluster: awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: vpc}), Namespace: ns.NamespaceArn(),
			Subnets:       &awsec2.SubnetSelection{SubnetGroupName: jsii.String(cdktest.PrivateSubnets)},
			SecurityGroup: awsec2.NewSecurityGroup(stack, jsii.String("Tasks"), &awsec2.SecurityGroupProps{Vpc: vpc}),
			Name:          "ns", ServiceDomain: "tts.local", Components: []ports.Component{ports.NetworkServer},
			Image: "thethingsnetwork/lorawan-stack:3.32.1", ConfigDigest: "0123456789abcdef",
			SecretsKey: key, Ports: []ports.Port{ports.GRPC(), ports.HTTP()},
			DesiredCount: 2, CPU: 512, MemoryMiB: 1024, HealthCheckGrace: time.Minute, HealthPath: "/healthz", LogRetention: awslogs.RetentionDays_ONE_WEEK, Architecture: fargateservice.ARM64,
			Exec: exec,
		})
		if err != nil {
			t.Fatal(err)
		}
		tpl := cdktest.Synth(t, stack)
		s := tpl.Only(t, "AWS::ECS::Service").Properties
		var main map[string]any
		for _, c := range containers(t, tpl) {
			main = c
		}
		if exec {
			linux, _ := main["LinuxParameters"].(map[string]any)
			if s["EnableExecuteCommand"] != true || linux["InitProcessEnabled"] != true {
				t.Errorf("Exec: EnableExecuteCommand %v, LinuxParameters %s", s["EnableExecuteCommand"], cdktest.JSON(main["LinuxParameters"]))
			}
		} else if s["EnableExecuteCommand"] != nil || main["LinuxParameters"] != nil {
			t.Errorf("without Exec: EnableExecuteCommand %v, LinuxParameters %s", s["EnableExecuteCommand"], cdktest.JSON(main["LinuxParameters"]))
		}
	}
}
