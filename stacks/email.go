package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/gofunction"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/sesemail"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ttsconfig"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// SmtpCredentialsFunction is the construct id of the function that makes the
// SMTP credentials.
const SmtpCredentialsFunction = "SmtpCredentialsMaker"

// newEmail creates the Identity Server's e-mail through Amazon SES in the
// IdentityServer stack: the domain identity of EmailSender with its DKIM
// records, the SMTP user and, at deploy time, its credentials in the Data
// stack's secret. The function that makes them is this stack's own, with
// only these permissions (access keys of that user, that secret). Its name
// is published for the Services stack's alarm.
func newEmail(stack awscdk.Stack, p *params.Params, cfg *Configuration, key awskms.IKey, moduleDir string) (*sesemail.Email, error) {
	fn, err := gofunction.New(stack, SmtpCredentialsFunction, gofunction.Props{
		ModuleDir:    moduleDir,
		Package:      "./internal/run/cmd/deploy-resources",
		Description:  "Makes the Identity Server's Amazon SES SMTP credentials from an access key of its SMTP user",
		LogRetention: retention(p.LogRetentionDays),
	})
	if err != nil {
		return nil, err
	}
	publish(stack, FunctionNameOutput(SmtpCredentialsFunction), "The name of the function that makes the SMTP credentials (read by its alarm)", fn.Function.FunctionName())
	zone := awsroute53.HostedZone_FromHostedZoneAttributes(stack, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{
		HostedZoneId: jsii.String(p.HostedZoneId),
		ZoneName:     jsii.String(p.HostedZoneName),
	})
	return sesemail.New(stack, "Email", sesemail.Props{
		Zone: zone, ZoneName: p.HostedZoneName, Sender: p.EmailSender,
		Secret: cfg.Secrets[ttsconfig.SecretSMTPCredentials], Key: key, Function: fn, Version: p.EmailCredentialsVersion,
		Partition: *stack.Partition(), Region: p.Region, Account: p.Account,
	})
}
