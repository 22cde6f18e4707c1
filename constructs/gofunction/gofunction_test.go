package gofunction

import (
	"debug/elf"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

func TestFunctionAlone(t *testing.T) {
	stack := cdktest.Stack(t)
	fn, err := New(stack, "Fn", Props{ModuleDir: "../..", Package: "./internal/run/cmd/deploy-resources", Description: "test", LogRetention: awslogs.RetentionDays_ONE_WEEK})
	if err != nil {
		t.Fatal(err)
	}
	tpl := cdktest.Synth(t, stack)
	f := tpl.Only(t, "AWS::Lambda::Function")
	if f.Properties["Runtime"] != "provided.al2023" || f.Properties["Handler"] != "bootstrap" || cdktest.JSON(f.Properties["Architectures"]) != `["arm64"]` {
		t.Errorf("function %v: want provided.al2023, arm64, bootstrap", f.Properties)
	}
	if f.Properties["MemorySize"] != float64(256) || f.Properties["Timeout"] != float64(300) {
		t.Errorf("memory %v, timeout %v; want the defaults 256 MB and 5 minutes", f.Properties["MemorySize"], f.Properties["Timeout"])
	}
	if logs := tpl.Only(t, "AWS::Logs::LogGroup"); logs.DeletionPolicy != "RetainExceptOnCreate" {
		t.Errorf("log group DeletionPolicy %q, want it kept", logs.DeletionPolicy)
	}
	// The staged asset is the program, built for the function's architecture.
	code, _ := f.Properties["Code"].(map[string]any)
	key, _ := code["S3Key"].(string)
	asset := filepath.Join(*awscdk.Stage_Of(stack).Outdir(), "asset."+strings.TrimSuffix(key, ".zip"), "bootstrap")
	bin, err := elf.Open(asset)
	if err != nil {
		t.Fatalf("the function's code is not a built program: %v", err)
	}
	defer bin.Close()
	if bin.Machine != elf.EM_AARCH64 {
		t.Errorf("bootstrap is built for %v, want arm64", bin.Machine)
	}
	// Its role writes only to its own log group until granted more.
	policy := cdktest.JSON(tpl.Only(t, "AWS::IAM::Policy").Properties)
	if !strings.Contains(policy, "logs:PutLogEvents") || strings.Count(policy, `"Action"`) != 1 {
		t.Errorf("role policy %s: want the log group's write actions only", policy)
	}
	if fn.Role == nil || fn.LogGroup == nil {
		t.Error("no Role or LogGroup")
	}
}

func TestFunctionPropsAreChecked(t *testing.T) {
	stack := cdktest.Stack(t)
	ok := Props{ModuleDir: "../..", Package: "./internal/run/cmd/deploy-resources"}
	if _, err := ok.check("Fn"); err != nil {
		t.Fatalf("valid props refused: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*Props)
		want []string
	}{
		{"no module folder", func(p *Props) { p.ModuleDir = "" }, []string{"gofunction.missing-module-dir"}},
		{"no go.mod", func(p *Props) { p.ModuleDir = t.TempDir() }, []string{"gofunction.no-go-mod"}},
		{"no package", func(p *Props) { p.Package = "" }, []string{"gofunction.missing-package"}},
		{"missing package folder", func(p *Props) { p.Package = "./internal/run/cmd/nothing-here" }, []string{"gofunction.package-not-found"}},
		{"everything wrong", func(p *Props) { *p = Props{} }, []string{"gofunction.missing-module-dir", "gofunction.missing-package"}},
	} {
		p := ok
		c.edit(&p)
		_, err := New(stack, "Fn", p)
		if got := diag.FromError(err).Codes(); !slices.Equal(got, c.want) {
			t.Errorf("%s: codes %v, want %v (error %v)", c.name, got, c.want, err)
		}
	}
}

// Without a Go toolchain the synth cannot build the function: the problem is
// reported with the props' own.
func TestFunctionNeedsTheGoToolchain(t *testing.T) {
	stack := cdktest.Stack(t)
	t.Setenv("PATH", t.TempDir())
	_, err := New(stack, "Fn", Props{ModuleDir: t.TempDir(), Package: "./x"})
	want := []string{"gofunction.no-go-mod", "gofunction.no-go-toolchain"}
	if got := diag.FromError(err).Codes(); !slices.Equal(got, want) {
		t.Errorf("codes %v, want %v (error %v)", got, want, err)
	}
}
