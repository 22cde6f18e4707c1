package ttsservice

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ports"
)

// The validation runs before any construct exists, so these cases need no
// jsii runtime: every problem is reported at once, with what to do.
func TestPropsAreValidated(t *testing.T) {
	good := Props{
		Name: "is", ServiceDomain: "tts.local", Components: []ports.Component{ports.IdentityServer},
		Image: "thethingsnetwork/lorawan-stack:3.32.1", ConfigDigest: "0123456789abcdef",
		Ports:        []ports.Port{ports.GRPC(), ports.HTTP()},
		DesiredCount: 2, CPU: 512, MemoryMiB: 1024, HealthCheckGrace: time.Minute, HealthPath: "/healthz", LogRetention: "ONE_YEAR",
	}
	for _, c := range []struct {
		name   string
		change func(*Props)
		want   string
	}{
		{"only the CDK objects missing", func(*Props) {}, "Cluster, Namespace, Subnets, SecurityGroup and SecretsKey are required"},
		{"credential in the environment", func(p *Props) { p.Environment = map[string]*string{"TTN_LW_REDIS_PASSWORD": jsii.String("x")} }, "TTN_LW_REDIS_PASSWORD looks like a credential"},
		{"cluster keys in the environment", func(p *Props) { p.Environment = map[string]*string{"TTN_LW_CLUSTER_KEYS": jsii.String("x")} }, "TTN_LW_CLUSTER_KEYS looks like a credential"},
		{"digest set by hand", func(p *Props) { p.Environment = map[string]*string{DigestVariable: jsii.String("x")} }, "set by the construct"},
		{"latest image", func(p *Props) { p.Image = "thethingsnetwork/lorawan-stack:latest" }, "pinned tag"},
		{"no HTTP port", func(p *Props) { p.Ports = []ports.Port{ports.GRPC()} }, "lack the http row"},
		{"target not served", func(p *Props) {
			p.Targets = []*listeners.Target{{TargetSpec: listeners.TargetSpec{Server: ports.ServerIS, Port: 1886}}}
		}, "port 1886 (is) is not among the container's Ports"},
		{"bad size", func(p *Props) { p.MemoryMiB = 512 }, "1024 to 4096"},
		{"no tasks", func(p *Props) { p.DesiredCount = 0 }, "at least 1 task"},
		{"short grace", func(p *Props) { p.HealthCheckGrace = time.Second }, "too short"},
		{"bad name", func(p *Props) { p.Name = "Identity_Server" }, "DNS label"},
		{"no digest", func(p *Props) { p.ConfigDigest = "" }, "restart when it changes"},
	} {
		p := good
		c.change(&p)
		err := p.validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.want)
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
		{"bad family", func(p *JobProps) { p.Family = "tts/bootstrap" }, "Family"},
		{"empty script", func(p *JobProps) { p.Script = " " }, "Script is empty"},
		{"secret shadows the configuration", func(p *JobProps) { p.Secrets = map[string]awsecs.Secret{"TTN_LW_HTTP_LISTEN_TLS": nil} }, "already part of the service's configuration"},
		{"bad size", func(p *JobProps) { p.MemoryMiB = 100 }, "512"},
	} {
		p := good
		c.change(&p)
		err := s.validateJob(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.want)
		}
	}
}
