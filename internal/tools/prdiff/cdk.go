package prdiff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// DefaultCDKVersion is the pinned CDK CLI. The Makefile's CDK_VERSION must be
// the same (a test checks).
const DefaultCDKVersion = "2.1148.1"

// DefaultCDK is the command that runs the pinned CDK CLI through npx, never
// installed into the project.
func DefaultCDK() []string { return []string{"npx", "-y", "aws-cdk@" + DefaultCDKVersion} }

// CDK runs the CDK CLI offline: without AWS credentials, profiles, instance
// metadata, notices or telemetry, so that nothing is looked up in an account.
type CDK struct {
	// Command runs the CLI, e.g. DefaultCDK().
	Command []string
	// Scratch is a private folder for the CLI's working directory.
	Scratch string
}

// offlineEnv is the process environment minus everything that would let the
// CDK CLI (or the app) reach an AWS account, plus the switches that keep the
// CLI quiet and offline. With no credentials at all, the CLI's attempt to
// find the default account fails locally and makes no request.
func offlineEnv(scratch string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "AWS_"), strings.HasPrefix(name, "CDK_DEFAULT_"),
			name == "MAKEFLAGS", name == "MFLAGS", name == "MAKELEVEL":
			continue
		}
		env = append(env, kv)
	}
	missing := filepath.Join(scratch, "no-aws-config")
	return append(env,
		"AWS_CONFIG_FILE="+missing,
		"AWS_SHARED_CREDENTIALS_FILE="+missing,
		"AWS_EC2_METADATA_DISABLED=true",
		"CDK_DISABLE_CLI_TELEMETRY=true",
		"CDK_DISABLE_VERSION_CHECK=true",
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20",
	)
}

// offlineFlags are the CLI flags that keep it from fetching notices or
// probing for EC2 instance credentials.
func offlineFlags() []string { return []string{"--no-notices", "--no-ec2creds"} }

// DiffStack runs `cdk diff --template` of one stack of the assembly in asmDir
// against an older template file, and parses the result. known tells the
// logical ids of the old and new templates.
func (c CDK) DiffStack(ctx context.Context, asmDir, stackID, oldTemplate string, known func(string) bool) (StackDiff, string, error) {
	args := append([]string{}, c.Command[1:]...)
	args = append(args, "diff", "--app", asmDir, "--template", oldTemplate, stackID,
		"--exclusively", "--no-color", "--fail-on", "destructive")
	args = append(args, offlineFlags()...)
	cmd := exec.CommandContext(ctx, c.Command[0], args...)
	cmd.Dir = c.Scratch
	cmd.Env = offlineEnv(c.Scratch)
	// The CLI writes the diff and the list of destructive changes to
	// different streams; one shared buffer would interleave them mid-line
	// (seen under load), so each is kept whole and they are joined after.
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	text := stdout.String() + "\n" + stderr.String()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() == 1 && hasDestructiveList(text):
		// --fail-on destructive: exit status 1 with the list of destructive changes.
	default:
		return StackDiff{}, text, fmt.Errorf("cdk diff of %s failed (%v); its output:\n%s", stackID, err, tail(text, 40))
	}
	d, err := ParseDiff(stackID, text, known)
	if err != nil {
		return d, text, fmt.Errorf("%w\nthe CLI's output:\n%s", err, tail(text, 60))
	}
	return d, text, nil
}

// Synthesize synthesizes environment env of the project in src into out,
// offline. It uses the project's own `make synth` when its Makefile has one
// (so that an older revision is built the way it was built then), else the
// CDK CLI with the project's cdk.json.
func (c CDK) Synthesize(ctx context.Context, src, env, out string) (string, error) {
	synthArgs := append([]string{"-c", "env=" + env, "-o", out}, offlineFlags()...)
	var cmd *exec.Cmd
	if hasMakeTarget(filepath.Join(src, "Makefile"), "synth") {
		cmd = exec.CommandContext(ctx, "make", "--no-print-directory", "-C", src, "synth", "ARGS="+strings.Join(synthArgs, " "))
	} else {
		args := append(append([]string{}, c.Command[1:]...), "synth", "--quiet")
		cmd = exec.CommandContext(ctx, c.Command[0], append(args, synthArgs...)...)
		cmd.Dir = src
	}
	cmd.Env = offlineEnv(c.Scratch)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return log.String(), fmt.Errorf("synthesis of environment %s in %s failed (%v); its output:\n%s", env, src, err, tail(log.String(), 40))
	}
	return log.String(), nil
}

func hasMakeTarget(makefile, target string) bool {
	data, err := os.ReadFile(makefile)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, target+":") {
			return true
		}
	}
	return false
}

// hasDestructiveList tells whether the CLI printed its list of destructive
// changes (the reason for exit status 1 under --fail-on destructive).
func hasDestructiveList(out string) bool {
	for _, line := range strings.Split(ansiEscape.ReplaceAllString(out, ""), "\n") {
		if destructiveHead.MatchString(strings.TrimSpace(line)) {
			return true
		}
	}
	return false
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
