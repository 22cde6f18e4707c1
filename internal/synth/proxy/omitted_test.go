package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// deployedUpstreams are the fake upstreams of a deployment that runs no
// Device Repository and no Packet Broker Agent.
func deployedUpstreams(ups map[ports.Component]Upstream) map[ports.Component]Upstream {
	out := make(map[ports.Component]Upstream)
	for c, u := range ups {
		if c != ports.DeviceRepository && c != ports.PacketBrokerAgent {
			out[c] = u
		}
	}
	return out
}

func TestOmittedValidation(t *testing.T) {
	ups := loopbackUpstreams()
	cases := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"missing without Omitted", Config{Upstreams: deployedUpstreams(ups)}, []string{"proxy.missing-upstream"}},
		{"in both", Config{Upstreams: ups, Omitted: []ports.Component{ports.DeviceRepository}}, []string{"proxy.omitted-and-upstream"}},
		{"unknown", Config{Upstreams: deployedUpstreams(ups), Omitted: []ports.Component{ports.DeviceRepository, ports.PacketBrokerAgent, "xx"}}, []string{"proxy.unknown-component"}},
		{"identity server with proxy TLS", Config{SupportProxyTLS: true, Upstreams: map[ports.Component]Upstream{}, Omitted: ports.Components()}, []string{"proxy.identity-server-omitted"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !hasProblem(err, w, "Omitted") && !hasProblem(err, w, "Upstreams") {
					t.Errorf("error %q lacks %s", err, w)
				}
			}
		})
	}
	if err := (Config{Upstreams: deployedUpstreams(ups), Omitted: []ports.Component{ports.DeviceRepository, ports.PacketBrokerAgent}}).Validate(); err != nil {
		t.Errorf("dr and pba omitted: %v", err)
	}
}

func TestOmittedRender(t *testing.T) {
	conf, err := Render(Config{Upstreams: deployedUpstreams(loopbackUpstreams()), Omitted: []ports.Component{ports.DeviceRepository, ports.PacketBrokerAgent}})
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"upstream tts_dr_", "upstream tts_pba_", "tts_dr_http", "tts_pba_grpc"} {
		if strings.Contains(conf, absent) {
			t.Errorf("configuration contains %q", absent)
		}
	}
	for _, present := range []string{
		"# Not deployed (HTTP 404, gRPC UNIMPLEMENTED): dr, pba.",
		`return 404 "Device Repository (dr) is not deployed here\n";`,
		`add_header grpc-message "Packet Broker Agent (pba) is not deployed here" always;`,
		"upstream tts_qrg_http",
	} {
		if !strings.Contains(conf, present) {
			t.Errorf("configuration lacks %q", present)
		}
	}
	nginxTest(t, nginxBinary(t), conf)
}

// Real nginx answers the routes of omitted components itself, and still
// forwards the others.
func TestIntegrationOmittedComponents(t *testing.T) {
	bin := nginxBinary(t)
	ups, rec := fakeComponents(t)
	p := freePorts(t, 4)
	runNginx(t, bin, Config{
		Upstreams:     deployedUpstreams(ups),
		Omitted:       []ports.Component{ports.DeviceRepository, ports.PacketBrokerAgent},
		ListenAddress: "127.0.0.1",
		Listen:        Listen{HTTP: p[0], GRPC: p[1], Redirect: p[2], Health: p[3]},
	})
	client := &http.Client{Timeout: 10 * time.Second}
	before := rec.count()
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/api/v3/dr/applications/app1/brands", p[0]))
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || string(body) != "Device Repository (dr) is not deployed here\n" {
		t.Errorf("/api/v3/dr/...: %d %q, want 404 naming the Device Repository", resp.StatusCode, body)
	}
	if rec.count() != before {
		t.Error("a request to an omitted component reached an upstream")
	}

	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/ttn.lorawan.v3.Pba/GetInfo", p[1]), bytes.NewReader(grpcFrame(nil)))
	must(t, err)
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	resp, err = h2cClient().Do(req)
	must(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	status := resp.Header.Get("Grpc-Status") + resp.Trailer.Get("Grpc-Status")
	msg := resp.Header.Get("Grpc-Message") + resp.Trailer.Get("Grpc-Message")
	if status != "12" || !strings.Contains(msg, "Packet Broker Agent (pba) is not deployed here") {
		t.Errorf("Pba/GetInfo: grpc-status %q, message %q; want 12 naming the Packet Broker Agent", status, msg)
	}
	if rec.count() != before {
		t.Error("a gRPC call to an omitted component reached an upstream")
	}

	resp, err = client.Get(fmt.Sprintf("http://127.0.0.1:%d/api/v3/qr-codes/end-devices/formats", p[0]))
	must(t, err)
	resp.Body.Close()
	if got := resp.Header.Get("X-Upstream"); got != "qrg/http" {
		t.Errorf("/api/v3/qr-codes/...: answered by %q, want the qrg upstream", got)
	}
}
