// Package deployres handles the CloudFormation custom resources of the
// Configuration, IdentityServer and Services stacks at deploy time, inside
// one small Lambda function (internal/run/cmd/deploy-resources):
//
//   - Custom::InteropRepository writes the interop repository to its bucket,
//     with every Secrets Manager reference resolved (see interop.Materialize),
//     so that no secret is in git, in a template or in cdk.out.
//   - Custom::DatabaseURI composes the Identity Server's database URI from the
//     database's generated credentials and stores it in a secret, so that the
//     password is URL-escaped correctly and never leaves Secrets Manager.
//   - Custom::CertbotRun (Services stack, SupportProxyTLS) runs the Certbot
//     ECS task once and waits for its exit code, so that the first
//     certificate is issued during the deployment, before the proxy starts.
//   - Custom::TaskRun (IdentityServer stack) runs a one-off ECS task, the
//     Identity Server's database bootstrap, on every change of its task
//     definition and waits for its exit code, before the service updates.
//   - Custom::SMTPCredentials (Configuration stack, EmailSender) creates an
//     access key of the e-mail IAM user, turns it into the Amazon SES SMTP
//     password and stores both in a secret.
//
// Nothing here logs or returns a secret value: CloudFormation shows a failed
// resource's reason to anyone who can read the stack's events.
package deployres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
)

// Resource types handled by Handler.Handle.
const (
	InteropRepositoryType = "Custom::InteropRepository"
	DatabaseURIType       = "Custom::DatabaseURI"
	CertbotRunType        = "Custom::CertbotRun"
	TaskRunType           = "Custom::TaskRun"
	SMTPCredentialsType   = "Custom::SMTPCredentials"
)

// Handler holds the AWS clients of the handlers.
type Handler struct {
	S3      S3API
	Secrets SecretsAPI
	ECS     ECSAPI
	IAM     IAMAPI
	// PollInterval of the task runs' DescribeTasks; zero means
	// DefaultPollInterval.
	PollInterval time.Duration
}

// Handle dispatches a custom resource event by its resource type. It is the
// function that cfn.LambdaWrap wraps.
func (h *Handler) Handle(ctx context.Context, event cfn.Event) (physicalID string, data map[string]any, err error) {
	switch event.ResourceType {
	case InteropRepositoryType:
		return h.interopRepository(ctx, event)
	case DatabaseURIType:
		return h.databaseURI(ctx, event)
	case CertbotRunType:
		return h.certbotRun(ctx, event)
	case TaskRunType:
		return h.taskRun(ctx, event)
	case SMTPCredentialsType:
		return h.smtpCredentials(ctx, event)
	default:
		return event.PhysicalResourceID, nil, fmt.Errorf("deploy-resources: unknown resource type %q; this function handles %s, %s, %s, %s and %s",
			event.ResourceType, InteropRepositoryType, DatabaseURIType, CertbotRunType, TaskRunType, SMTPCredentialsType)
	}
}

// properties renders one of the props types as the Properties of a CDK
// custom resource: the keys are the JSON field names that decodeProps reads,
// so that each key is written once, in the props type. Synth-time values are
// CDK tokens, which are strings and pass through unchanged.
func properties(v any) *map[string]any {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("deployres: %T does not encode as JSON: %v", v, err))
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(fmt.Sprintf("deployres: %T does not encode as a JSON object: %v", v, err))
	}
	return &m
}

// decodeProps turns the ResourceProperties of an event into v. CloudFormation
// passes every scalar as a string, so the props types hold strings only.
func decodeProps(props map[string]any, v any) error {
	raw, err := json.Marshal(props)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}
