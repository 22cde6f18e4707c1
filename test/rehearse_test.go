package test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/rehearse"
)

// TestRehearsal runs the synthesized example environment on this machine in
// both TLS modes (make rehearse) and fails with the failing rows. It needs
// PostgreSQL, redis-server, nginx, curl, wget and the ttn-lw-stack binary
// (TTS_BINARY); without them it skips, except under CI=true, where it fails.
func TestRehearsal(t *testing.T) {
	if testing.Short() {
		t.Skip("the rehearsal starts every service (about a minute per mode)")
	}
	tts := os.Getenv("TTS_BINARY")
	if tts == "" {
		tts, _ = exec.LookPath("ttn-lw-stack")
	}
	missing := []string{}
	if tts == "" {
		missing = append(missing, "ttn-lw-stack (set TTS_BINARY)")
	}
	for _, tool := range []string{"redis-server", "curl", "wget", "/usr/sbin/nginx"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(found) == 0 {
		missing = append(missing, "a PostgreSQL server (/usr/lib/postgresql/*/bin)")
	}
	if len(missing) > 0 {
		msg := "the rehearsal needs " + strings.Join(missing, ", ")
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPED: " + msg)
	}
	for _, mode := range []struct {
		name      string
		overrides map[string]string
	}{
		{"LoadBalancerTLS", nil},
		{"ProxyTLS", map[string]string{"SupportProxyTLS": "true"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			a := synthOnce(t, mode.overrides)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var log strings.Builder
			rp, err := rehearse.Run(ctx, rehearse.Options{
				Assembly: a.Dir, TTS: tts, FrequencyPlans: os.Getenv("TTS_FREQUENCY_PLANS"), Out: &log,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("rehearsal took %s", rp.Duration)
			var table strings.Builder
			rp.Print(&table)
			if !rp.OK() {
				t.Errorf("the rehearsal failed:\n%s", table.String())
			}
		})
	}
}
