package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
	"github.com/lorawan-stack-aws/tts-ecs/stacks"
)

// emailOff is the example environment without e-mail.
func emailOff() map[string]string { return map[string]string{"EmailSender": ""} }

// smtpSecretOutput returns the logical id of the Data stack's SMTP secret
// and checks that the Data stack publishes its ARN.
func smtpSecretOutput(t *testing.T, a *Assembly) string {
	t.Helper()
	data := a.Stack(t, "Data")
	var id string
	for lid, r := range data.OfType("AWS::SecretsManager::Secret") {
		if get(r.Properties, "Name") == a.Params.StackPrefix+"/tts/"+stacks.SMTPCredentialsSecret {
			id = lid
		}
	}
	if id == "" {
		t.Fatalf("the Data stack has no secret %s/tts/%s", a.Params.StackPrefix, stacks.SMTPCredentialsSecret)
	}
	if refTo(get(data.Outputs, stacks.SMTPCredentialsArnOutput, "Value")) != id {
		t.Errorf("the Data stack's output %s is %s, want the ARN of %s", stacks.SMTPCredentialsArnOutput, jsonText(get(data.Outputs, stacks.SMTPCredentialsArnOutput)), id)
	}
	return id
}

// readsDataOutput tells whether v is the Data stack's output name, in
// Fn::GetStackOutput.
func readsDataOutput(a *Assembly, v any, output string) bool {
	j := jsonText(v)
	return strings.Contains(j, `"Fn::GetStackOutput"`) && strings.Contains(j, `"OutputName":"`+output+`"`) && strings.Contains(j, `"StackName":"`+a.Params.StackName("Data")+`"`)
}

// With EmailSender (the example): the Identity Server reads user name and
// password as the members the function writes, from the secret the Data
// stack creates, which the function writes to; its tasks restart with new
// credentials; the SES identity is the sender's domain with DKIM records in
// the parameters' hosted zone; nothing secret is in a template.
func TestEmailWiring(t *testing.T) {
	a := synthOnce(t, nil)
	smtpSecretOutput(t, a)
	is := a.Stack(t, "IdentityServer")

	_, cr := only(t, is, deployres.SMTPCredentialsType)
	props, _ := cdktest.Deployed(cr.Properties).(map[string]any)
	delete(props, "ServiceToken")
	p, err := deployres.ParseSMTPCredentialsProps(props)
	if err != nil {
		t.Fatal(err)
	}
	if p.Region != a.Params.Region || p.Version != a.Params.EmailCredentialsVersion {
		t.Errorf("credentials for region %s version %s; want %s %s", p.Region, p.Version, a.Params.Region, a.Params.EmailCredentialsVersion)
	}
	if !readsDataOutput(a, cr.Properties["SecretArn"], stacks.SMTPCredentialsArnOutput) {
		t.Errorf("the credentials are written to %s, not the Data stack's secret", jsonText(cr.Properties["SecretArn"]))
	}
	userID, _ := only(t, is, "AWS::IAM::User")
	if refTo(cr.Properties["UserName"]) != userID {
		t.Errorf("the credentials are made for %s, not the SMTP user %s", jsonText(cr.Properties["UserName"]), userID)
	}
	crID, _ := only(t, is, deployres.SMTPCredentialsType)

	found := 0
	for id, td := range is.OfType("AWS::ECS::TaskDefinition") {
		for _, ct := range asList(get(td.Properties, "ContainerDefinitions")) {
			secrets := namedValues(get(ct, "Secrets"), "ValueFrom")
			user, pass := secrets["TTN_LW_IS_EMAIL_SMTP_USERNAME"], secrets["TTN_LW_IS_EMAIL_SMTP_PASSWORD"]
			if user == nil && pass == nil {
				continue
			}
			found++
			for member, v := range map[string]any{deployres.SMTPUsernameKey: user, deployres.SMTPPasswordKey: pass} {
				if !readsDataOutput(a, v, stacks.SMTPCredentialsArnOutput) || !strings.HasSuffix(jsonText(v), `":`+member+`::"]]}`) {
					t.Errorf("%s: the SMTP %s comes from %s, want member %s of the Data stack's secret", id, member, jsonText(v), member)
				}
			}
			env := namedValues(get(ct, "Environment"), "Value")
			if v := jsonText(env[stacks.SMTPCredentialsVersionVariable]); get(ct, "Name") == "tts" && !strings.Contains(v, crID) {
				t.Errorf("%s: %s = %s; the tasks must restart with new credentials", id, stacks.SMTPCredentialsVersionVariable, v)
			}
		}
	}
	if found == 0 {
		t.Error("no Identity Server container reads the SMTP credentials")
	}
	params := parameterKeys(t, a)
	for k, want := range map[string]string{
		"is.email.provider": "smtp", "is.email.smtp.address": "email-smtp." + a.Params.Region + ".amazonaws.com:587",
		"is.email.sender-address": a.Params.EmailSender, "is.email.sender-name": a.Params.EmailSenderName,
	} {
		if params[k] != want {
			t.Errorf("%s = %q, want %q", k, params[k], want)
		}
	}

	_, identity := only(t, is, "AWS::SES::EmailIdentity")
	if get(identity.Properties, "EmailIdentity") != a.Params.EmailDomain() || get(identity.Properties, "DkimAttributes", "SigningEnabled") != true {
		t.Errorf("identity %s", jsonText(identity.Properties))
	}
	records := is.OfType("AWS::Route53::RecordSet")
	if len(records) != 3 {
		t.Errorf("%d records, want 3 DKIM CNAMEs", len(records))
	}
	for id, r := range records {
		if get(r.Properties, "HostedZoneId") != a.Params.HostedZoneId || get(r.Properties, "Type") != "CNAME" {
			t.Errorf("%s: %s", id, jsonText(r.Properties))
		}
	}
	for _, name := range []string{"Configuration", "IdentityServer", "Data"} {
		tpl := a.Stack(t, name)
		if n := len(tpl.OfType("AWS::IAM::AccessKey")); n != 0 {
			t.Errorf("%s has %d AWS::IAM::AccessKey: the secret access key would be readable through CloudFormation", name, n)
		}
	}
}

// Without EmailSender: no identity, user or credentials, and the Identity
// Server reads no SMTP setting; the secret and its output stay (a switch
// never removes what a deployed template reads).
func TestEmailOff(t *testing.T) {
	a := synthOnce(t, emailOff())
	smtpSecretOutput(t, a)
	for _, name := range []string{"Configuration", "IdentityServer"} {
		tpl := a.Stack(t, name)
		for _, typ := range []string{"AWS::SES::EmailIdentity", "AWS::IAM::User", deployres.SMTPCredentialsType, "AWS::Route53::RecordSet"} {
			if n := len(tpl.OfType(typ)); n != 0 {
				t.Errorf("%s: %d %s without EmailSender", name, n, typ)
			}
		}
	}
	for id, td := range a.Stack(t, "IdentityServer").OfType("AWS::ECS::TaskDefinition") {
		for _, ct := range asList(get(td.Properties, "ContainerDefinitions")) {
			names := fmt.Sprint(namedValues(get(ct, "Secrets"), "ValueFrom")) + fmt.Sprint(namedValues(get(ct, "Environment"), "Value"))
			for _, v := range []string{"TTN_LW_IS_EMAIL_PROVIDER", "TTN_LW_IS_EMAIL_SMTP", "TTN_LW_IS_EMAIL_SENDER", stacks.SMTPCredentialsVersionVariable} {
				if strings.Contains(names, v) {
					t.Errorf("%s reads %s without EmailSender", id, v)
				}
			}
		}
	}
}
