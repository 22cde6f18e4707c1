package deployres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ECSAPI is the part of the ECS client the task run handlers use.
type ECSAPI interface {
	RunTask(ctx context.Context, in *ecs.RunTaskInput, opts ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
}

// DefaultPollInterval is how often the task run handlers ask ECS about
// their task when Handler.PollInterval is zero.
const DefaultPollInterval = 10 * time.Second

// stopMargin is kept free before the invocation's deadline, so that the
// handler can still answer CloudFormation.
const stopMargin = 20 * time.Second

// Task is what a task run starts: a one-off ECS task on Fargate, in private
// subnets, whose container must exit 0.
type Task struct {
	Cluster        string
	TaskDefinition string
	// Container is the name of the container whose exit code decides.
	Container      string
	Subnets        []string
	SecurityGroups []string
	// LogGroup is named in failures, so that the operator knows where to look.
	LogGroup string
}

// TaskRunProps are the properties of a Custom::TaskRun: a one-off ECS task
// run on Create and Update.
type TaskRunProps struct {
	Task
	// Purpose names the task in messages, e.g. "Identity Server database
	// bootstrap".
	Purpose string
}

// Properties renders p as the Properties of the CDK custom resource
// (awscdk.CustomResourceProps).
func (p TaskRunProps) Properties() *map[string]any { return properties(p) }

// CertbotRunProps are the properties of a Custom::CertbotRun: the Certbot
// task and the domain.
type CertbotRunProps struct {
	Task
	// Domain is only part of the properties so that a new domain reruns the task.
	Domain string `json:",omitempty"`
}

// Properties renders p as the Properties of the CDK custom resource
// (awscdk.CustomResourceProps).
func (p CertbotRunProps) Properties() *map[string]any { return properties(p) }

// ParseTaskRunProps decodes and checks the properties of a Custom::TaskRun.
func ParseTaskRunProps(props map[string]any) (TaskRunProps, error) {
	var p TaskRunProps
	if err := decodeProps(props, &p); err != nil {
		return p, fmt.Errorf("%s: properties: %v", TaskRunType, err)
	}
	if err := p.check(TaskRunType); err != nil {
		return p, err
	}
	if p.Purpose == "" {
		return p, fmt.Errorf("%s: Purpose is required (it names the task in messages)", TaskRunType)
	}
	return p, nil
}

// ParseCertbotRunProps decodes and checks the properties of an event.
func ParseCertbotRunProps(props map[string]any) (CertbotRunProps, error) {
	var p CertbotRunProps
	if err := decodeProps(props, &p); err != nil {
		return p, fmt.Errorf("%s: properties: %v", CertbotRunType, err)
	}
	return p, p.Task.check(CertbotRunType)
}

func (p CertbotRunProps) taskRun() TaskRunProps {
	return TaskRunProps{Task: p.Task, Purpose: "Certbot"}
}

func (p Task) check(typ string) error {
	if p.Cluster == "" || p.TaskDefinition == "" || p.Container == "" || len(p.Subnets) == 0 || len(p.SecurityGroups) == 0 {
		return fmt.Errorf("%s: Cluster, TaskDefinition, Container, Subnets and SecurityGroups are required", typ)
	}
	return nil
}

// run describes one kind of task run: its resource type, what a failure
// means, and how to explain an exit code.
type run struct {
	typ string
	// consequence is said when the task fails, e.g. "and the proxy needs a
	// certificate".
	consequence string
	exitMeaning func(int32) string
}

// certbotRun runs the Certbot task once on create and update, and waits for
// it: the resource succeeds only when the Certbot container exits 0 (the
// stored certificate is valid, freshly issued or not yet due). Delete does
// nothing: the certificate stays in its retained secret.
func (h *Handler) certbotRun(ctx context.Context, event cfn.Event) (string, map[string]any, error) {
	if event.RequestType == cfn.RequestDelete {
		return event.PhysicalResourceID, nil, nil
	}
	physicalID := orDefault(event.PhysicalResourceID, "certbot-run")
	p, err := ParseCertbotRunProps(event.ResourceProperties)
	if err != nil {
		return physicalID, nil, err
	}
	r := run{typ: CertbotRunType, consequence: " and the proxy needs a certificate", exitMeaning: certbotExitMeaning}
	return r.do(ctx, h, physicalID, p.taskRun())
}

// taskRun runs a one-off task on create and update and waits for it: the
// resource succeeds only when the container exits 0. CloudFormation sends
// Update only when a property changes, so the task definition ARN among the
// properties makes every new revision (image or configuration) run the task
// again. Delete does nothing.
func (h *Handler) taskRun(ctx context.Context, event cfn.Event) (string, map[string]any, error) {
	if event.RequestType == cfn.RequestDelete {
		return event.PhysicalResourceID, nil, nil
	}
	physicalID := orDefault(event.PhysicalResourceID, "task-run")
	p, err := ParseTaskRunProps(event.ResourceProperties)
	if err != nil {
		return physicalID, nil, err
	}
	r := run{typ: TaskRunType, exitMeaning: func(int32) string { return "the messages before the exit say why" }}
	return r.do(ctx, h, physicalID, p)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// do starts the task and waits for its container's exit code.
func (r run) do(ctx context.Context, h *Handler, physicalID string, p TaskRunProps) (string, map[string]any, error) {
	if h.ECS == nil {
		return physicalID, nil, errors.New("deploy-resources: no ECS client; this is a bug of internal/run/cmd/deploy-resources")
	}
	out, err := h.ECS.RunTask(ctx, &ecs.RunTaskInput{
		Cluster:        aws.String(p.Cluster),
		TaskDefinition: aws.String(p.TaskDefinition),
		LaunchType:     ecstypes.LaunchTypeFargate,
		Count:          aws.Int32(1),
		StartedBy:      aws.String("cloudformation"),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets:        p.Subnets,
			SecurityGroups: p.SecurityGroups,
			AssignPublicIp: ecstypes.AssignPublicIpDisabled,
		}},
	})
	if err != nil {
		return physicalID, nil, fmt.Errorf("%s: starting the %s task %s in cluster %s: %w", r.typ, p.Purpose, p.TaskDefinition, p.Cluster, err)
	}
	if len(out.Tasks) == 0 || out.Tasks[0].TaskArn == nil {
		var reasons []string
		for _, f := range out.Failures {
			reasons = append(reasons, aws.ToString(f.Arn)+": "+aws.ToString(f.Reason)+" "+aws.ToString(f.Detail))
		}
		return physicalID, nil, fmt.Errorf("%s: ECS started no %s task (%s); check the cluster's capacity and the subnets, then retry the deployment", r.typ, p.Purpose, strings.Join(reasons, "; "))
	}
	taskArn := *out.Tasks[0].TaskArn
	code, err := r.waitStopped(ctx, h, p, taskArn)
	data := map[string]any{"TaskArn": taskArn}
	if err != nil {
		return physicalID, data, err
	}
	data["ExitCode"] = code
	return physicalID, data, nil
}

