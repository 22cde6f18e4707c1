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

// ECSAPI is the part of the ECS client the Certbot run handler uses.
type ECSAPI interface {
	RunTask(ctx context.Context, in *ecs.RunTaskInput, opts ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
}

// DefaultPollInterval is how often the Certbot run handler asks ECS about
// its task when Handler.PollInterval is zero.
const DefaultPollInterval = 10 * time.Second

// stopMargin is kept free before the invocation's deadline, so that the
// handler can still answer CloudFormation.
const stopMargin = 20 * time.Second

// CertbotRunProps are the properties of a Custom::CertbotRun.
type CertbotRunProps struct {
	Cluster        string
	TaskDefinition string
	// Container is the name of the Certbot container whose exit code decides.
	Container      string
	Subnets        []string
	SecurityGroups []string
	// LogGroup is named in failures, so that the operator knows where to look.
	LogGroup string
	// Domain is only part of the properties so that a new domain reruns the task.
	Domain string `json:",omitempty"`
}

// ParseCertbotRunProps decodes and checks the properties of an event.
func ParseCertbotRunProps(props map[string]any) (CertbotRunProps, error) {
	var p CertbotRunProps
	if err := decodeProps(props, &p); err != nil {
		return p, fmt.Errorf("%s: properties: %v", CertbotRunType, err)
	}
	if p.Cluster == "" || p.TaskDefinition == "" || p.Container == "" || len(p.Subnets) == 0 || len(p.SecurityGroups) == 0 {
		return p, fmt.Errorf("%s: Cluster, TaskDefinition, Container, Subnets and SecurityGroups are required", CertbotRunType)
	}
	return p, nil
}

// certbotRun runs the Certbot task once on create and update, and waits for
// it: the resource succeeds only when the Certbot container exits 0 (the
// stored certificate is valid, freshly issued or not yet due). Delete does
// nothing: the certificate stays in its retained secret.
func (h *Handler) certbotRun(ctx context.Context, event cfn.Event) (string, map[string]any, error) {
	if event.RequestType == cfn.RequestDelete {
		return event.PhysicalResourceID, nil, nil
	}
	physicalID := event.PhysicalResourceID
	if physicalID == "" {
		physicalID = "certbot-run"
	}
	p, err := ParseCertbotRunProps(event.ResourceProperties)
	if err != nil {
		return physicalID, nil, err
	}
	if h.ECS == nil {
		return physicalID, nil, errors.New("deploy-resources: no ECS client; this is a bug of cmd/deploy-resources")
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
		return physicalID, nil, fmt.Errorf("%s: starting the Certbot task %s in cluster %s: %w", CertbotRunType, p.TaskDefinition, p.Cluster, err)
	}
	if len(out.Tasks) == 0 || out.Tasks[0].TaskArn == nil {
		var reasons []string
		for _, f := range out.Failures {
			reasons = append(reasons, aws.ToString(f.Arn)+": "+aws.ToString(f.Reason)+" "+aws.ToString(f.Detail))
		}
		return physicalID, nil, fmt.Errorf("%s: ECS started no Certbot task (%s); check the cluster's capacity and the subnets, then retry the deployment", CertbotRunType, strings.Join(reasons, "; "))
	}
	taskArn := *out.Tasks[0].TaskArn
	code, err := h.waitStopped(ctx, p, taskArn)
	data := map[string]any{"TaskArn": taskArn}
	if err != nil {
		return physicalID, data, err
	}
	data["ExitCode"] = code
	return physicalID, data, nil
}

// waitStopped polls the task until it stops and returns the exit code of the
// Certbot container; any other outcome is an error that names the task, the
// exit code or stop reason, and the log group.
func (h *Handler) waitStopped(ctx context.Context, p CertbotRunProps, taskArn string) (int32, error) {
	interval := h.PollInterval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	logs := fmt.Sprintf("see the log group %s", p.LogGroup)
	for {
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < stopMargin+interval {
			return 0, fmt.Errorf("%s: the Certbot task %s is still running when this function must answer; %s, and retry the deployment once it stopped (a finished issuance is kept and not repeated)", CertbotRunType, taskArn, logs)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%s: stopped waiting for the Certbot task %s: %w; %s", CertbotRunType, taskArn, ctx.Err(), logs)
		case <-time.After(interval):
		}
		out, err := h.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(p.Cluster), Tasks: []string{taskArn}})
		if err != nil {
			return 0, fmt.Errorf("%s: describing the Certbot task %s: %w; %s", CertbotRunType, taskArn, err, logs)
		}
		if len(out.Tasks) == 0 {
			return 0, fmt.Errorf("%s: ECS no longer knows the Certbot task %s; %s", CertbotRunType, taskArn, logs)
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
				return 0, fmt.Errorf("%s: the Certbot container of task %s did not run to an exit code (%s %s); %s", CertbotRunType, taskArn,
					aws.ToString(task.StoppedReason), aws.ToString(c.Reason), logs)
			}
			if *c.ExitCode != 0 {
				return *c.ExitCode, fmt.Errorf("%s: the Certbot task %s exited with %d (%s) and the proxy needs a certificate; %s, fix the cause and retry the deployment",
					CertbotRunType, taskArn, *c.ExitCode, exitMeaning(*c.ExitCode), logs)
			}
			return 0, nil
		}
		return 0, fmt.Errorf("%s: task %s stopped (%s) without a container named %s; %s", CertbotRunType, taskArn, aws.ToString(task.StoppedReason), p.Container, logs)
	}
}

// exitMeaning explains the exit codes of certbot/cmd/certbot-task.
func exitMeaning(code int32) string {
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
