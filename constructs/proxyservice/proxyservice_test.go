package proxyservice

import (
	"fmt"
	"strings"
	"testing"
	"time"

	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

func TestValidateReportsEveryProblem(t *testing.T) {
	err := Props{
		Image:            "nginx:latest",
		Config:           strings.Repeat("x", MaxConfigBytes+1),
		Targets:          []*listeners.Target{{TargetSpec: listeners.TargetSpec{Port: 1700, Protocol: elbv2.Protocol_UDP}}},
		HealthPort:       0,
		DesiredCount:     0,
		CPU:              256,
		MemoryMiB:        256,
		HealthCheckGrace: time.Second,
	}.validate()
	if err == nil {
		t.Fatal("accepted")
	}
	got := diag.FromError(err)
	for _, want := range []string{"proxyservice.missing-scope", "proxyservice.unpinned-image", "proxyservice.config-too-large", "proxyservice.not-tcp",
		"proxyservice.bad-health-check", "proxyservice.no-tasks", "proxyservice.short-grace", "proxyservice.missing-log-retention"} {
		if !got.Has(want) {
			t.Errorf("no %s in %v", want, err)
		}
	}
	if err := (Props{Config: " "}).validate(); !diag.FromError(err).Has("proxyservice.empty-config") {
		t.Errorf("empty Config: %v", err)
	}
}

func TestContainerPortsAndStartScript(t *testing.T) {
	got := ContainerPorts([]*listeners.Target{{TargetSpec: listeners.TargetSpec{Port: 1885}}, {TargetSpec: listeners.TargetSpec{Port: 80}}, {TargetSpec: listeners.TargetSpec{Port: 1884}}, {TargetSpec: listeners.TargetSpec{Port: 1885}}}, 1880)
	if fmt.Sprint(got) != "[80 1880 1884 1885]" {
		t.Errorf("ContainerPorts %v, want [80 1880 1884 1885]", got)
	}
	s := StartScript()
	for _, want := range []string{`"$NGINX_CONF" > /etc/nginx/nginx.conf`, "nginx -t\n", "exec nginx -g 'daemon off;'"} {
		if !strings.Contains(s, want) {
			t.Errorf("start script lacks %q:\n%s", want, s)
		}
	}
	if strings.Index(s, "nginx -t") > strings.Index(s, "exec nginx") {
		t.Error("the start script must check the configuration before it starts nginx")
	}
}

func TestTLSStartScriptHandsOverToCertsync(t *testing.T) {
	for _, withCA := range []bool{false, true} {
		s := TLSStartScript(withCA)
		for _, want := range []string{`"$NGINX_CONF" > /etc/nginx/nginx.conf`, "mkdir -p /etc/nginx/tls", "exec /usr/local/bin/certsync -- nginx -g 'daemon off;'"} {
			if !strings.Contains(s, want) {
				t.Errorf("start script lacks %q:\n%s", want, s)
			}
		}
		if got := strings.Contains(s, `"$INTEROP_CLIENT_CA" > /etc/nginx/bi/client-ca.pem`); got != withCA {
			t.Errorf("withClientCA %v: writes the CA bundle: %v\n%s", withCA, got, s)
		}
		// nginx -t before certsync would fail: the certificate is not there yet.
		if strings.Contains(s, "nginx -t") {
			t.Errorf("start script runs nginx -t before certsync installed the certificate:\n%s", s)
		}
	}
}

func TestTLSPropsAreValidated(t *testing.T) {
	err := Props{Config: "events {}", TLS: &TLS{ClientCA: strings.Repeat("x", MaxConfigBytes)}}.validate()
	if err == nil {
		t.Fatal("accepted")
	}
	got := diag.FromError(err)
	for _, want := range []string{"proxyservice.incomplete-tls", "proxyservice.client-ca-unused", "proxyservice.config-too-large"} {
		if !got.Has(want) {
			t.Errorf("no %s in %v", want, err)
		}
	}
	if got.Has("proxyservice.unpinned-image") {
		t.Errorf("proxy TLS mode runs TLS.Image; Image must not be required: %v", err)
	}
}
