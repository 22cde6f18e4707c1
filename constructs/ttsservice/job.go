package ttsservice

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/fargateservice"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/fargate"
)

// JobContainer is the container name of a Job's task.
const JobContainer = "job"

// JobProps configure a Job.
type JobProps struct {
	// Family of the task definition: fixed, so that a permission to run the
	// job can name it (arn:...:task-definition/<Family>:*).
	Family string
	// Purpose says what the job does, in the roles' descriptions.
	Purpose string
	// Script is run with /bin/sh -c in the service's image.
	Script string
	// Secrets the script needs beyond the service's configuration (e.g. a
	// password); the script reads them from its environment. Their keys
	// must be SecretsKey.
	Secrets map[string]awsecs.Secret
	// CPU units and MemoryMiB of the task.
	CPU, MemoryMiB int
}

// Job is a one-off task definition with the image and exactly the
// configuration (environment, secrets, digest) of a Service, whose container
// runs a script instead of `ttn-lw-stack start`. Its task role has no
// permission; its execution role reads only the secrets and parameters of
// the container, and its log group is its own.
type Job struct {
	constructs.Construct
	TaskDefinition awsecs.FargateTaskDefinition
	Container      awsecs.ContainerDefinition
	TaskRole       awsiam.Role
	ExecutionRole  awsiam.Role
	LogGroup       awslogs.LogGroup
}

var family = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

func (s *Service) validateJob(p JobProps) error {
	var errs diag.List
	if !family.MatchString(p.Family) {
		errs.Errorf("ttsservice.bad-family", "Family", "%q must be 1 to 255 letters, digits, - or _", p.Family)
	}
	if p.Purpose == "" {
		errs.Errorf("ttsservice.missing-purpose", "Purpose", "is required")
	}
	if strings.TrimSpace(p.Script) == "" {
		errs.Errorf("ttsservice.empty-script", "Script", "is empty")
	}
	for name := range p.Secrets {
		_, inEnv := s.props.Environment[name]
		_, inSecrets := s.props.Secrets[name]
		if inEnv || inSecrets || name == DigestVariable {
			errs.Errorf("ttsservice.secret-shadows-configuration", "Secrets", "secret %s is already part of the service's configuration; name it differently", name)
		}
	}
	if err := fargate.CheckSize(p.CPU, p.MemoryMiB); err != nil {
		errs.Errorf("ttsservice.task-size", "CPU", "%v", err)
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("ttsservice %s job:\n%w", s.props.Name, err)
	}
	return nil
}

// Job creates a one-off task definition with the service's image and
// configuration, running props.Script. Nothing runs it: the caller starts it
// (e.g. with a custom resource at deploy time).
func (s *Service) Job(scope constructs.Construct, id string, props JobProps) (*Job, error) {
	if err := s.validateJob(props); err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	task, image, env := newTask(c, s.props, fargateservice.TaskProps{
		Family:                   props.Family,
		CPU:                      props.CPU,
		MemoryMiB:                props.MemoryMiB,
		TaskRoleDescription:      "The Things Stack " + props.Purpose + ": no AWS permission",
		ExecutionRoleDescription: "ECS agent of the The Things Stack " + props.Purpose + ": logs and configuration secrets",
		LogRetention:             s.props.LogRetention,
		Architecture:             s.props.Architecture,
	})
	secrets := map[string]awsecs.Secret{}
	for k, v := range s.props.Secrets {
		secrets[k] = v
	}
	for k, v := range props.Secrets {
		secrets[k] = v
	}
	container := task.Definition.AddContainer(jsii.String(JobContainer), &awsecs.ContainerDefinitionOptions{
		ContainerName: jsii.String(JobContainer),
		Image:         image,
		EntryPoint:    jsii.Strings("/bin/sh", "-c"),
		Command:       jsii.Strings(props.Script),
		Environment:   &env,
		Secrets:       &secrets,
		Essential:     jsii.Bool(true),
		Logging:       task.Logs(JobContainer),
	})
	return &Job{Construct: c, TaskDefinition: task.Definition, Container: container,
		TaskRole: task.TaskRole, ExecutionRole: task.ExecutionRole, LogGroup: task.LogGroup}, nil
}
