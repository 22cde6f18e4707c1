package fargateservice

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsservicediscovery"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

func TestServiceAndTaskAlone(t *testing.T) {
	stack := cdktest.Stack(t)
	vpc := cdktest.VPC(stack)
	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: vpc})
	ns := awsservicediscovery.NewPrivateDnsNamespace(stack, jsii.String("Ns"), &awsservicediscovery.PrivateDnsNamespaceProps{Name: jsii.String("tts.internal"), Vpc: vpc})
	task := NewTask(stack, TaskProps{Family: "test-task", CPU: 256, MemoryMiB: 512, TaskRoleDescription: "task", ExecutionRoleDescription: "execution", LogRetention: awslogs.RetentionDays_ONE_WEEK})
	task.Definition.AddContainer(jsii.String("app"), &awsecs.ContainerDefinitionOptions{
		Image: awsecs.ContainerImage_FromRegistry(jsii.String("public.ecr.aws/docker/library/busybox:1.36"), nil), Logging: task.Logs("app"),
	})
	if _, err := New(stack, "Service", Props{
		Cluster: cluster, TaskDefinition: task.Definition, DesiredCount: 2,
		Subnets:       &awsec2.SubnetSelection{SubnetGroupName: jsii.String(cdktest.PrivateSubnets)},
		SecurityGroup: awsec2.NewSecurityGroup(stack, jsii.String("Tasks"), &awsec2.SecurityGroupProps{Vpc: vpc}), HealthCheckGrace: time.Minute,
		ServiceConnect: &awsecs.ServiceConnectProps{Namespace: ns.NamespaceArn()},
	}); err != nil {
		t.Fatal(err)
	}
	tpl := cdktest.Synth(t, stack)

	td := tpl.Only(t, "AWS::ECS::TaskDefinition")
	if td.Properties["Family"] != "test-task" || td.Properties["Cpu"] != "256" || td.Properties["Memory"] != "512" ||
		cdktest.JSON(td.Properties["RuntimePlatform"]) != `{"CpuArchitecture":"X86_64","OperatingSystemFamily":"LINUX"}` {
		t.Errorf("task definition %v", td.Properties)
	}
	if td.Properties["TaskRoleArn"] == nil || td.Properties["ExecutionRoleArn"] == nil {
		t.Error("the task definition has no task or execution role")
	}
	if logs := tpl.Only(t, "AWS::Logs::LogGroup"); logs.DeletionPolicy != "RetainExceptOnCreate" {
		t.Errorf("log group DeletionPolicy %q, want it kept", logs.DeletionPolicy)
	}

	svc := tpl.Only(t, "AWS::ECS::Service").Properties
	if svc["PlatformVersion"] != "1.4.0" || svc["LaunchType"] != "FARGATE" || svc["DesiredCount"] != float64(2) {
		t.Errorf("service %v: want Fargate 1.4.0, 2 tasks", svc)
	}
	if got := cdktest.JSON(svc["DeploymentConfiguration"]); got != `{"DeploymentCircuitBreaker":{"Enable":true,"Rollback":true},"MaximumPercent":200,"MinimumHealthyPercent":100}` {
		t.Errorf("deployment configuration %s: want the circuit breaker with rollback, old tasks serving until new ones are healthy", got)
	}
	if got := cdktest.JSON(svc["NetworkConfiguration"]); !strings.Contains(got, `"AssignPublicIp":"DISABLED"`) {
		t.Errorf("network configuration %s: tasks must have no public address", got)
	}
	if svc["AvailabilityZoneRebalancing"] != "ENABLED" || svc["HealthCheckGracePeriodSeconds"] != float64(60) {
		t.Errorf("rebalancing %v, grace %v", svc["AvailabilityZoneRebalancing"], svc["HealthCheckGracePeriodSeconds"])
	}
}

func TestServicePropsAreChecked(t *testing.T) {
	stack := cdktest.Stack(t)
	vpc := cdktest.VPC(stack)
	task := NewTask(stack, TaskProps{CPU: 256, MemoryMiB: 512})
	ok := Props{
		Cluster: awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: vpc}), TaskDefinition: task.Definition,
		SecurityGroup:  awsec2.NewSecurityGroup(stack, jsii.String("Tasks"), &awsec2.SecurityGroupProps{Vpc: vpc}),
		ServiceConnect: &awsecs.ServiceConnectProps{}, DesiredCount: 1,
	}
	if err := ok.validate("Service"); err != nil {
		t.Fatalf("valid props refused: %v", err)
	}
	targets := []*listeners.Target{{TargetSpec: listeners.TargetSpec{Port: 1700}}}
	for _, c := range []struct {
		name string
		edit func(*Props)
		want []string
	}{
		{"no cluster", func(p *Props) { p.Cluster = nil }, []string{"fargateservice.missing-scope"}},
		{"no Service Connect", func(p *Props) { p.ServiceConnect = nil }, []string{"fargateservice.missing-scope"}},
		{"targets without container", func(p *Props) { p.Targets = targets }, []string{"fargateservice.missing-container-name"}},
		{"everything wrong", func(p *Props) { *p = Props{Targets: targets} }, []string{"fargateservice.missing-scope", "fargateservice.missing-container-name"}},
	} {
		p := ok
		c.edit(&p)
		_, err := New(stack, "Service", p)
		if got := diag.FromError(err).Codes(); !slices.Equal(got, c.want) {
			t.Errorf("%s: codes %v, want %v (error %v)", c.name, got, c.want, err)
		}
	}
}

func TestTaskWithPrefixAndGivenLogGroup(t *testing.T) {
	stack := cdktest.Stack(t)
	logs := awslogs.NewLogGroup(stack, jsii.String("Kept"), nil)
	task := NewTask(stack, TaskProps{ID: "Job", CPU: 256, MemoryMiB: 512, LogGroup: logs})
	if task.LogGroup != logs {
		t.Error("the given log group is not the task's")
	}
	for _, id := range []string{"JobTaskRole", "JobExecutionRole", "JobTask"} {
		if stack.Node().TryFindChild(jsii.String(id)) == nil {
			t.Errorf("no %s in the scope", id)
		}
	}
	if n := len(cdktest.Synth(t, stack).OfType("AWS::Logs::LogGroup")); n != 1 {
		t.Errorf("%d log groups, want only the given one", n)
	}
}

// The data protection pattern of a field masks its value in both log formats
// of The Things Stack (zap: JSON, and console lines that end in spaced JSON)
// and nothing else of the line.
func TestMaskedFieldPattern(t *testing.T) {
	re := regexp.MustCompile(MaskedFieldPattern("temporary_password"))
	for _, line := range []string{
		`{"level":"info","msg":"Created temporary password","temporary_password":"s3cr3tTMP","user_uid":"admin"}`,
		"INFO\tCreated temporary password\t{\"temporary_password\": \"s3cr3tTMP\", \"user_uid\": \"admin\"}",
	} {
		masked := re.ReplaceAllLiteralString(line, "****")
		if strings.Contains(masked, "s3cr3tTMP") || !strings.Contains(masked, "admin") || !strings.Contains(masked, "Created temporary password") {
			t.Errorf("%q masked as %q", line, masked)
		}
	}
}
