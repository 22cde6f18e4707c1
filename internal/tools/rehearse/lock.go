package rehearse

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockFile is the file a rehearsal holds locked while it runs. A rehearsal
// uses the ports of the templates (PostgreSQL, Redis, every component's
// ports) on fixed loopback addresses, so two at once on one machine would
// reach each other's servers: the second waits for the first.
func LockFile() string { return filepath.Join(os.TempDir(), "tts-ecs-rehearsal.lock") }

// lockMachine takes the machine-wide rehearsal lock, waiting for another
// rehearsal to end (and saying so on out) until ctx is done. The returned
// function releases it.
func lockMachine(ctx context.Context, out io.Writer) (func(), error) {
	f, err := os.OpenFile(LockFile(), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("the rehearsal lock %s: %w", LockFile(), err)
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
		}
		if err != syscall.EWOULDBLOCK {
			_ = f.Close()
			return nil, fmt.Errorf("the rehearsal lock %s: %w", LockFile(), err)
		}
		if !told {
			fmt.Fprintf(out, "waiting for another rehearsal on this machine to end (it holds %s)\n", LockFile())
			told = true
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("another rehearsal on this machine still runs (it holds %s): %w", LockFile(), ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
