package fakesm_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakesm"
)

// client returns a real SDK client pointed at a fresh fake.
func client(t *testing.T) (*secretsmanager.Client, *fakesm.Server) {
	t.Helper()
	fake := fakesm.New()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c := secretsmanager.New(secretsmanager.Options{
		Region:           "eu-west-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      aws.AnonymousCredentials{},
		RetryMaxAttempts: 1,
	})
	return c, fake
}

func TestLifecycleWithSDK(t *testing.T) {
	ctx := context.Background()
	c, fake := client(t)

	cr, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("tts/cert"), SecretString: aws.String("v1")})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	if !slices.Contains([]string{"tts/cert"}, aws.ToString(cr.Name)) || aws.ToString(cr.VersionId) == "" {
		t.Fatalf("CreateSecret output: name %q version %q", aws.ToString(cr.Name), aws.ToString(cr.VersionId))
	}
	v1 := aws.ToString(cr.VersionId)

	p2, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: cr.ARN, SecretString: aws.String("v2")})
	if err != nil {
		t.Fatalf("PutSecretValue by ARN: %v", err)
	}
	v2 := aws.ToString(p2.VersionId)
	if !slices.Equal(p2.VersionStages, []string{"AWSCURRENT"}) {
		t.Errorf("new version stages %v", p2.VersionStages)
	}

	get := func(in *secretsmanager.GetSecretValueInput) *secretsmanager.GetSecretValueOutput {
		t.Helper()
		out, err := c.GetSecretValue(ctx, in)
		if err != nil {
			t.Fatalf("GetSecretValue(%+v): %v", in, err)
		}
		return out
	}
	if g := get(&secretsmanager.GetSecretValueInput{SecretId: aws.String("tts/cert")}); aws.ToString(g.SecretString) != "v2" || aws.ToString(g.VersionId) != v2 || g.CreatedDate == nil {
		t.Errorf("current: %q %q %v", aws.ToString(g.SecretString), aws.ToString(g.VersionId), g.CreatedDate)
	}
	if g := get(&secretsmanager.GetSecretValueInput{SecretId: aws.String("tts/cert"), VersionStage: aws.String("AWSPREVIOUS")}); aws.ToString(g.SecretString) != "v1" {
		t.Errorf("AWSPREVIOUS = %q, want v1", aws.ToString(g.SecretString))
	}
	if g := get(&secretsmanager.GetSecretValueInput{SecretId: aws.String("tts/cert"), VersionId: aws.String(v1)}); aws.ToString(g.SecretString) != "v1" {
		t.Errorf("by VersionId = %q, want v1", aws.ToString(g.SecretString))
	}

	// Idempotent token: same token and value returns the same version.
	tok := "0123456789abcdef0123456789abcdef"
	p3, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("tts/cert"), SecretBinary: []byte{0, 1, 2}, ClientRequestToken: aws.String(tok)})
	if err != nil {
		t.Fatal(err)
	}
	p3b, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("tts/cert"), SecretBinary: []byte{0, 1, 2}, ClientRequestToken: aws.String(tok)})
	if err != nil || aws.ToString(p3b.VersionId) != tok || aws.ToString(p3.VersionId) != tok {
		t.Fatalf("idempotent put: %v %v", aws.ToString(p3b.VersionId), err)
	}
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("tts/cert"), SecretBinary: []byte{9}, ClientRequestToken: aws.String(tok)})
	var exists *types.ResourceExistsException
	if !errors.As(err, &exists) {
		t.Errorf("same token, other value: got %v, want ResourceExistsException", err)
	}
	if g := get(&secretsmanager.GetSecretValueInput{SecretId: aws.String("tts/cert")}); string(g.SecretBinary) != "\x00\x01\x02" || g.SecretString != nil {
		t.Errorf("binary current = %q", g.SecretBinary)
	}

	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("tts/cert")})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.VersionIdsToStages) != 2 || !slices.Equal(d.VersionIdsToStages[tok], []string{"AWSCURRENT"}) || !slices.Equal(d.VersionIdsToStages[v2], []string{"AWSPREVIOUS"}) {
		t.Errorf("VersionIdsToStages = %v", d.VersionIdsToStages)
	}

	l, err := c.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("tts/cert"), IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Versions) != 2 || aws.ToString(l.Versions[0].VersionId) != tok || l.NextToken == nil {
		t.Fatalf("first page: %d versions, next %v", len(l.Versions), l.NextToken)
	}
	l2, err := c.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("tts/cert"), IncludeDeprecated: aws.Bool(true), NextToken: l.NextToken})
	if err != nil || len(l2.Versions) != 1 || aws.ToString(l2.Versions[0].VersionId) != v1 || len(l2.Versions[0].VersionStages) != 0 {
		t.Fatalf("second page: %+v %v", l2, err)
	}

	// Roll AWSCURRENT back to v2; the old current becomes AWSPREVIOUS.
	if _, err := c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String("tts/cert"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(v2), RemoveFromVersionId: aws.String(tok),
	}); err != nil {
		t.Fatal(err)
	}
	if g := get(&secretsmanager.GetSecretValueInput{SecretId: aws.String("tts/cert")}); aws.ToString(g.VersionId) != v2 {
		t.Errorf("after rollback current = %s, want %s", aws.ToString(g.VersionId), v2)
	}
	if g := get(&secretsmanager.GetSecretValueInput{SecretId: aws.String("tts/cert"), VersionStage: aws.String("AWSPREVIOUS")}); aws.ToString(g.VersionId) != tok {
		t.Errorf("after rollback previous = %s, want %s", aws.ToString(g.VersionId), tok)
	}
	if n := fake.Calls("GetSecretValue"); n != 6 {
		t.Errorf("GetSecretValue calls = %d, want 6", n)
	}
}

func TestErrorsWithSDK(t *testing.T) {
	ctx := context.Background()
	c, fake := client(t)

	var nf *types.ResourceNotFoundException
	if _, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("missing")}); !errors.As(err, &nf) {
		t.Errorf("missing secret: got %v, want ResourceNotFoundException", err)
	}
	if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("missing"), SecretString: aws.String("x")}); !errors.As(err, &nf) {
		t.Errorf("put to missing secret: got %v, want ResourceNotFoundException", err)
	}
	// A secret without a value: GetSecretValue says not found, Describe works.
	if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("empty")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("empty")}); !errors.As(err, &nf) {
		t.Errorf("secret without value: got %v, want ResourceNotFoundException", err)
	}
	if _, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("empty")}); err != nil {
		t.Errorf("DescribeSecret: %v", err)
	}
	var exists *types.ResourceExistsException
	if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("empty")}); !errors.As(err, &exists) {
		t.Errorf("duplicate create: got %v, want ResourceExistsException", err)
	}
	var inv *types.InvalidParameterException
	if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("empty")}); !errors.As(err, &inv) {
		t.Errorf("put without value: got %v, want InvalidParameterException", err)
	}

	fake.SetFault(func(op string, _ []byte) *fakesm.APIError {
		if op == "GetSecretValue" {
			return &fakesm.APIError{Type: "AccessDeniedException", Message: "not allowed"}
		}
		return nil
	})
	_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("empty")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" || api.ErrorMessage() != "not allowed" {
		t.Errorf("injected fault: got %v", err)
	}
}
