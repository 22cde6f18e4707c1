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
// both TLS modes and with the Packet Broker Agent (make rehearse) and fails with the failing rows. It needs
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
		outside   map[string]string
	}{
		{"LoadBalancerTLS", nil, nil},
		{"ProxyTLS", map[string]string{"SupportProxyTLS": "true"}, nil},
		// The Packet Broker Agent with the API key secret the operator
		// makes; the shared build's agent is a stub (see stubAgent).
		{"PacketBrokerAgent", pbaOn, map[string]string{
			pbaOn["PacketBrokerApiKeySecret"]: `{"id":"rehearsal-api-key-id","secret":"rehearsal-api-key-secret-0123456789"}`,
		}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			a := synthOnce(t, mode.overrides)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var log strings.Builder
			rp, err := rehearse.Run(ctx, rehearse.Options{
				Assembly: a.Dir, TTS: tts, FrequencyPlans: os.Getenv("TTS_FREQUENCY_PLANS"), Out: &log, OutsideSecrets: mode.outside,
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
			// The features the parameters turn on were exercised, not left out.
			want := []string{"Pictures: upload a profile picture, read it at the advertised URL",
				"Ops access: is-db create-user-api-key, is-db migrate and ns-db cleanup in the tasks' environment (make exec)",
				"Join: a device of the deployment's Join Server joins through the UDP gateway; the join-accept reaches the gateway",
				"Metrics: /metrics needs the generated password; each collector keeps exactly the table's series, as The Things Stack exports them"}
			if mode.outside != nil {
				want = append(want, "pba: configuration loaded (stub agent)", "Packet Broker Agent: /api/v3/pba/ and the Pba gRPC service routed to it")
			}
			for _, w := range want {
				found := false
				for _, r := range rp.Results {
					found = found || (r.Check == w && r.OK)
				}
				if !found {
					t.Errorf("no passing row %q", w)
				}
				if strings.HasPrefix(w, "Metrics:") || strings.HasPrefix(w, "Join:") {
					for _, r := range rp.Results {
						if r.Check == w {
							t.Logf("%s: %s", w, r.Detail)
						}
					}
				}
			}
		})
	}
}
