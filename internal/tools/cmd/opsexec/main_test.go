package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeAWS puts a fake aws (and, unless noPlugin, session-manager-plugin) on
// PATH. The fake records every call's arguments and answers from files in
// its folder: version.txt for --version, describe-stacks-<stack>.json,
// list-tasks.json, describe-tasks.json; execute-command exits with the
// status in exit.txt (0 when absent). A missing answer is an error like the
// CLI's, with error-<op>.txt as its message when present.
type fakeAWS struct {
	dir string
	t   *testing.T
}

const fakeScript = `#!/bin/sh
d="$(dirname "$0")"
for a in "$@"; do printf '%s\037' "$a" >> "$d/calls.log"; done
printf '\n' >> "$d/calls.log"
if [ "$1" = "--version" ]; then cat "$d/version.txt"; exit 0; fi
op="$2"
if [ "$op" = "describe-stacks" ]; then op="describe-stacks-$4"; fi
if [ "$op" = "execute-command" ]; then echo "session of the fake"; exit "$(cat "$d/exit.txt" 2>/dev/null || echo 0)"; fi
if [ -f "$d/error-$op.txt" ]; then cat "$d/error-$op.txt" >&2; exit 254; fi
if [ -f "$d/$op.json" ]; then cat "$d/$op.json"; exit 0; fi
echo "An error occurred (ValidationError) when calling the $op operation: no fake answer" >&2
exit 254
`

