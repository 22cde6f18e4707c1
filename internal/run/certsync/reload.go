package certsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Reloader makes the server load the new files without dropping connections.
type Reloader interface {
	Reload(ctx context.Context) error
}

// CommandReloader runs a command, e.g. "nginx -s reload". It works when the
// command runs in the same container (or PID namespace) as the nginx master.
type CommandReloader struct {
	Argv    []string
	Timeout time.Duration // default 30 s
}

// Reload implements Reloader.
func (r CommandReloader) Reload(ctx context.Context) error {
	out, err := RunCommand(ctx, r.Timeout, r.Argv)
	if err != nil {
		return fmt.Errorf("reload command %q failed: %w; output: %s", strings.Join(r.Argv, " "), err, out)
	}
	return nil
}

// SignalReloader sends SIGHUP to the nginx master, whose PID is read from a
// PID file (nginx's "pid" directive) or given directly. nginx answers SIGHUP
// with a graceful reload: new workers start with the new certificate, old
// workers finish their requests and exit. Across containers this needs a
// shared PID namespace (ECS pidMode "task") and a PID file on a shared volume,
// and permission to signal the master (same user or CAP_KILL).
type SignalReloader struct {
	PIDFile string
	PID     func() int // used when PIDFile is empty (supervised child)
}

// Reload implements Reloader.
func (r SignalReloader) Reload(context.Context) error {
	pid := 0
	if r.PIDFile != "" {
		b, err := os.ReadFile(r.PIDFile)
		if err != nil {
			return fmt.Errorf("read nginx PID file (is nginx running and the pid directive pointing there?): %w", err)
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 1 {
			return fmt.Errorf("PID file %s holds %q, not a process ID", r.PIDFile, strings.TrimSpace(string(b)))
		}
	} else if r.PID != nil {
		pid = r.PID()
	}
	if pid <= 1 {
		return errors.New("no nginx master process to signal")
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("send SIGHUP to nginx master %d (shared PID namespace and same user needed): %w", pid, err)
	}
	return nil
}

const maxOutput = 4 << 10

// RunCommand runs argv with a timeout (default 30 s) and returns the last
// 4 KiB of its combined output.
func RunCommand(ctx context.Context, timeout time.Duration, argv []string) (string, error) {
	if len(argv) == 0 {
		return "", errors.New("empty command")
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	out := buf.Bytes()
	if len(out) > maxOutput {
		out = out[len(out)-maxOutput:]
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s: %w", timeout, err)
	}
	return strings.TrimSpace(string(out)), err
}
