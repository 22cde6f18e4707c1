package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/removal"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/ttsservice"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// Ops access (parameter OpsAccess): ECS Exec into the tasks of The Things
// Stack, audited. The outputs below are what make exec reads.
const (
	// OpsAccessKeyOutput is the Data stack's output of the ARN of the ops
	// access key, published in every mode.
	OpsAccessKeyOutput = "OpsAccessKeyArn"
	// OpsAccessPolicyOutput is the IdentityServer stack's output of the ARN
	// of the managed policy an operator attaches (OpsAccess only).
	OpsAccessPolicyOutput = "OpsAccessPolicyArn"
	// OpsAccessClusterOutput is the IdentityServer stack's output of the
	// cluster's name (OpsAccess only).
	OpsAccessClusterOutput = "OpsAccessClusterName"
	// OpsAccessLogGroupOutput is the IdentityServer stack's output of the
	// session log group's name (OpsAccess only).
	OpsAccessLogGroupOutput = "OpsAccessSessionLogGroup"
)

// OpsAccessServiceOutput names the output of the ECS service name of a
// component (OpsAccess only), in the stack of its service.
func OpsAccessServiceOutput(c ports.Component) string {
	return "OpsAccessService" + strings.ToUpper(string(c[:1])) + string(c[1:])
}

// OpsSessionLogGroupName is the fixed name of the session log group: the
// key's policy names it, and an operator finds it by the prefix.
func OpsSessionLogGroupName(prefix string) string { return prefix + "/tts/ops-sessions" }

// OpsAccessKeyAlias is the alias of the ops access key.
func OpsAccessKeyAlias(prefix string) string { return "alias/" + prefix + "-ops-access" }

// OpsSessions are the Data stack's key and log group of the ECS Exec
// sessions. They exist whatever OpsAccess says, retained: turning ops access
// off must neither delete nor orphan the logs of earlier sessions (the
// data-loss guard of make diff refuses both), and turning it on again
// finds them. Empty, they cost the key's monthly fee.
type OpsSessions struct {
	// Key encrypts the sessions (ECS Exec's KMS key) and the log group;
	// CloudWatch Logs may use it for that log group only.
	Key      awskms.Key
	LogGroup awslogs.LogGroup
}

func newOpsSessions(stack awscdk.Stack, p *params.Params) *OpsSessions {
	name := OpsSessionLogGroupName(p.StackPrefix)
	key := awskms.NewKey(stack, jsii.String("OpsAccessKey"), &awskms.KeyProps{
		Description:       jsii.String("The Things Stack " + p.StackPrefix + ": ECS Exec sessions and their log group"),
		EnableKeyRotation: jsii.Bool(true),
		Alias:             jsii.String(OpsAccessKeyAlias(p.StackPrefix)),
		RemovalPolicy:     removal.Keep(),
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchLogsEncryptsTheSessionLog"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(fmt.Sprintf("logs.%s.amazonaws.com", p.Region)), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnEquals": map[string]any{
			"kms:EncryptionContext:aws:logs:arn": fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", *stack.Partition(), p.Region, p.Account, name),
		}},
	}), nil)
	logs := awslogs.NewLogGroup(stack, jsii.String("OpsSessions"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(name),
		EncryptionKey: key,
		Retention:     retention(p.LogRetentionDays),
		RemovalPolicy: removal.Keep(),
	})
	// KmsKeyId refers to the key: CloudFormation creates the log group
	// after the key, whose policy lets CloudWatch Logs use it.
	publish(key, OpsAccessKeyOutput, "The ARN of the key of the ECS Exec sessions and their log group (read whether or not OpsAccess is on)", key.KeyArn())
	return &OpsSessions{Key: key, LogGroup: logs}
}

// opsAccess is what a stack with services of The Things Stack needs for ECS
// Exec: the key (imported by ARN, so that grants go into this stack's roles,
// never into the Data stack's key policy) and the session log group.
type opsAccess struct {
	key         awskms.IKey
	logGroup    string
	logGroupArn string
}

// newOpsAccess returns the ops access of stack, nil when OpsAccess is off.
func newOpsAccess(stack awscdk.Stack, p *params.Params, data *Data) (*opsAccess, error) {
	if !p.OpsAccess {
		return nil, nil
	}
	keyArn, err := readPublished(stack, data.OpsSessions.Key, OpsAccessKeyOutput)
	if err != nil {
		return nil, err
	}
	name := OpsSessionLogGroupName(p.StackPrefix)
	return &opsAccess{
		key:         awskms.Key_FromKeyArn(stack, jsii.String("OpsAccessKey"), keyArn),
		logGroup:    name,
		logGroupArn: fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", *stack.Partition(), p.Region, p.Account, name),
	}, nil
}

// clusterConfiguration is the cluster's ExecuteCommandConfiguration: sessions
// encrypted with the key, their input and output logged to the encrypted
// log group (OVERRIDE: this log group, not the tasks' own).
func (o *opsAccess) clusterConfiguration(stack awscdk.Stack) *awsecs.ExecuteCommandConfiguration {
	return &awsecs.ExecuteCommandConfiguration{
		KmsKey:  o.key,
		Logging: awsecs.ExecuteCommandLogging_OVERRIDE,
		LogConfiguration: &awsecs.ExecuteCommandLogConfiguration{
			CloudWatchLogGroup:          awslogs.LogGroup_FromLogGroupName(stack, jsii.String("OpsSessions"), jsii.String(o.logGroup)),
			CloudWatchEncryptionEnabled: jsii.Bool(true),
		},
	}
}