func newFakeAWS(t *testing.T, noPlugin bool) *fakeAWS {
	t.Helper()
	f := &fakeAWS{dir: t.TempDir(), t: t}
	f.write("aws", fakeScript)
	if err := os.Chmod(filepath.Join(f.dir, "aws"), 0o755); err != nil {
		t.Fatal(err)
	}
	if !noPlugin {
		f.write("session-manager-plugin", "#!/bin/sh\nexit 0\n")
		if err := os.Chmod(filepath.Join(f.dir, "session-manager-plugin"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f.write("version.txt", "aws-cli/2.22.4 Python/3.12.6 Linux/6.1 exe/x86_64.debian.12\n")
	// Only the fake's folder and what a shell script needs.
	t.Setenv("PATH", f.dir+":/usr/bin:/bin")
	return f
}

func (f *fakeAWS) write(name, content string) {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// calls returns the recorded calls' arguments.
func (f *fakeAWS) calls() [][]string {
	data, _ := os.ReadFile(filepath.Join(f.dir, "calls.log"))
	var out [][]string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		out = append(out, strings.Split(strings.TrimSuffix(line, "\x1f"), "\x1f"))
	}
	return out
}

const (
	clusterName = "tts-IdentityServer-ClusterEB0386A7-x1"
	taskOld     = "arn:aws:ecs:eu-west-1:123456789012:task/" + clusterName + "/0aaa"
	taskReady   = "arn:aws:ecs:eu-west-1:123456789012:task/" + clusterName + "/1bbb"
)

// deployed answers as a deployment with ops access: the Identity Server's
// stack with the cluster and its service, the Services stack with the
// others, two running tasks of which the first predates ops access.
func (f *fakeAWS) deployed() {
	f.write("describe-stacks-tts-IdentityServer.json", `{"Stacks":[{"StackName":"tts-IdentityServer","Outputs":[
		{"OutputKey":"OpsAccessClusterName","OutputValue":"`+clusterName+`"},
		{"OutputKey":"OpsAccessPolicyArn","OutputValue":"arn:aws:iam::123456789012:policy/tts-ops"},
		{"OutputKey":"OpsAccessServiceIs","OutputValue":"tts-IdentityServer-Service-is"}]}]}`)
	f.write("describe-stacks-tts-Services.json", `{"Stacks":[{"StackName":"tts-Services","Outputs":[
		{"OutputKey":"OpsAccessServiceNs","OutputValue":"tts-Services-Service-ns"},
		{"OutputKey":"OpsAccessServiceGs","OutputValue":"tts-Services-Service-gs"}]}]}`)
	f.write("list-tasks.json", `{"taskArns":["`+taskReady+`","`+taskOld+`"]}`)
	f.write("describe-tasks.json", `{"tasks":[
		{"taskArn":"`+taskOld+`","lastStatus":"RUNNING","enableExecuteCommand":false,"containers":[{"name":"tts","managedAgents":[]}]},
		{"taskArn":"`+taskReady+`","lastStatus":"RUNNING","enableExecuteCommand":true,"containers":[
			{"name":"tts","managedAgents":[{"name":"ExecuteCommandAgent","lastStatus":"RUNNING"}]}]}]}`)
}

func runOpsexec(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// The calls to the AWS CLI, in order: the outputs of the stacks, the tasks of
// the service, and execute-command into the task whose agent runs, into the
// container of The Things Stack, with the command as one argument.
func TestFindsTheServiceAndRunsTheCommandInAReadyTask(t *testing.T) {
	for _, c := range []struct {
		name    string
		args    []string
		service string
		stacks  []string
		command string
	}{
		{"shell in ns", []string{"-service", "ns"}, "tts-Services-Service-ns", []string{"tts-IdentityServer", "tts-Services"}, "/bin/sh"},
		{"ttn-lw-cli in is", []string{"-service", "is", "-command", "ttn-lw-cli users list --user-id admin"}, "tts-IdentityServer-Service-is", []string{"tts-IdentityServer"},
			"ttn-lw-cli users list --user-id admin"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeAWS(t, false)
			f.deployed()
			code, stdout, stderr := runOpsexec(c.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, "session of the fake") {
				t.Errorf("the session's output did not reach stdout: %q", stdout)
			}
			var want [][]string
			want = append(want, []string{"--version"})
			for _, s := range c.stacks {
				want = append(want, []string{"cloudformation", "describe-stacks", "--stack-name", s, "--region", "eu-west-1", "--output", "json"})
			}
			want = append(want,
				[]string{"ecs", "list-tasks", "--cluster", clusterName, "--service-name", c.service, "--desired-status", "RUNNING", "--region", "eu-west-1", "--output", "json"},
				[]string{"ecs", "describe-tasks", "--cluster", clusterName, "--tasks", taskOld, taskReady, "--region", "eu-west-1", "--output", "json"},
				[]string{"ecs", "execute-command", "--region", "eu-west-1", "--cluster", clusterName, "--task", taskReady, "--container", "tts", "--interactive", "--command", c.command},
			)
			if got := f.calls(); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
				t.Errorf("calls\n%q\nwant\n%q", got, want)
			}
		})
	}
	t.Run("given task", func(t *testing.T) {
		f := newFakeAWS(t, false)
		f.deployed()
		if code, _, stderr := runOpsexec("-service", "gs", "-task", "1bbb", "-command", "ttn-lw-stack version"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		calls := f.calls()
		last := calls[len(calls)-1]
		if len(calls) != 4 || fmt.Sprint(last[:2]) != "[ecs execute-command]" || last[7] != "1bbb" {
			t.Errorf("with -task: calls %q; want the outputs, then execute-command into 1bbb without listing tasks", calls)
		}
	})
	t.Run("exit status of the command", func(t *testing.T) {
		f := newFakeAWS(t, false)
		f.deployed()
		f.write("exit.txt", "3")
		if code, _, _ := runOpsexec("-service", "ns", "-command", "false"); code != 3 {
			t.Errorf("exit %d, want the session's 3", code)
		}
	})
}

// Every missing prerequisite and every state of the deployment that keeps a
// command from running is refused before execute-command, with what to do.
func TestRefusesWithWhatToDo(t *testing.T) {
	paramsOff := t.TempDir()
	if err := os.WriteFile(filepath.Join(paramsOff, "noops.yaml"), []byte(`StackPrefix: tts
Account: "123456789012"
Region: eu-west-1
DomainName: tts.example.net
HostedZoneId: Z0123456789EXAMPLE00
HostedZoneName: example.net
OpsAccess: false
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		args     []string
		setup    func(f *fakeAWS)
		noPlugin bool
		noAWS    bool
		code     int
		want     []string
	}{
		{name: "no service", args: nil, code: 2, want: []string{"-service NAME", "ns"}},
		{name: "unknown service", args: []string{"-service", "nsx"}, code: 2, want: []string{`unknown service "nsx"`, "is, gs, ns"}},
		{name: "the proxy", args: []string{"-service", "proxy"}, code: 2, want: []string{"the proxy has no ops access"}},
		{name: "stray argument", args: []string{"-service", "ns", "ttn-lw-cli"}, code: 2, want: []string{"-command"}},
		{name: "OpsAccess off in the parameters", args: []string{"-service", "ns", "-env", "noops", "-params", paramsOff}, code: 1,
			want: []string{"OpsAccess is false in " + filepath.Join(paramsOff, "noops.yaml"), "cdk deploy --all -c env=noops"}},
		{name: "no AWS CLI", args: []string{"-service", "ns"}, noAWS: true, code: 1, want: []string{"AWS CLI is not installed", "getting-started-install"}},
		{name: "old AWS CLI", args: []string{"-service", "ns"}, setup: func(f *fakeAWS) { f.write("version.txt", "aws-cli/1.18.69 Python/3.8\n") }, code: 1,
			want: []string{"aws-cli/1.18.69", "1.19.28 or later"}},
		{name: "no Session Manager plugin", args: []string{"-service", "ns"}, noPlugin: true, code: 1, want: []string{"Session Manager plugin", "session-manager-working-with-install-plugin"}},
		{name: "not allowed", args: []string{"-service", "ns"}, setup: func(f *fakeAWS) {
			f.write("error-describe-stacks-tts-IdentityServer.txt", "An error occurred (AccessDenied) when calling the DescribeStacks operation: User is not authorized")
		}, code: 1, want: []string{"AccessDenied", "OpsAccessPolicyArn"}},
		{name: "deployed without ops access", args: []string{"-service", "ns"}, setup: func(f *fakeAWS) {
			f.write("describe-stacks-tts-IdentityServer.json", `{"Stacks":[{"StackName":"tts-IdentityServer","Outputs":[]}]}`)
		}, code: 1, want: []string{"no output OpsAccessClusterName", "deploy with OpsAccess: true"}},
		{name: "agent not deployed", args: []string{"-service", "pba"}, setup: (*fakeAWS).deployed, code: 1, want: []string{"no service pba", "PacketBrokerEnabled"}},
		{name: "no running task", args: []string{"-service", "ns"}, setup: func(f *fakeAWS) {
			f.deployed()
			f.write("list-tasks.json", `{"taskArns":[]}`)
		}, code: 1, want: []string{"no running task", "describe-services"}},
		{name: "tasks before ops access, agent starting", args: []string{"-service", "ns"}, setup: func(f *fakeAWS) {
			f.deployed()
			f.write("describe-tasks.json", `{"tasks":[
				{"taskArn":"`+taskOld+`","lastStatus":"RUNNING","enableExecuteCommand":false,"containers":[{"name":"tts"}]},
				{"taskArn":"`+taskReady+`","lastStatus":"RUNNING","enableExecuteCommand":true,"containers":[
					{"name":"tts","managedAgents":[{"name":"ExecuteCommandAgent","lastStatus":"PENDING"}]}]}]}`)
		}, code: 1, want: []string{"started without ECS Exec", "agent is PENDING"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeAWS(t, c.noPlugin)
			if c.noAWS {
				os.Remove(filepath.Join(f.dir, "aws"))
			}
			if c.setup != nil {
				c.setup(f)
			}
			code, _, stderr := runOpsexec(c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr %s", code, c.code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, call := range f.calls() {
				if len(call) > 1 && call[1] == "execute-command" {
					t.Errorf("execute-command ran: %q", call)
				}
			}
		})
	}
}

func TestSupportsExec(t *testing.T) {
	for v, want := range map[string]bool{
		"aws-cli/2.22.4 Python/3.12.6": true, "aws-cli/2.1.30 Python/3.8": true, "aws-cli/2.1.29 Python/3.8": false,
		"aws-cli/1.19.28 Python/3.8": true, "aws-cli/1.45.11 Python/3.11.7": true, "aws-cli/1.18.69 Python/3.8": false, "garbage": false,
	} {
		if got := supportsExec(v); got != want {
			t.Errorf("supportsExec(%q) = %v, want %v", v, got, want)
		}
	}
}
