// Command opsexec opens a shell, or runs one command, in a running task of a
// service of The Things Stack with ECS Exec (make exec; README "Ops access").
//
//	opsexec -env NAME -service ns [-command 'ttn-lw-cli ...'] [-task ID]
//
// It reads the environment's parameter file for the stack prefix and the
// region, the deployed stacks' outputs for the cluster and the service
// (OpsAccessClusterName, OpsAccessService<Name>), picks a running task whose
// ECS Exec agent runs, and hands over to
// `aws ecs execute-command --interactive`, which needs the AWS CLI v2 and the
// Session Manager plugin. The AWS CLI's own configuration (AWS_PROFILE,
// credentials) applies.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/ttsservice"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
	"github.com/lorawan-stack-aws/tts-ecs/params"
	"github.com/lorawan-stack-aws/tts-ecs/stacks"
)

// DefaultCommand is the shell of the images of The Things Stack (Alpine:
// BusyBox sh, no bash).
const DefaultCommand = "/bin/sh"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// config is what the command line says.
type config struct {
	env, paramsDir, service, command, task string
}

func parse(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("opsexec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.env, "env", params.DefaultEnv, "environment: params/NAME.yaml")
	fs.StringVar(&c.paramsDir, "params", "params", "folder of the parameter files")
	fs.StringVar(&c.service, "service", "", "component whose task to enter: "+strings.Join(componentNames(), ", "))
	fs.StringVar(&c.command, "command", DefaultCommand, "command to run in the container (one string; the container has no bash)")
	fs.StringVar(&c.task, "task", "", "id or ARN of the task (default: the first running task of the service whose ECS Exec agent runs)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q: give the command with -command 'ttn-lw-cli ...' (make exec CMD='...')", fs.Args())
	}
	if c.service == "" {
		return c, fmt.Errorf("no service: give -service NAME (make exec SERVICE=NAME), one of %s", strings.Join(componentNames(), ", "))
	}
	if !known(c.service) {
		msg := fmt.Sprintf("unknown service %q: give one of %s", c.service, strings.Join(componentNames(), ", "))
		if c.service == "proxy" {
			msg = "the proxy has no ops access (its configuration is in the template and its logs in CloudWatch; it holds the TLS private key in proxy TLS mode): give one of " + strings.Join(componentNames(), ", ")
		}
		return c, errors.New(msg)
	}
	if strings.TrimSpace(c.command) == "" {
		return c, fmt.Errorf("empty -command: leave it out for a shell (%s)", DefaultCommand)
	}
	return c, nil
}

// componentNames are the components that may run as services.
func componentNames() []string {
	var out []string
	for _, c := range append(ports.Deployed(), ports.PacketBrokerAgent) {
		out = append(out, string(c))
	}
	return out
}

func known(name string) bool {
	for _, n := range componentNames() {
		if n == name {
			return true
		}
	}
	return false
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "opsexec:", err)
		return 2
	}
	if err := execute(c, stdin, stdout, stderr); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			// The command's own status; the AWS CLI printed why.
			return exit.ExitCode()
		}
		fmt.Fprintln(stderr, "opsexec:", err)
		return 1
	}
	return 0
}

func execute(c config, stdin io.Reader, stdout, stderr io.Writer) error {
	p, problems := params.FromContext(map[string]any{params.EnvContextKey: c.env}, c.paramsDir)
	if errs := problems.Errors(); len(errs) > 0 {
		return fmt.Errorf("the parameters of environment %s have problems; fix them first:\n%s", c.env, errs)
	}
	if !p.OpsAccess {
		return fmt.Errorf("OpsAccess is false in %s: set OpsAccess: true (or remove the line) and deploy (cdk deploy --all -c env=%s); the services then roll to tasks that accept commands", p.Source().File, c.env)
	}
	if err := prerequisites(); err != nil {
		return err
	}
	aws := awsCLI{region: p.Region, stderr: stderr}

	isOut, err := aws.outputs(p.StackName(stacks.IdentityServerName))
	if err != nil {
		return err
	}
	cluster := isOut[stacks.OpsAccessClusterOutput]
	if cluster == "" {
		return fmt.Errorf("the deployed stack %s has no output %s: ops access is off in the deployed stacks; deploy with OpsAccess: true first (cdk deploy --all -c env=%s)",
			p.StackName(stacks.IdentityServerName), stacks.OpsAccessClusterOutput, c.env)
	}
	serviceStack := p.StackName(stacks.ServicesName)
	outs := map[string]string(nil)
	if ports.Component(c.service) == ports.IdentityServer {
		serviceStack, outs = p.StackName(stacks.IdentityServerName), isOut
	} else if outs, err = aws.outputs(serviceStack); err != nil {
		return err
	}
	service := outs[stacks.OpsAccessServiceOutput(ports.Component(c.service))]
	if service == "" {
		hint := ""
		if ports.Component(c.service) == ports.PacketBrokerAgent {
			hint = " (the Packet Broker Agent runs only with PacketBrokerEnabled)"
		}
		return fmt.Errorf("the deployed stack %s has no service %s for ops access%s; deploy with OpsAccess: true first", serviceStack, c.service, hint)
	}

	task := c.task
	if task == "" {
		if task, err = aws.pickTask(cluster, service); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "opsexec: %s in task %s of service %s (cluster %s, %s); the session is logged to %s\n",
		c.command, task, service, cluster, p.Region, stacks.OpsSessionLogGroupName(p.StackPrefix))
	cmd := exec.Command("aws", "ecs", "execute-command", "--region", p.Region, "--cluster", cluster, "--task", task,
		"--container", ttsservice.MainContainer, "--interactive", "--command", c.command)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	return cmd.Run()
}

