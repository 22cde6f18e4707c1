package ttsservice

import (
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/fargateservice"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// The validation runs before any construct exists, so these cases need no
// jsii runtime: every problem is reported at once, with what to do.
func TestPropsAreValidated(t *testing.T) {
	good := Props{
		Name: "is", ServiceDomain: "tts.local", Components: []ports.Component{ports.IdentityServer},
		Image: "thethingsnetwork/lorawan-stack:3.32.1", ConfigDigest: "0123456789abcdef",
		Ports:        []ports.Port{ports.GRPC(), ports.HTTP()},
		DesiredCount: 2, CPU: 512, MemoryMiB: 1024, HealthCheckGrace: time.Minute, HealthPath: "/healthz", LogRetention: "ONE_YEAR", Architecture: fargateservice.ARM64,
	}
	for _, c := range []struct {
		name   string
		change func(*Props)
		want   string
	}{
		{"only the CDK objects missing", func(*Props) {}, "ttsservice.missing-scope"},
		{"credential in the environment", func(p *Props) { p.Environment = map[string]*string{"TTN_LW_REDIS_PASSWORD": jsii.String("x")} }, "ttsservice.credential-in-environment"},
		{"cluster keys in the environment", func(p *Props) { p.Environment = map[string]*string{"TTN_LW_CLUSTER_KEYS": jsii.String("x")} }, "ttsservice.credential-in-environment"},
		{"digest set by hand", func(p *Props) { p.Environment = map[string]*string{DigestVariable: jsii.String("x")} }, "ttsservice.digest-in-environment"},
		{"latest image", func(p *Props) { p.Image = "thethingsnetwork/lorawan-stack:latest" }, "ttsservice.unpinned-image"},
		{"no architecture", func(p *Props) { p.Architecture = "" }, "ttsservice.bad-architecture"},
		{"untagged image", func(p *Props) { p.Image = "thethingsnetwork/lorawan-stack" }, "ttsservice.unpinned-image"},
		{"no HTTP port", func(p *Props) { p.Ports = []ports.Port{ports.GRPC()} }, "ttsservice.missing-port"},
		{"target not served", func(p *Props) {
			p.Targets = []*listeners.Target{{TargetSpec: listeners.TargetSpec{Server: ports.ServerIS, Port: 1886}}}
		}, "ttsservice.target-not-served"},
		{"bad size", func(p *Props) { p.MemoryMiB = 512 }, "ttsservice.task-size"},
		{"no tasks", func(p *Props) { p.DesiredCount = 0 }, "ttsservice.no-tasks"},
		{"short grace", func(p *Props) { p.HealthCheckGrace = time.Second }, "ttsservice.short-grace"},
		{"bad name", func(p *Props) { p.Name = "Identity_Server" }, "ttsservice.bad-name"},
		{"no digest", func(p *Props) { p.ConfigDigest = "" }, "ttsservice.missing-digest"},
		{"collector of a component nothing is kept of", func(p *Props) { p.Metrics = &Metrics{Namespace: "n", Region: "r"} }, "ttsservice.metrics-nothing-kept"},
		{"collector without a password", func(p *Props) {
			p.Name, p.Components, p.Metrics = "gs", []ports.Component{ports.GatewayServer}, &Metrics{Namespace: "n", Region: "r"}
		}, "ttsservice.metrics-incomplete"},
		{"collector of an open /metrics", func(p *Props) {
			p.Name, p.Components, p.Metrics = "gs", []ports.Component{ports.GatewayServer}, &Metrics{Namespace: "n", Region: "r"}
		}, "ttsservice.metrics-without-password"},
	} {
		p := good
		c.change(&p)
		err := p.validate()
		if !diag.FromError(err).Has(c.want) {
			t.Errorf("%s: error %v, want one of code %s", c.name, err, c.want)
		}
	}
}

func TestJobPropsAreValidated(t *testing.T) {
	s := &Service{props: Props{Name: "is", Environment: map[string]*string{"TTN_LW_HTTP_LISTEN_TLS": jsii.String("")}}}
	good := JobProps{Family: "tts-is-db-bootstrap", Purpose: "database bootstrap", Script: "true", CPU: 256, MemoryMiB: 512}
	if err := s.validateJob(good); err != nil {
		t.Fatalf("valid job refused: %v", err)
	}
	for _, c := range []struct {
		name   string
		change func(*JobProps)
		want   string
	}{
		{"bad family", func(p *JobProps) { p.Family = "tts/bootstrap" }, "ttsservice.bad-family"},
		{"empty script", func(p *JobProps) { p.Script = " " }, "ttsservice.empty-script"},
		{"secret shadows the configuration", func(p *JobProps) { p.Secrets = map[string]awsecs.Secret{"TTN_LW_HTTP_LISTEN_TLS": nil} }, "ttsservice.secret-shadows-configuration"},
		{"bad size", func(p *JobProps) { p.MemoryMiB = 100 }, "ttsservice.task-size"},
	} {
		p := good
		c.change(&p)
		err := s.validateJob(p)
		if !diag.FromError(err).Has(c.want) {
			t.Errorf("%s: error %v, want one of code %s", c.name, err, c.want)
		}
	}
}
