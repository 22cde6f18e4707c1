package rehearse

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// A second rehearsal waits for the first one's lock and gets it once the
// first is done; it gives up when its context ends.
func TestRehearsalsTakeTurns(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ctx := context.Background()
	unlock, err := lockMachine(ctx, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	if _, err := lockMachine(short, &out); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock while the first is held: %v, want the deadline", err)
	}
	if !strings.Contains(out.String(), "waiting for another rehearsal") {
		t.Errorf("the waiting rehearsal said %q", out.String())
	}
	got := make(chan error, 1)
	go func() {
		u, err := lockMachine(ctx, &bytes.Buffer{})
		if err == nil {
			u()
		}
		got <- err
	}()
	time.Sleep(200 * time.Millisecond)
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the lock was not handed over after the first rehearsal ended")
	}
}

// A port that another process listens on is refused before the rehearsal
// starts its own server there.
func TestPortInUseIsRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := portFree("PostgreSQL", addr); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("a port in use: %v", err)
	}
	l.Close()
	if err := portFree("PostgreSQL", addr); err != nil {
		t.Errorf("a free port: %v", err)
	}
}
