package securebucket

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

func TestBucketAlone(t *testing.T) {
	stack := cdktest.Stack(t)
	logs, err := New(stack, "Logs", Props{LogReason: "holds the access logs", ExpireAfterDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(stack, "Data", Props{Key: awskms.NewKey(stack, jsii.String("Key"), nil), Versioned: true, AccessLogs: logs, AccessLogsPrefix: "data/"}); err != nil {
		t.Fatal(err)
	}
	tpl := cdktest.Synth(t, stack)
	buckets := tpl.OfType("AWS::S3::Bucket")
	if len(buckets) != 2 {
		t.Fatalf("%d buckets, want 2", len(buckets))
	}
	for id, b := range buckets {
		text := cdktest.JSON(b.Properties)
		if !strings.Contains(text, `"BlockPublicAcls":true`) || !strings.Contains(text, `"RestrictPublicBuckets":true`) || !strings.Contains(text, `"BucketOwnerEnforced"`) {
			t.Errorf("%s is not private: %s", id, text)
		}
		if b.DeletionPolicy != "RetainExceptOnCreate" {
			t.Errorf("%s: DeletionPolicy %q, want RetainExceptOnCreate", id, b.DeletionPolicy)
		}
		switch {
		case strings.HasPrefix(id, "Data"):
			for _, want := range []string{`"SSEAlgorithm":"aws:kms"`, `"Status":"Enabled"`, `"LogFilePrefix":"data/"`} {
				if !strings.Contains(text, want) {
					t.Errorf("%s lacks %s: %s", id, want, text)
				}
			}
		case strings.HasPrefix(id, "Logs"):
			if !strings.Contains(text, `"SSEAlgorithm":"AES256"`) || !strings.Contains(text, `"ExpirationInDays":30`) {
				t.Errorf("%s: want SSE-S3 and expiry after 30 days: %s", id, text)
			}
		}
	}
	policies := cdktest.JSON(tpl.OfType("AWS::S3::BucketPolicy"))
	if strings.Count(policies, `"aws:SecureTransport":"false"`) != 2 || strings.Count(policies, `"s3:TlsVersion":1.2`) != 2 {
		t.Errorf("each bucket must refuse plain HTTP and TLS below 1.2: %s", policies)
	}
}

func TestBucketPropsAreChecked(t *testing.T) {
	stack := cdktest.Stack(t)
	ok := Props{LogReason: "holds the access logs"}
	if err := ok.validate("Bucket"); err != nil {
		t.Fatalf("valid props refused: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*Props)
		want []string
	}{
		{"no access logs nor reason", func(p *Props) { p.LogReason = "" }, []string{"securebucket.missing-access-logs"}},
		{"negative expiry", func(p *Props) { p.ExpireAfterDays = -1 }, []string{"securebucket.negative-expiry"}},
		{"everything wrong", func(p *Props) { *p = Props{ExpireAfterDays: -1} }, []string{"securebucket.missing-access-logs", "securebucket.negative-expiry"}},
	} {
		p := ok
		c.edit(&p)
		_, err := New(stack, "Bucket", p)
		if got := diag.FromError(err).Codes(); !slices.Equal(got, c.want) {
			t.Errorf("%s: codes %v, want %v (error %v)", c.name, got, c.want, err)
		}
	}
}