// grant lets the tasks of svc serve ECS Exec sessions: the Session Manager
// channels, the session log, and the session key, in a policy of its own
// (attached to the task role) that a deploy removes with the switch.
func (o *opsAccess) grant(svc *ttsservice.Service) {
	policy := awsiam.NewPolicy(svc.Construct, jsii.String("OpsAccess"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{svc.TaskRole},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("EcsExecSessionChannels"),
				Actions:   jsii.Strings("ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"),
				Resources: jsii.Strings("*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("EcsExecFindTheSessionLog"),
				Actions:   jsii.Strings("logs:DescribeLogGroups"),
				Resources: jsii.Strings("*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("EcsExecWriteTheSessionLog"),
				Actions:   jsii.Strings("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"),
				Resources: jsii.Strings(o.logGroupArn + ":*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("EcsExecSessionKey"),
				Actions:   jsii.Strings("kms:Decrypt"),
				Resources: &[]*string{o.key.KeyArn()},
			}),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(policy, &[]*cdknag.NagPackSuppression{
		{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("ECS Exec (documented task role policy): the Session Manager channel actions ssmmessages:* have no resource-level permissions, " +
				"and the agent calls logs:DescribeLogGroups, which takes none, to check that the session log group is encrypted."),
			AppliesTo: &[]any{jsii.String("Resource::*")},
		},
		{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String("ECS Exec writes each session to a log stream of its own, named at run time, in the one session log group " + o.logGroup + "."),
			AppliesTo: &[]any{jsii.String("Resource::" + o.logGroupArn + ":*")},
		},
	}, jsii.Bool(false))
}

// operatorPolicy creates the managed policy an operator attaches to run
// commands in this deployment's tasks (make exec), and the outputs make exec
// reads. ecs:ExecuteCommand only in the cluster's tasks, into the container
// of The Things Stack; listing and describing only the cluster's tasks; the
// session key for the session; the outputs of the two stacks that hold the
// services.
func (o *opsAccess) operatorPolicy(stack awscdk.Stack, p *params.Params, cluster awsecs.Cluster) {
	clusterCond := map[string]any{"ArnEquals": map[string]any{"ecs:cluster": *cluster.ClusterArn()}}
	tasks := fmt.Sprintf("arn:%s:ecs:%s:%s:task/%s/*", *stack.Partition(), p.Region, p.Account, *cluster.ClusterName())
	var stackArns []*string
	for _, name := range []string{IdentityServerName, ServicesName} {
		stackArns = append(stackArns, jsii.String(fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/*", *stack.Partition(), p.Region, p.Account, p.StackName(name))))
	}
	policy := awsiam.NewManagedPolicy(stack, jsii.String("OpsAccessPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String(fmt.Sprintf("Ops access to The Things Stack %s: ECS Exec into the tasks of its cluster (make exec)", p.StackPrefix)),
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ExecuteCommandInTheDeploymentsTasks"),
				Actions:   jsii.Strings("ecs:ExecuteCommand"),
				Resources: &[]*string{cluster.ClusterArn(), jsii.String(tasks)},
				Conditions: &map[string]any{
					"ArnEquals":    map[string]any{"ecs:cluster": *cluster.ClusterArn()},
					"StringEquals": map[string]any{"ecs:container-name": ttsservice.MainContainer},
				},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("DescribeTheDeploymentsTasks"),
				Actions:    jsii.Strings("ecs:DescribeTasks"),
				Resources:  jsii.Strings(tasks),
				Conditions: &clusterCond,
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("ListTheDeploymentsTasks"),
				Actions:    jsii.Strings("ecs:ListTasks"),
				Resources:  jsii.Strings("*"),
				Conditions: &clusterCond,
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("EncryptTheSession"),
				Actions:   jsii.Strings("kms:GenerateDataKey"),
				Resources: &[]*string{o.key.KeyArn()},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadTheServicesStackOutputs"),
				Actions:   jsii.Strings("cloudformation:DescribeStacks"),
				Resources: &stackArns,
			}),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(policy, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Scoped to this deployment's cluster: tasks are named at run time (task/<cluster>/*, with an ecs:cluster condition); " +
			"ecs:ListTasks names no task resource, so it is allowed on * only under the ecs:cluster condition; a stack's ARN ends in an id CloudFormation generates."),
		AppliesTo: &[]any{
			jsii.String("Resource::*"),
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:[a-z-]+:ecs:[a-z0-9-]+:[0-9]{12}:task\/<[A-Za-z0-9]+>\/\*$/`)},
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:[a-z-]+:cloudformation:[a-z0-9-]+:[0-9]{12}:stack\/[A-Za-z0-9-]+\/\*$/`)},
		},
	}}, jsii.Bool(false))
	out := func(id, description string, value *string) {
		o := awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(description)})
		o.OverrideLogicalId(jsii.String(id))
	}
	out(OpsAccessPolicyOutput, "The managed policy an operator attaches to their role or group to run commands in the tasks (make exec)", policy.ManagedPolicyArn())
	out(OpsAccessClusterOutput, "The ECS cluster of the deployment (make exec)", cluster.ClusterName())
	out(OpsAccessLogGroupOutput, "The CloudWatch Logs log group of the ECS Exec sessions", jsii.String(o.logGroup))
}

// serviceOutput publishes the ECS service name of a component for make exec.
func serviceOutput(scope constructs.Construct, c ports.Component, svc awsecs.FargateService) {
	stack := awscdk.Stack_Of(scope)
	o := awscdk.NewCfnOutput(stack, jsii.String(OpsAccessServiceOutput(c)), &awscdk.CfnOutputProps{
		Value:       svc.ServiceName(),
		Description: jsii.String("The ECS service of " + c.Title() + " (make exec SERVICE=" + string(c) + ")"),
	})
	o.OverrideLogicalId(jsii.String(OpsAccessServiceOutput(c)))
}
