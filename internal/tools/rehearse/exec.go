package rehearse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/rehearse/smoke"
)

// execIn runs argv as ECS Exec runs a command in a running task of the service name
// (make exec): in the task's container of The Things Stack, with that
// container's environment and secrets as the ECS agent resolves them, the
// image's programs (ttn-lw-stack: the rehearsal's binary) on PATH. The
// output is the session's, not the container's log.
func (r *run) execIn(ctx context.Context, name string, argv ...string) (smoke.ExecResult, error) {
	if len(argv) == 0 {
		return smoke.ExecResult{}, errors.New("no command")
	}
	var svc *service
	for _, s := range r.services {
		if s.name == name {
			svc = s
		}
	}
	if svc == nil {
		return smoke.ExecResult{}, fmt.Errorf("no service %s in the assembly", name)
	}
	if !svc.exec {
		return smoke.ExecResult{}, fmt.Errorf("service %s has no ECS Exec (EnableExecuteCommand)", name)
	}
	var main *container
	for i, c := range svc.containers {
		if r.isTTS(c) {
			main = &svc.containers[i]
		}
	}
	if main == nil {
		return smoke.ExecResult{}, fmt.Errorf("service %s runs no container of The Things Stack", name)
	}
	env, err := r.containerEnv(ctx, *main, svc.addr)
	if err != nil {
		return smoke.ExecResult{}, err
	}
	dir := filepath.Join(r.work, "exec", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return smoke.ExecResult{}, err
	}
	cmd := r.taskCmd(ctx, dir, env, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	res := smoke.ExecResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		res.Code = exit.ExitCode()
		return res, nil
	}
	return res, err
}
