// Package gofunction builds a Go main package of this module into an AWS
// Lambda function (provided.al2023, arm64) at synth, with the local Go
// toolchain: no Docker, no prebuilt binary in git. The build is reproducible
// (-trimpath, no VCS stamp, no build id), and the asset hash is the hash of
// the binary, so an unchanged function is not redeployed.
package gofunction

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/removal"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// Props configure a Function.
type Props struct {
	// ModuleDir is the folder of this module's go.mod (absolute, or relative
	// to the working directory of the synth).
	ModuleDir string
	// Package is the main package to build, relative to ModuleDir, e.g.
	// "./internal/run/cmd/deploy-resources".
	Package string
	// Description of the function.
	Description string
	// Timeout of one invocation.
	Timeout awscdk.Duration
	// MemoryMB of the function; default 256.
	MemoryMB float64
	// LogRetention of the function's own log group.
	LogRetention awslogs.RetentionDays
	// LogGroup, when set, is the function's log group instead of a new one
	// (for a function that exists only with some parameters, whose retained
	// log group must outlive it).
	LogGroup awslogs.LogGroup
}

// Function is a Go Lambda function with its own role and log group. The role
// may write only to that log group until the caller grants more.
type Function struct {
	constructs.Construct
	Function awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
}

// check returns the go command that builds the function. Its problems are
// diagnostics of the props (ModuleDir, Package) and of the machine (the Go
// toolchain); a check that depends on another is made only when that one
// passes.
func (p Props) check(id string) (goTool string, err error) {
	var errs diag.List
	if p.ModuleDir == "" {
		errs.Errorf("gofunction.missing-module-dir", "ModuleDir", "is required: give the folder of this project's go.mod")
	} else if _, err := os.Stat(filepath.Join(p.ModuleDir, "go.mod")); err != nil {
		errs.Errorf("gofunction.no-go-mod", "ModuleDir", "%q has no go.mod; give the folder of this project's go.mod", p.ModuleDir)
	} else if p.Package != "" {
		if _, err := os.Stat(p.source()); err != nil {
			errs.Errorf("gofunction.package-not-found", "Package", "%s not found in %s; give a main package of the module, e.g. ./internal/run/cmd/deploy-resources", p.Package, p.ModuleDir)
		}
	}
	if p.Package == "" {
		errs.Errorf("gofunction.missing-package", "Package", "is required: the main package to build, relative to ModuleDir")
	}
	goTool, lookErr := exec.LookPath("go")
	if lookErr != nil {
		errs.Errorf("gofunction.no-go-toolchain", "", "the Go toolchain is needed at synth to build %s; install Go and put it on PATH", p.Package)
	}
	if err := errs.Err(); err != nil {
		return "", fmt.Errorf("gofunction %s:\n%w", id, err)
	}
	return goTool, nil
}

// source is the folder of the package to build.
func (p Props) source() string {
	return filepath.Join(p.ModuleDir, filepath.FromSlash(strings.TrimPrefix(p.Package, "./")))
}

// New builds the package and creates the function.
func New(scope constructs.Construct, id string, props Props) (*Function, error) {
	goTool, err := props.check(id)
	if err != nil {
		return nil, err
	}
	src := props.source()
	if props.MemoryMB == 0 {
		props.MemoryMB = 256
	}
	if props.Timeout == nil {
		props.Timeout = awscdk.Duration_Minutes(jsii.Number(5))
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	logs := props.LogGroup
	if logs == nil {
		logs = awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
			Retention:     props.LogRetention,
			RemovalPolicy: removal.Keep(),
		})
	}
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		// The program's name, not its folder: the template does not change
		// when the code moves.
		Description: jsii.String("Runs " + path.Base(props.Package) + "; writes only its own logs unless granted more"),
	})
	logs.GrantWrite(role)
	b := &builder{goTool: goTool, moduleDir: props.ModuleDir, pkg: props.Package}
	code := awslambda.Code_FromAsset(jsii.String(src), &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_OUTPUT,
		Bundling: &awscdk.BundlingOptions{
			// Never used: the local build either succeeds or fails the synth.
			Image: awscdk.DockerImage_FromRegistry(jsii.String("local-go-build-failed-see-the-go-build-output-above")),
			Local: b,
		},
	})
	fn := awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         code,
		Role:         role,
		LogGroup:     logs,
		Description:  jsii.String(props.Description),
		Timeout:      props.Timeout,
		MemorySize:   jsii.Number(props.MemoryMB),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The only wildcard is the log-stream part of the function's own log group ARN (logs:CreateLogStream and PutLogEvents need it); other grants name their resources."),
		AppliesTo: &[]any{
			"Resource::<" + *awscdk.Stack_Of(c).GetLogicalId(logs.Node().DefaultChild().(awscdk.CfnElement)) + ".Arn>:*",
		},
	}}, jsii.Bool(true))
	return &Function{Construct: c, Function: fn, Role: role, LogGroup: logs}, nil
}

// builder is the local bundler: `go build` for linux/arm64 into the asset's
// output folder as "bootstrap".
type builder struct {
	goTool, moduleDir, pkg string
}

// TryBundle implements awscdk.ILocalBundling.
func (b *builder) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	cmd := exec.Command(b.goTool, "build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc",
		"-ldflags", "-s -w -buildid=", "-o", filepath.Join(*outputDir, "bootstrap"), b.pkg)
	cmd.Dir = b.moduleDir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "gofunction: go build %s for linux/arm64 failed: %v\n%s", b.pkg, err, out.String())
		return jsii.Bool(false)
	}
	return jsii.Bool(true)
}
