package interoprepo

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/gofunction"
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
	fn, err := gofunction.New(stack, "Fn", gofunction.Props{ModuleDir: "../..", Package: "./internal/run/cmd/deploy-resources"})
	if err != nil {
		t.Fatal(err)
	}
	ok := Props{Bucket: awss3.NewBucket(stack, jsii.String("Bucket"), nil), Key: awskms.NewKey(stack, jsii.String("Key"), nil), Prefix: "repo",
		Files: interop.EmptyFiles(), Function: fn, Partition: "aws", Region: cdktest.Region, Account: cdktest.Account}
	for name, edit := range map[string]func(*Props){
		"no function":   func(p *Props) { p.Function = nil },
		"slash prefix":  func(p *Props) { p.Prefix = "/repo/" },
		"no config.yml": func(p *Props) { p.Files = []interop.File{{Path: "js.yml", Data: []byte("x")}} },
		"too large": func(p *Props) {
			p.Files = append(interop.EmptyFiles(), interop.File{Path: "ca.pem", Data: make([]byte, MaxBytes)})
		},
		"not UTF-8 text": func(p *Props) {
			p.Files = append(interop.EmptyFiles(), interop.File{Path: "ca.der", Data: []byte{0xff, 0xfe}})
		},
	} {
		p := ok
		edit(&p)
		if _, err := New(stack, "Repo", p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
