// Command tts-ecs is the CDK app that deploys The Things Stack on Amazon ECS.
// The CDK CLI runs it (see cdk.json); it reads the environment's parameters,
// validates them and synthesizes every stack.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/params"
	"github.com/lorawan-stack-aws/tts-ecs/stacks"
)

func main() {
	os.Exit(run())
}

func run() int {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	ctx, _ := app.Node().GetAllContext(nil).(map[string]any)
	p, problems := params.FromContext(ctx, "params")
	for _, w := range problems.Warnings() {
		fmt.Fprintln(os.Stderr, w)
	}
	if errs := problems.Errors(); len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, e)
		}
		fmt.Fprintf(os.Stderr, "%d problem(s) in the parameters; nothing was synthesized. Fix them and run again.\n", len(errs))
		return 1
	}
	repo, interopProblems := stacks.LoadInterop(p, time.Now())
	for _, w := range interopProblems.Warnings() {
		fmt.Fprintln(os.Stderr, w)
	}
	if errs := interopProblems.Errors(); len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, e)
		}
		fmt.Fprintf(os.Stderr, "%d problem(s) in the interop repository; nothing was synthesized. Fix them and run again (make interop ARGS='check DIR').\n", len(errs))
		return 1
	}
	// cdk.json runs the app from the project folder, which holds go.mod.
	if _, err := stacks.Build(app, p, stacks.Inputs{Interop: repo, ModuleDir: "."}); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 1
	}
	app.Synth(nil)
	return 0
}
