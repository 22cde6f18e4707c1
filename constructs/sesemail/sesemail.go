// Package sesemail is the Identity Server's e-mail through Amazon SES: a
// domain identity with Easy DKIM, verified by CNAME records in the hosted
// zone, an IAM user that may only send from the sender address of that
// identity, and its SMTP credentials, made at deploy time by the
// deploy-resources function (Custom::SMTPCredentials) into a secret.
package sesemail

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/gofunction"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
)

// Props of the e-mail construct.
type Props struct {
	// Zone is the public hosted zone that holds the sender's domain.
	Zone awsroute53.IHostedZone
	// ZoneName is the zone's name (no trailing dot).
	ZoneName string
	// Sender is the From address; its domain becomes the SES identity.
	Sender string
	// Secret receives the SMTP credentials (deployres.SMTPCredentials); it
	// exists before (the Data stack creates it with a placeholder).
	Secret awssecretsmanager.ISecret
	// Key encrypts Secret.
	Key awskms.IKey
	// Function is the deploy-resources function that makes the credentials.
	Function *gofunction.Function
	// Version is the credentials' generation (EmailCredentialsVersion).
	Version string
	// Partition, Region and Account of the stack.
	Partition, Region, Account string
}

// Email is what the construct made.
type Email struct {
	Identity awsses.EmailIdentity
	User     awsiam.User
	// Credentials is the Custom::SMTPCredentials resource; VersionID its
	// attribute that changes with the credentials.
	Credentials awscdk.CustomResource
	VersionID   *string
	// Domain is the SES identity's domain.
	Domain string
}

func (p Props) validate() error {
	var errs diag.List
	if p.Zone == nil || p.Secret == nil || p.Key == nil || p.Function == nil {
		errs.Errorf("sesemail.missing-scope", "", "Zone, Secret, Key and Function are required")
	}
	if p.ZoneName == "" || p.Partition == "" || p.Region == "" || p.Account == "" {
		errs.Errorf("sesemail.missing-account", "ZoneName", "ZoneName, Partition, Region and Account are required: the identity and the user's policy name them")
	}
	if p.Version == "" {
		errs.Errorf("sesemail.missing-version", "Version", "is required: a new value makes new SMTP credentials")
	}
	if a, err := mail.ParseAddress(p.Sender); err != nil || a.Address != p.Sender {
		errs.Errorf("sesemail.bad-sender", "Sender", "%q is not a plain e-mail address, e.g. noreply@%s", p.Sender, p.ZoneName)
	} else if domain := strings.ToLower(p.Sender[strings.LastIndex(p.Sender, "@")+1:]); p.ZoneName != "" && domain != p.ZoneName && !strings.HasSuffix(domain, "."+p.ZoneName) {
		errs.Errorf("sesemail.sender-outside-zone", "Sender", "the domain %s is not in the hosted zone %s, where the DKIM records go", domain, p.ZoneName)
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("sesemail:\n%w", err)
	}
	return nil
}

// New creates the identity, its DKIM records, the sending user and its
// credentials.
func New(scope constructs.Construct, id string, p Props) (*Email, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	domain := strings.ToLower(p.Sender[strings.LastIndex(p.Sender, "@")+1:])
	c := constructs.NewConstruct(scope, jsii.String(id))

	// Easy DKIM: SES publishes three keys; the CNAME records delegate them,
	// and SES verifies the domain once it sees them (usually within an hour,
	// up to 72 hours).
	identity := awsses.NewEmailIdentity(c, jsii.String("Identity"), &awsses.EmailIdentityProps{
		Identity:     awsses.Identity_Domain(jsii.String(domain)),
		DkimSigning:  jsii.Bool(true),
		DkimIdentity: awsses.DkimIdentity_EasyDkim(awsses.EasyDkimSigningKeyLength_RSA_2048_BIT),
	})
	// The L1 record: the L2 CnameRecord appends the zone to a name that is
	// a token, and SES's token names are already fully qualified.
	for i, r := range *identity.DkimRecords() {
		awsroute53.NewCfnRecordSet(c, jsii.String(fmt.Sprintf("Dkim%d", i+1)), &awsroute53.CfnRecordSetProps{
			HostedZoneId:    p.Zone.HostedZoneId(),
			Name:            r.Name,
			Type:            jsii.String("CNAME"),
			Ttl:             jsii.String("1800"),
			ResourceRecords: &[]*string{r.Value},
			Comment:         jsii.String("Amazon SES Easy DKIM of " + domain + " (The Things Stack e-mail)"),
		})
	}

	// The SMTP user: its access key is the SMTP user name, and its secret,
	// derived, the password. It may send raw e-mail (what the SMTP
	// interface does) from the identity, with the sender as From address
	// only.
	identityArn := fmt.Sprintf("arn:%s:ses:%s:%s:identity/%s", p.Partition, p.Region, p.Account, domain)
	user := awsiam.NewUser(c, jsii.String("SmtpUser"), &awsiam.UserProps{Path: jsii.String("/tts/")})
	policy := awsiam.NewPolicy(c, jsii.String("SmtpUserPolicy"), &awsiam.PolicyProps{
		Users: &[]awsiam.IUser{user},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("SendFromTheSender"),
			Actions:    jsii.Strings("ses:SendRawEmail"),
			Resources:  jsii.Strings(identityArn),
			Conditions: &map[string]any{"StringEquals": map[string]any{"ses:FromAddress": p.Sender}},
		})},
	})
	role := p.Function.Role
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ManageSmtpUserKeys"),
		Actions:   jsii.Strings("iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys"),
		Resources: &[]*string{user.UserArn()},
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteSmtpCredentials"),
		Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"),
		Resources: &[]*string{p.Secret.SecretArn()},
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("EncryptSmtpCredentials"),
		Actions:   jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources: &[]*string{p.Key.KeyArn()},
	}))
	creds := awscdk.NewCustomResource(c, jsii.String("SmtpCredentials"), &awscdk.CustomResourceProps{
		ServiceToken: p.Function.Function.FunctionArn(),
		ResourceType: jsii.String(deployres.SMTPCredentialsType),
		Properties: deployres.SMTPCredentialsProps{
			UserName:  *user.UserName(),
			SecretArn: *p.Secret.SecretArn(),
			Region:    p.Region,
			Version:   p.Version,
		}.Properties(),
	})
	creds.Node().AddDependency(role, policy)
	return &Email{Identity: identity, User: user, Credentials: creds, VersionID: creds.GetAttString(jsii.String(deployres.SMTPCredentialsVersionAttr)), Domain: domain}, nil
}