// prerequisites checks that the AWS CLI v2 and the Session Manager plugin
// are installed.
func prerequisites() error {
	if _, err := exec.LookPath("aws"); err != nil {
		return errors.New("the AWS CLI is not installed (or not on PATH): install version 2, " +
			"https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html, and configure credentials (aws configure, or AWS_PROFILE)")
	}
	out, err := exec.Command("aws", "--version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("aws --version failed (%v): %s; repair the AWS CLI installation", err, strings.TrimSpace(string(out)))
	}
	if !supportsExec(string(out)) {
		return fmt.Errorf("the AWS CLI is %q; aws ecs execute-command needs 1.19.28 or later, 2.1.30 or later: install version 2, "+
			"https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html", strings.TrimSpace(string(out)))
	}
	if _, err := exec.LookPath("session-manager-plugin"); err != nil {
		return errors.New("the Session Manager plugin for the AWS CLI is not installed (or not on PATH); aws ecs execute-command needs it: " +
			"https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html")
	}
	return nil
}

// supportsExec tells whether the output of aws --version names a version
// with aws ecs execute-command: 1.19.28 or later, 2.1.30 or later.
func supportsExec(version string) bool {
	var major, minor, patch int
	if _, err := fmt.Sscanf(version, "aws-cli/%d.%d.%d", &major, &minor, &patch); err != nil {
		return false
	}
	least := map[int][2]int{1: {19, 28}, 2: {1, 30}}
	if major > 2 {
		return true
	}
	l, ok := least[major]
	return ok && (minor > l[0] || minor == l[0] && patch >= l[1])
}

// awsCLI runs read-only AWS CLI calls in one region and decodes their JSON.
type awsCLI struct {
	region string
	stderr io.Writer
}

func (a awsCLI) call(out any, args ...string) error {
	args = append(args, "--region", a.region, "--output", "json")
	cmd := exec.Command("aws", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		hint := ""
		switch {
		case strings.Contains(msg, "AccessDenied"), strings.Contains(msg, "not authorized"):
			hint = "; attach the deployment's ops access policy (output " + stacks.OpsAccessPolicyOutput + " of the IdentityServer stack) to your role or group"
		case strings.Contains(msg, "Unable to locate credentials"), strings.Contains(msg, "ExpiredToken"):
			hint = "; configure AWS credentials (aws configure, aws sso login, or AWS_PROFILE)"
		}
		return fmt.Errorf("aws %s: %v: %s%s", strings.Join(args[:2], " "), err, msg, hint)
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		return fmt.Errorf("aws %s printed no JSON (%v): %.200s", strings.Join(args[:2], " "), err, stdout.String())
	}
	return nil
}

// outputs returns the outputs of a deployed stack by key.
func (a awsCLI) outputs(stack string) (map[string]string, error) {
	var res struct {
		Stacks []struct {
			Outputs []struct{ OutputKey, OutputValue string }
		}
	}
	if err := a.call(&res, "cloudformation", "describe-stacks", "--stack-name", stack); err != nil {
		return nil, err
	}
	if len(res.Stacks) != 1 {
		return nil, fmt.Errorf("aws cloudformation describe-stacks found %d stacks named %s", len(res.Stacks), stack)
	}
	out := map[string]string{}
	for _, o := range res.Stacks[0].Outputs {
		out[o.OutputKey] = o.OutputValue
	}
	return out, nil
}

// task is what describe-tasks tells of a task.
type task struct {
	TaskArn              string
	LastStatus           string
	EnableExecuteCommand bool
	Containers           []struct {
		Name          string
		ManagedAgents []struct{ Name, LastStatus string }
	}
}

// agentStatus is the status of the ECS Exec agent in the main container.
func (t task) agentStatus() string {
	for _, c := range t.Containers {
		if c.Name != ttsservice.MainContainer {
			continue
		}
		for _, m := range c.ManagedAgents {
			if m.Name == "ExecuteCommandAgent" {
				return m.LastStatus
			}
		}
	}
	return "absent"
}

// pickTask returns the ARN of the first running task of the service (by ARN)
// whose ECS Exec agent runs, or says why there is none.
func (a awsCLI) pickTask(cluster, service string) (string, error) {
	var list struct{ TaskArns []string }
	if err := a.call(&list, "ecs", "list-tasks", "--cluster", cluster, "--service-name", service, "--desired-status", "RUNNING"); err != nil {
		return "", err
	}
	if len(list.TaskArns) == 0 {
		return "", fmt.Errorf("service %s has no running task; see its events: aws ecs describe-services --cluster %s --services %s --region %s", service, cluster, service, a.region)
	}
	sort.Strings(list.TaskArns)
	var described struct{ Tasks []task }
	if err := a.call(&described, append([]string{"ecs", "describe-tasks", "--cluster", cluster, "--tasks"}, list.TaskArns...)...); err != nil {
		return "", err
	}
	sort.Slice(described.Tasks, func(i, j int) bool { return described.Tasks[i].TaskArn < described.Tasks[j].TaskArn })
	var why []string
	for _, t := range described.Tasks {
		switch {
		case t.LastStatus != "RUNNING":
			why = append(why, fmt.Sprintf("%s is %s", t.TaskArn, t.LastStatus))
		case !t.EnableExecuteCommand:
			why = append(why, fmt.Sprintf("%s was started without ECS Exec (before OpsAccess was deployed: wait until the deployment has replaced it)", t.TaskArn))
		case t.agentStatus() != "RUNNING":
			why = append(why, fmt.Sprintf("%s: its ECS Exec agent is %s (it starts a minute after the task; try again)", t.TaskArn, t.agentStatus()))
		default:
			return t.TaskArn, nil
		}
	}
	return "", fmt.Errorf("no task of service %s accepts a command:\n  %s", service, strings.Join(why, "\n  "))
}
