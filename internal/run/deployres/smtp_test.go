package deployres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakeiam"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakesm"
)

// TestSMTPPasswordMatchesDocumentedDerivation compares with values computed
// by the Python script of the SES documentation ("Obtaining Amazon SES SMTP
// credentials": calculate_key with date 11111111, SendRawEmail, version
// 0x04), run on the documentation's example secret key.
func TestSMTPPasswordMatchesDocumentedDerivation(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	for region, want := range map[string]string{
		"eu-west-1": "BMW5RDrXmmVs0lV7GpI4oLkHXpZ4stDsk6q91z1g38Pk",
		"us-east-1": "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9",
	} {
		if got := SMTPPassword(secret, region); got != want {
			t.Errorf("%s: SMTPPassword = %s, want %s", region, got, want)
		}
	}
}

// TestSMTPCredentialsLifecycle runs the handler against in-memory IAM and
// Secrets Manager through CloudFormation's sequence of events: a create, a
// retried create, an update with a new Version (new key; the old one goes
// with the Delete of the old physical id), leftovers of a failed attempt,
// and a failed secret write.
func TestSMTPCredentialsLifecycle(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(fakesm.New())
	defer srv.Close()
	sm := secretsmanager.New(secretsmanager.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("tts/tts/smtp-credentials"), SecretString: aws.String("placeholder0123456789")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ARN)
	fiam := fakeiam.New()
	h := &Handler{Secrets: sm, IAM: fiam}
	const user = "tts-email-sender"
	props := func(version string) map[string]any {
		return SMTPCredentialsProps{UserName: user, SecretArn: arn, Region: "eu-west-1", Version: version}.PropertiesMap()
	}
	stored := func() SMTPCredentials {
		t.Helper()
		v, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		var c SMTPCredentials
		if err := json.Unmarshal([]byte(aws.ToString(v.SecretString)), &c); err != nil {
			t.Fatalf("the secret is not the credentials' JSON: %v", err)
		}
		return c
	}
	run := func(step string, ev cfn.Event) (string, map[string]any) {
		t.Helper()
		ev.ResourceType = SMTPCredentialsType
		id, data, err := h.Handle(ctx, ev)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		for k, v := range data {
			if s, _ := v.(string); s != "" && strings.Contains(stored().Password, s) {
				t.Errorf("%s: attribute %s carries the password", step, k)
			}
		}
		return id, data
	}

	id, data := run("create", cfn.Event{RequestType: cfn.RequestCreate, ResourceProperties: props("1")})
	c := stored()
	if keys := fiam.Keys(user); !slices.Equal(keys, []string{id}) || c.Username != id || c.Region != "eu-west-1" {
		t.Fatalf("create: physical id %s, keys %v, secret user %s region %s", id, keys, c.Username, c.Region)
	}
	secret, _ := fiam.SecretAccessKey(user, id)
	if raw, err := base64.StdEncoding.DecodeString(c.Password); err != nil || len(raw) != 33 || raw[0] != 0x04 || c.Password != SMTPPassword(secret, "eu-west-1") {
		t.Errorf("the password is not the SES SMTP password of the key's secret for eu-west-1")
	}
	if data[SMTPCredentialsVersionAttr] == "" {
		t.Error("create: no VersionId")
	}

	again, data2 := run("retried create", cfn.Event{RequestType: cfn.RequestCreate, ResourceProperties: props("1")})
	if again != id || fiam.Created() != 1 || data2[SMTPCredentialsVersionAttr] != data[SMTPCredentialsVersionAttr] {
		t.Errorf("retried create: id %s (want %s), %d keys created, version %v (want %v)", again, id, fiam.Created(), data2[SMTPCredentialsVersionAttr], data[SMTPCredentialsVersionAttr])
	}

	// Rotation: a new Version. The old key stays until CloudFormation
	// deletes the old physical resource in its cleanup.
	rotated, data3 := run("update", cfn.Event{RequestType: cfn.RequestUpdate, PhysicalResourceID: id, ResourceProperties: props("2"), OldResourceProperties: props("1")})
	if rotated == id || stored().Username != rotated || len(fiam.Keys(user)) != 2 || data3[SMTPCredentialsVersionAttr] == data[SMTPCredentialsVersionAttr] {
		t.Fatalf("update: id %s (old %s), keys %v, secret user %s", rotated, id, fiam.Keys(user), stored().Username)
	}
	run("cleanup delete of the old key", cfn.Event{RequestType: cfn.RequestDelete, PhysicalResourceID: id, ResourceProperties: props("1")})
	if keys := fiam.Keys(user); !slices.Equal(keys, []string{rotated}) {
		t.Fatalf("after the cleanup the keys are %v, want only %s", keys, rotated)
	}
	// A repeated Delete (CloudFormation retries) finds nothing and succeeds.
	run("repeated delete", cfn.Event{RequestType: cfn.RequestDelete, PhysicalResourceID: id, ResourceProperties: props("1")})

	// A key left by an attempt that failed after CreateAccessKey: the next
	// update removes it instead of running into IAM's limit of two keys.
	if _, err := fiam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)}); err != nil {
		t.Fatal(err)
	}
	third, _ := run("update with a leftover key", cfn.Event{RequestType: cfn.RequestUpdate, PhysicalResourceID: rotated, ResourceProperties: props("3"), OldResourceProperties: props("2")})
	if keys := fiam.Keys(user); len(keys) != 2 || !slices.Contains(keys, rotated) || !slices.Contains(keys, third) {
		t.Errorf("keys %v, want the old %s and the new %s only", keys, rotated, third)
	}

	// The secret cannot be written: the new key is deleted again.
	bad := props("4")
	bad["SecretArn"] = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:nope-AbCdEf"
	before := fiam.Keys(user)
	if _, _, err := h.Handle(ctx, cfn.Event{RequestType: cfn.RequestUpdate, ResourceType: SMTPCredentialsType, PhysicalResourceID: third, ResourceProperties: bad}); err == nil {
		t.Error("an update whose secret does not exist succeeded")
	}
	if keys := fiam.Keys(user); !slices.Equal(keys, before) {
		t.Errorf("after a failed write the keys are %v, want %v", keys, before)
	}

	// A rolled-back update: CloudFormation deletes the new key and keeps
	// the old resource, whose key is the secret's previous version.
	fourth, _ := run("update before a rollback", cfn.Event{RequestType: cfn.RequestUpdate, PhysicalResourceID: third, ResourceProperties: props("5"), OldResourceProperties: props("3")})
	run("rollback delete of the new key", cfn.Event{RequestType: cfn.RequestDelete, PhysicalResourceID: fourth, ResourceProperties: props("5")})
	if c := stored(); c.Username != third {
		t.Errorf("after the rollback the secret holds %s, want the surviving key %s", c.Username, third)
	}
	// The stack's deletion: the last key goes, the secret (retained) stays.
	run("stack delete", cfn.Event{RequestType: cfn.RequestDelete, PhysicalResourceID: third, ResourceProperties: props("3")})
	if c := stored(); c.Username != third {
		t.Errorf("after the stack deletion the secret holds %s, want it unchanged (%s)", c.Username, third)
	}

	// A Delete after a Create that failed before any key existed.
	run("delete of a failed create", cfn.Event{RequestType: cfn.RequestDelete, PhysicalResourceID: "2026/12/01/[$LATEST]abc", ResourceProperties: props("1")})
	if _, _, err := h.Handle(ctx, cfn.Event{RequestType: cfn.RequestCreate, ResourceType: SMTPCredentialsType, ResourceProperties: map[string]any{"UserName": user}}); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf("incomplete properties: err = %v", err)
	}
}
