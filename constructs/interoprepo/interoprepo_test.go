package interoprepo

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/gofunction"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/interop"
	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

func TestRepositoryAlone(t *testing.T) {
	stack := cdktest.Stack(t)
	fn, err := gofunction.New(stack, "Fn", gofunction.Props{ModuleDir: "../..", Package: "./internal/run/cmd/deploy-resources", LogRetention: awslogs.RetentionDays_ONE_WEEK})
	if err != nil {
		t.Fatal(err)
	}
	files := []interop.File{{Path: interop.ConfigFile, Data: []byte("join-servers:\n  - file: js.yml\n")}, {Path: "js.yml", Data: []byte("dns: js.example.com\n")}}
	refs := []interop.SecretRef{{File: "js.yml", YAMLPath: []string{"headers", "X-Api-Key"}, SecretID: "test/js-key"}}
	repo, err := New(stack, "Repo", Props{
		Bucket: awss3.NewBucket(stack, jsii.String("Bucket"), nil), Key: awskms.NewKey(stack, jsii.String("Key"), nil), Prefix: "interop-repository",
		Files: files, SecretRefs: refs, Function: fn, Partition: "aws", Region: cdktest.Region, Account: cdktest.Account,
	})
	if err != nil {
		t.Fatal(err)
	}
	if repo.Digest == "" {
		t.Error("no Digest")
	}
	tpl := cdktest.Synth(t, stack)
	r := tpl.Only(t, deployres.InteropRepositoryType)
	props, _ := cdktest.Deployed(r.Properties).(map[string]any)
	delete(props, "ServiceToken")
	// What the construct writes is what the function reads.
	p, gotFiles, gotRefs, err := deployres.ParseInteropRepositoryProps(props)
	if err != nil {
		t.Fatal(err)
	}
	if p.Prefix != "interop-repository" || len(gotFiles) != 2 || len(gotRefs) != 1 || gotRefs[0].SecretID != "test/js-key" {
		t.Errorf("parsed %+v, %d files, refs %+v", p, len(gotFiles), gotRefs)
	}
	if len(r.DependsOn) == 0 {
		t.Error("the resource does not wait for the function's grants")
	}
	policy := cdktest.JSON(tpl.OfType("AWS::IAM::Policy"))
	for _, want := range []string{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:test/js-key-??????", "/interop-repository/*", `"s3:prefix":"interop-repository/*"`} {
		if !strings.Contains(policy, want) {
			t.Errorf("the function's policy lacks %s: %s", want, policy)
		}
	}
}

func TestRepositoryPropsAreChecked(t *testing.T) {
	stack := cdktest.Stack(t)
	// The validation only needs a function, not a built one.
	ok := Props{Bucket: awss3.NewBucket(stack, jsii.String("Bucket"), nil), Key: awskms.NewKey(stack, jsii.String("Key"), nil), Prefix: "repo",
		Files: interop.EmptyFiles(), Function: &gofunction.Function{}, Partition: "aws", Region: cdktest.Region, Account: cdktest.Account}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid props refused: %v", err)
	}
	binary := interop.File{Path: "ca.der", Data: []byte{0xff, 0xfe}}
	for _, c := range []struct {
		name string
		edit func(*Props)
		want []string
	}{
		{"no function", func(p *Props) { p.Function = nil }, []string{"interoprepo.missing-scope"}},
		{"slash prefix", func(p *Props) { p.Prefix = "/repo/" }, []string{"interoprepo.bad-prefix"}},
		{"unclean prefix", func(p *Props) { p.Prefix = "a//b" }, []string{"interoprepo.bad-prefix"}},
		{"no config.yml", func(p *Props) { p.Files = []interop.File{{Path: "js.yml", Data: []byte("x")}} }, []string{"interoprepo.missing-config"}},
		{"too large", func(p *Props) {
			p.Files = append(interop.EmptyFiles(), interop.File{Path: "ca.pem", Data: make([]byte, MaxBytes)})
		}, []string{"interoprepo.too-large"}},
		{"not UTF-8 text", func(p *Props) { p.Files = append(interop.EmptyFiles(), binary) }, []string{"interoprepo.not-text"}},
		{"everything wrong", func(p *Props) {
			*p = Props{Files: []interop.File{binary, binary, {Path: "big", Data: make([]byte, MaxBytes)}}}
		},
			[]string{"interoprepo.missing-scope", "interoprepo.bad-prefix", "interoprepo.not-text", "interoprepo.not-text", "interoprepo.missing-config", "interoprepo.too-large"}},
	} {
		p := ok
		c.edit(&p)
		_, err := New(stack, "Repo", p)
		if got := diag.FromError(err).Codes(); !slices.Equal(got, c.want) {
			t.Errorf("%s: codes %v, want %v (error %v)", c.name, got, c.want, err)
		}
	}
}
