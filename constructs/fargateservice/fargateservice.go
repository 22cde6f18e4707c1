// Package fargateservice creates an ECS Fargate service with the deployment's
// safety settings, shared by every service of the app: private subnets
// without public IP, a pinned platform version, the circuit breaker with
// rollback, old tasks serving until new ones are healthy, zone rebalancing,
// Service Connect, and registration with the load balancer's target groups.
package fargateservice

import (
	"fmt"
	"regexp"
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

	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/removal"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// Props configure a service.
type Props struct {
	Cluster        awsecs.ICluster
	TaskDefinition awsecs.FargateTaskDefinition
	DesiredCount   int
	Subnets        *awsec2.SubnetSelection
	SecurityGroup  awsec2.ISecurityGroup
	// HealthCheckGrace is how long the load balancer's health checks are
	// ignored after a task starts.
	HealthCheckGrace time.Duration
	// ServiceConnect of the service (client only when it has no Services).
	ServiceConnect *awsecs.ServiceConnectProps
	// Targets are the target groups the tasks register with, on
	// ContainerName's port of the same number.
	Targets       []*listeners.Target
	ContainerName string
}

func (p Props) validate(id string) error {
	var errs diag.List
	if p.Cluster == nil || p.TaskDefinition == nil || p.SecurityGroup == nil || p.ServiceConnect == nil {
		errs.Errorf("fargateservice.missing-scope", "", "Cluster, TaskDefinition, SecurityGroup and ServiceConnect are required")
	}
	if len(p.Targets) > 0 && p.ContainerName == "" {
		errs.Errorf("fargateservice.missing-container-name", "ContainerName", "is required with Targets: it names the container that registers with the target groups")
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("fargateservice %s:\n%w", id, err)
	}
	return nil
}

// New creates the service and registers it with its target groups.
func New(scope constructs.Construct, id string, props Props) (awsecs.FargateService, error) {
	if err := props.validate(id); err != nil {
		return nil, err
	}
	svc := awsecs.NewFargateService(scope, jsii.String(id), &awsecs.FargateServiceProps{
		Cluster:         props.Cluster,
		TaskDefinition:  props.TaskDefinition,
		DesiredCount:    jsii.Number(float64(props.DesiredCount)),
		PlatformVersion: awsecs.FargatePlatformVersion_VERSION1_4,
		VpcSubnets:      props.Subnets,
		SecurityGroups:  &[]awsec2.ISecurityGroup{props.SecurityGroup},
		AssignPublicIp:  jsii.Bool(false),
		// A deployment whose tasks do not become healthy is rolled back; the
		// old tasks keep serving until the new ones are healthy.
		CircuitBreaker:              &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
		MinHealthyPercent:           jsii.Number(100),
		MaxHealthyPercent:           jsii.Number(200),
		HealthCheckGracePeriod:      awscdk.Duration_Seconds(jsii.Number(props.HealthCheckGrace.Seconds())),
		AvailabilityZoneRebalancing: awsecs.AvailabilityZoneRebalancing_ENABLED,
		ServiceConnectConfiguration: props.ServiceConnect,
	})
	for _, t := range props.Targets {
		proto := awsecs.Protocol_TCP
		if t.Protocol == elbv2.Protocol_UDP {
			proto = awsecs.Protocol_UDP
		}
		svc.LoadBalancerTarget(&awsecs.LoadBalancerTargetOptions{
			ContainerName: jsii.String(props.ContainerName),
			ContainerPort: jsii.Number(float64(t.Port)),
			Protocol:      proto,
		}).AttachToNetworkTargetGroup(t.Group)
	}
	return svc, nil
}

// TaskProps configure a Fargate task definition with its roles and its log
// group.
type TaskProps struct {
	// Family of the task definition; empty: one CDK derives from the path.
	Family         string
	CPU, MemoryMiB int
	// TaskRoleDescription and ExecutionRoleDescription say what each role
	// is for; the caller grants what it needs.
	TaskRoleDescription, ExecutionRoleDescription string
	LogRetention                                  awslogs.RetentionDays
	// ID is the prefix of the ids of the task's resources in scope, for a
	// task that shares its scope with other resources; empty: none.
	ID string
	// LogGroup, when set, is the task's log group instead of a new one (for
	// a task that exists only with some parameters, whose retained log
	// group must outlive it); LogRetention is then unused.
	LogGroup awslogs.LogGroup
	// Architecture of the task: ARM64 or X86_64 (the zero value runs
	// X86_64; the services' constructs require it to be set).
	Architecture Architecture
	// MaskedLogFields are fields of The Things Stack's structured log lines
	// (JSON, or the JSON that ends a console line) whose values CloudWatch
	// Logs masks, by a data protection policy of the new log group, for
	// everyone without logs:Unmask.
	MaskedLogFields []string
}

// MaskedFieldPattern is the regular expression of a data protection
// policy's custom data identifier that matches field's value in a log line
// of The Things Stack: "field":"value" (JSON) or "field": "value" (console).
func MaskedFieldPattern(field string) string {
	return `"` + regexp.QuoteMeta(field) + `": ?"[^"]*"`
}

// Task is a task definition (Linux, TaskProps.Architecture) with a task role, an execution
// role and a retained log group, created in scope as TaskRole,
// ExecutionRole, Logs and Task (each prefixed with TaskProps.ID).
type Task struct {
	TaskRole, ExecutionRole awsiam.Role
	LogGroup                awslogs.LogGroup
	Definition              awsecs.FargateTaskDefinition
}

// NewTask creates the task definition, its roles and its log group.
func NewTask(scope constructs.Construct, props TaskProps) *Task {
	tasks := awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil)
	t := &Task{}
	id := func(name string) *string { return jsii.String(props.ID + name) }
	t.TaskRole = awsiam.NewRole(scope, id("TaskRole"), &awsiam.RoleProps{
		AssumedBy:   tasks,
		Description: jsii.String(props.TaskRoleDescription),
	})
	t.ExecutionRole = awsiam.NewRole(scope, id("ExecutionRole"), &awsiam.RoleProps{
		AssumedBy:   tasks,
		Description: jsii.String(props.ExecutionRoleDescription),
	})
	t.LogGroup = props.LogGroup
	if t.LogGroup == nil {
		var policy awslogs.DataProtectionPolicy
		if len(props.MaskedLogFields) > 0 {
			var ids []awslogs.DataIdentifier
			for _, f := range props.MaskedLogFields {
				ids = append(ids, awslogs.NewCustomDataIdentifier(jsii.String("LogField-"+strings.ReplaceAll(f, "_", "-")), jsii.String(MaskedFieldPattern(f))))
			}
			policy = awslogs.NewDataProtectionPolicy(&awslogs.DataProtectionPolicyProps{
				Name:        jsii.String("masked-log-fields"),
				Description: jsii.String("Masks credentials that The Things Stack writes in its log lines"),
				Identifiers: &ids,
			})
		}
		t.LogGroup = awslogs.NewLogGroup(scope, id("Logs"), &awslogs.LogGroupProps{
			Retention:            props.LogRetention,
			RemovalPolicy:        removal.Keep(),
			DataProtectionPolicy: policy,
		})
	}
	var family *string
	if props.Family != "" {
		family = jsii.String(props.Family)
	}
	t.Definition = awsecs.NewFargateTaskDefinition(scope, id("Task"), &awsecs.FargateTaskDefinitionProps{
		Family:         family,
		Cpu:            jsii.Number(float64(props.CPU)),
		MemoryLimitMiB: jsii.Number(float64(props.MemoryMiB)),
		TaskRole:       t.TaskRole,
		ExecutionRole:  t.ExecutionRole,
		RuntimePlatform: &awsecs.RuntimePlatform{
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
			CpuArchitecture:       props.Architecture.cpu(),
		},
	})
	return t
}

// Logs is the awslogs driver of a container into the task's log group.
func (t *Task) Logs(streamPrefix string) awsecs.LogDriver {
	return awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{LogGroup: t.LogGroup, StreamPrefix: jsii.String(streamPrefix)})
}