// waitStopped polls the task until it stops and returns the exit code of the
// container; any other outcome is an error that names the task, the exit
// code or stop reason, and the log group.
func (r run) waitStopped(ctx context.Context, h *Handler, p TaskRunProps, taskArn string) (int32, error) {
	interval := h.PollInterval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	logs := fmt.Sprintf("see the log group %s", p.LogGroup)
	for {
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < stopMargin+interval {
			return 0, fmt.Errorf("%s: the %s task %s is still running when this function must answer; %s, and retry the deployment once it stopped (what it finished is kept and not repeated)", r.typ, p.Purpose, taskArn, logs)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%s: stopped waiting for the %s task %s: %w; %s", r.typ, p.Purpose, taskArn, ctx.Err(), logs)
		case <-time.After(interval):
		}
		out, err := h.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(p.Cluster), Tasks: []string{taskArn}})
		if err != nil {
			return 0, fmt.Errorf("%s: describing the %s task %s: %w; %s", r.typ, p.Purpose, taskArn, err, logs)
		}
		if len(out.Tasks) == 0 {
			return 0, fmt.Errorf("%s: ECS no longer knows the %s task %s; %s", r.typ, p.Purpose, taskArn, logs)
		}
		task := out.Tasks[0]
		if aws.ToString(task.LastStatus) != "STOPPED" {
			continue
		}
		for _, c := range task.Containers {
			if aws.ToString(c.Name) != p.Container {
				continue
			}
			if c.ExitCode == nil {
				return 0, fmt.Errorf("%s: the %s container of task %s did not run to an exit code (%s %s); %s", r.typ, p.Purpose, taskArn,
					aws.ToString(task.StoppedReason), aws.ToString(c.Reason), logs)
			}
			if *c.ExitCode != 0 {
				return *c.ExitCode, fmt.Errorf("%s: the %s task %s exited with %d (%s)%s; %s, fix the cause and retry the deployment",
					r.typ, p.Purpose, taskArn, *c.ExitCode, r.exitMeaning(*c.ExitCode), r.consequence, logs)
			}
			return 0, nil
		}
		return 0, fmt.Errorf("%s: task %s stopped (%s) without a container named %s; %s", r.typ, taskArn, aws.ToString(task.StoppedReason), p.Container, logs)
	}
}

// certbotExitMeaning explains the exit codes of certbot/cmd/certbot-task.
func certbotExitMeaning(code int32) string {
	switch code {
	case 1:
		return "renewal needed, but certbot or its deploy hook failed"
	case 2:
		return "configuration error of the task"
	case 3:
		return "the certificate or account secret could not be read, nothing issued"
	}
	return "unexpected exit code"
}
