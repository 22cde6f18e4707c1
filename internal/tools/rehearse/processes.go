package rehearse

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/rehearse/smoke"
)

// proc is a started process: its output lines are kept in memory (for the
// checks) and written to <work>/logs/<name>.log.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	logs *logBook
}

// logBook keeps every line of every process.
type logBook struct {
	mu    sync.Mutex
	lines []smoke.LogLine
	// masks by process: what CloudWatch Logs masks in its lines.
	masks map[string][]*regexp.Regexp
}

// mask makes the lines of process read as CloudWatch Logs shows them under a
// data protection policy: every match of a pattern becomes asterisks.
func (l *logBook) mask(process string, patterns []*regexp.Regexp) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.masks == nil {
		l.masks = map[string][]*regexp.Regexp{}
	}
	l.masks[process] = patterns
}

func (l *logBook) add(process, text string) {
	l.mu.Lock()
	for _, re := range l.masks[process] {
		text = re.ReplaceAllLiteralString(text, "****")
	}
	l.lines = append(l.lines, smoke.LogLine{Process: process, Text: text})
	l.mu.Unlock()
}

// All returns a copy of every line so far.
func (l *logBook) All() []smoke.LogLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]smoke.LogLine(nil), l.lines...)
}

func (l *logBook) of(process string) []string {
	var out []string
	for _, x := range l.All() {
		if x.Process == process {
			out = append(out, x.Text)
		}
	}
	return out
}

// start runs name's program in its own process group with env (nil: this
// process's environment).
func (r *run) start(name string, env []string, prog string, args ...string) (*proc, error) {
	cmd := exec.Command(prog, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return r.startCmd(name, cmd)
}

func (r *run) startCmd(name string, cmd *exec.Cmd) (*proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	logDir := filepath.Join(r.work, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), logs: r.logs}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s (%s): %v", name, cmd.Path, err)
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			p.logs.add(name, line)
			fmt.Fprintln(f, line)
			if r.verbose {
				fmt.Fprintf(r.out, "%-10s | %s\n", name, line)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		<-copied
		f.Close()
		close(p.done)
	}()
	r.mu.Lock()
	r.procs = append(r.procs, p)
	r.mu.Unlock()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitCode waits for the process and returns its exit code.
func (p *proc) wait(ctx context.Context) (int, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		p.stop()
		return -1, ctx.Err()
	}
	if p.cmd.ProcessState == nil {
		return -1, p.err
	}
	return p.cmd.ProcessState.ExitCode(), nil
}

func (p *proc) tail(n int) string {
	return lastLines(strings.Join(p.logs.of(p.name), "\n"), n)
}

// stop ends the process group: SIGTERM, then SIGKILL after 10 seconds.
func (p *proc) stop() {
	if p.exited() || p.cmd.Process == nil {
		return
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

// stopAll stops every process, the last started first.
func (r *run) stopAll() {
	r.mu.Lock()
	ps := append([]*proc(nil), r.procs...)
	r.mu.Unlock()
	var wg sync.WaitGroup
	// Services first (in parallel), the data tier (started first) last.
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].name == "postgres" || ps[i].name == "redis" {
			continue
		}
		wg.Add(1)
		go func(p *proc) { defer wg.Done(); p.stop() }(ps[i])
	}
	wg.Wait()
	for _, p := range ps {
		if p.name == "postgres" || p.name == "redis" {
			p.stop()
		}
	}
}

func waitTCP(ctx context.Context, p *proc, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited before listening on %s; its log:\n%s", p.name, addr, p.tail(20))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("nothing listens on %s after %s: %v", addr, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
