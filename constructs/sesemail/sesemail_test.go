package sesemail

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/gofunction"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

func TestEmailAlone(t *testing.T) {
	stack := cdktest.Stack(t)
	fn, err := gofunction.New(stack, "Fn", gofunction.Props{ModuleDir: "../..", Package: "./internal/run/cmd/deploy-resources", LogRetention: awslogs.RetentionDays_ONE_WEEK})
	if err != nil {
		t.Fatal(err)
	}
	zone := awsroute53.HostedZone_FromHostedZoneAttributes(stack, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{
		HostedZoneId: jsii.String("Z0123456789EXAMPLE00"), ZoneName: jsii.String("example.net"),
	})
	key := awskms.NewKey(stack, jsii.String("Key"), nil)
	secret := awssecretsmanager.NewSecret(stack, jsii.String("Secret"), &awssecretsmanager.SecretProps{EncryptionKey: key})
	ok := Props{Zone: zone, ZoneName: "example.net", Sender: "noreply@Lns.example.net", Secret: secret, Key: key, Function: fn, Version: "7",
		Partition: "aws", Region: cdktest.Region, Account: cdktest.Account}
	for _, c := range []struct {
		name string
		edit func(*Props)
		want []string
	}{
		{"outside the zone", func(p *Props) { p.Sender = "noreply@example.org" }, []string{"sesemail.sender-outside-zone"}},
		{"look-alike zone", func(p *Props) { p.Sender = "noreply@badexample.net" }, []string{"sesemail.sender-outside-zone"}},
		{"display name", func(p *Props) { p.Sender = "TTS <noreply@lns.example.net>" }, []string{"sesemail.bad-sender"}},
		{"no version", func(p *Props) { p.Version = "" }, []string{"sesemail.missing-version"}},
		{"no function", func(p *Props) { p.Function = nil }, []string{"sesemail.missing-scope"}},
		{"no key", func(p *Props) { p.Key = nil }, []string{"sesemail.missing-scope"}},
		{"everything wrong", func(p *Props) { *p = Props{} }, []string{"sesemail.missing-scope", "sesemail.missing-account", "sesemail.missing-version", "sesemail.bad-sender"}},
	} {
		p := ok
		c.edit(&p)
		_, err := New(stack, "Bad", p)
		if got := diag.FromError(err).Codes(); !slices.Equal(got, c.want) {
			t.Errorf("%s: codes %v, want %v (%v)", c.name, got, c.want, err)
		}
	}
	e, err := New(stack, "Email", ok)
	if err != nil {
		t.Fatal(err)
	}
	if e.Domain != "lns.example.net" {
		t.Errorf("Domain = %s", e.Domain)
	}
	tpl := cdktest.Synth(t, stack)

	identity := tpl.Only(t, "AWS::SES::EmailIdentity")
	idJSON := cdktest.JSON(identity.Properties)
	for _, want := range []string{`"EmailIdentity":"lns.example.net"`, `"SigningEnabled":true`, `"DkimSigningAttributes":{"NextSigningKeyLength":"RSA_2048_BIT"}`} {
		if !strings.Contains(idJSON, want) {
			t.Errorf("the identity lacks %s: %s", want, idJSON)
		}
	}
	// Three CNAME records, each the DKIM token name and value SES gives.
	records := tpl.OfType("AWS::Route53::RecordSet")
	if len(records) != 3 {
		t.Fatalf("%d records, want 3 DKIM CNAMEs", len(records))
	}
	for id, r := range records {
		j := cdktest.JSON(r.Properties)
		if r.Properties["Type"] != "CNAME" || r.Properties["HostedZoneId"] != "Z0123456789EXAMPLE00" || !strings.Contains(j, `"DkimDNSTokenName`) || !strings.Contains(j, `"DkimDNSTokenValue`) {
			t.Errorf("%s: %s", id, j)
		}
		// The token name is the full record name; nothing may append the zone.
		if name := cdktest.JSON(r.Properties["Name"]); !strings.HasPrefix(name, `{"Fn::GetAtt":[`) || strings.Contains(name, "example.net") {
			t.Errorf("%s: the record name has the zone appended to SES's full name: %s", id, j)
		}
	}

	// The user may only send, from the sender, through the identity.
	var userPolicy, fnPolicy string
	for _, p := range tpl.OfType("AWS::IAM::Policy") {
		j := cdktest.JSON(p.Properties)
		if _, ok := p.Properties["Users"]; ok {
			userPolicy = j
		} else if strings.Contains(j, "iam:CreateAccessKey") {
			fnPolicy = j
		}
	}
	for _, want := range []string{`"Action":"ses:SendRawEmail"`, `"Resource":"arn:aws:ses:eu-west-1:123456789012:identity/lns.example.net"`, `"ses:FromAddress":"noreply@Lns.example.net"`} {
		if !strings.Contains(userPolicy, want) {
			t.Errorf("the user's policy lacks %s: %s", want, userPolicy)
		}
	}
	if strings.Count(userPolicy, `"Action"`) != 1 || strings.Contains(userPolicy, "*") {
		t.Errorf("the user's policy grants more than sending: %s", userPolicy)
	}
	for _, want := range []string{`"iam:CreateAccessKey","iam:DeleteAccessKey","iam:ListAccessKeys"`, `"secretsmanager:GetSecretValue","secretsmanager:PutSecretValue"`, `"kms:Decrypt","kms:GenerateDataKey"`} {
		if !strings.Contains(fnPolicy, want) {
			t.Errorf("the function's policy lacks %s: %s", want, fnPolicy)
		}
	}
	if len(tpl.OfType("AWS::IAM::AccessKey")) != 0 {
		t.Error("an AWS::IAM::AccessKey would put the secret key in CloudFormation's reach")
	}

	// What the construct writes is what the function reads.
	r := tpl.Only(t, deployres.SMTPCredentialsType)
	props, _ := cdktest.Deployed(r.Properties).(map[string]any)
	delete(props, "ServiceToken")
	p, err := deployres.ParseSMTPCredentialsProps(props)
	if err != nil {
		t.Fatal(err)
	}
	if p.Region != cdktest.Region || p.Version != "7" || p.UserName == "" || p.SecretArn == "" {
		t.Errorf("parsed %+v", p)
	}
	if len(r.DependsOn) < 2 {
		t.Errorf("the credentials do not wait for the function's grants and the user's policy: %v", r.DependsOn)
	}
}
