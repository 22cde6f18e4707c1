// Package listeners is the public face of the deployment on the Network Load
// Balancer, derived from the port table: the target groups of every server,
// the public listeners, the security groups of the tasks, and the two TLS
// modes:
//
//   - TLS terminated by the load balancer: every TLS port is a TLS listener
//     with the ACM certificate, forwarding plain TCP to the component's plain
//     port (443 to the proxy's HTTP port, 8886 to the Identity Server's 1886).
//   - TLS terminated by the proxy: 443 and 8886 are TCP listeners that pass
//     TLS through to the proxy's TLS ports; the other TLS ports stay as above.
//
// # A switch of mode without an outage
//
// A listener's identity is its port, so a switch updates it in place, and a
// Network Load Balancer listener forwards to one target group. For 443 and
// 8886 to serve at every moment of a switch, in either direction, the target
// group a listener switches to must already have registered targets, and the
// one it leaves must keep them until it has switched. The plan therefore
// separates two kinds of target group of these "switch ports":
//
//   - kept target groups, which exist in both modes: the proxy's plain HTTP
//     port (443 in load-balancer mode) and the Identity Server's interop port
//     (8886 in load-balancer mode; it exists even when interop is off, so that
//     turning interop off never deletes a target group that a listener of a
//     later stack still forwards to). Their servers stay registered in both
//     modes wherever they serve the port;
//   - mode target groups, which exist only in proxy TLS mode: the proxy's TLS
//     ports 443 and 8886, which it can serve only with its certificate.
//
// Every target group of a switch port also has a staging listener: a TCP
// listener on StagingPortOffset+port that no security-group rule opens. ECS
// registers tasks only in a target group that a listener uses, so the staging
// listener lets a service register in a target group before its public
// listener switches to it. The public listener of a switch port then waits
// for the service when it forwards to a mode target group (the proxy must
// serve TLS before 443 moves to it), and the service waits for the listener
// when the mode target groups go away (443 must leave them before the proxy
// deregisters). The stacks wire these dependencies (stacks.NewServices).
package listeners

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/proxy"
)

// StagingPortOffset: the staging listener of a target group on port P
// listens on StagingPortOffset+P: above every port of the table, below the
// ephemeral range.
const StagingPortOffset = 20000

// Mode is what decides the listener set.
type Mode struct {
	// ProxyTLS: the proxy terminates TLS on 443 and 8886.
	ProxyTLS bool
	// Interop: Backend Interfaces on 8886.
	Interop bool
	// PlainPorts: also expose the plain ports of the TLS rows.
	PlainPorts bool
}

// TargetSpec is one target group of the plan.
type TargetSpec struct {
	// Key identifies the target group: server, protocol and port. It is part
	// of the construct id, so a target group whose key changes is replaced.
	Key      string
	Server   ports.Server
	Port     int
	Protocol elbv2.Protocol
	Health   *elbv2.HealthCheck
	// Staging is the port of the staging listener; 0 when the target group
	// is not one of a switch port.
	Staging int
	// PassThrough: a proxy TLS port (exists in proxy TLS mode only).
	PassThrough bool
	// Registered: the server serves the port with these parameters and
	// registers its tasks. The kept target group of the other interop state
	// exists without targets.
	Registered bool
}

// HealthPort is the port the load balancer's health check of t reaches.
func (t TargetSpec) HealthPort() int {
	var p int
	if _, err := fmt.Sscan(*t.Health.Port, &p); err != nil {
		panic(fmt.Sprintf("listeners: health check port %q of %s is not a number", *t.Health.Port, t.Key))
	}
	return p
}

// ListenerSpec is one public listener of the plan.
type ListenerSpec struct {
	Port     int
	Protocol elbv2.Protocol
	Group    ports.Group
	ALPN     elbv2.AlpnPolicy
	// Target is the Key of the target group it forwards to.
	Target string
	// Switch: the port's target group differs between the TLS modes or the
	// interop states.
	Switch bool
}

// Plan is the public face of one parameter set.
type Plan struct {
	Mode      Mode
	Targets   []TargetSpec
	Listeners []ListenerSpec
}

// Target returns the target group with the given key.
func (p Plan) Target(key string) (TargetSpec, bool) {
	for _, t := range p.Targets {
		if t.Key == key {
			return t, true
		}
	}
	return TargetSpec{}, false
}

// TargetsOf returns the target groups of a server, in plan order.
func (p Plan) TargetsOf(s ports.Server) []TargetSpec {
	var out []TargetSpec
	for _, t := range p.Targets {
		if t.Server == s {
			out = append(out, t)
		}
	}
	return out
}

// NewPlan derives the plan of a mode from the port table.
func NewPlan(m Mode) (Plan, error) {
	cur := listenerSpecs(m)
	// The variants a deploy can switch to by a parameter: the other TLS mode
	// (first: its servers are this mode's), the other interop state, both.
	variants := [][]listenerSpec{
		listenerSpecs(Mode{ProxyTLS: !m.ProxyTLS, Interop: m.Interop, PlainPorts: m.PlainPorts}),
		listenerSpecs(Mode{ProxyTLS: m.ProxyTLS, Interop: !m.Interop, PlainPorts: m.PlainPorts}),
		listenerSpecs(Mode{ProxyTLS: !m.ProxyTLS, Interop: !m.Interop, PlainPorts: m.PlainPorts}),
	}
	targetOf := func(specs []listenerSpec) map[int]string {
		out := map[int]string{}
		for _, s := range specs {
			out[s.port] = s.target.key()
		}
		return out
	}
	curTargets := targetOf(cur)
	switchPorts := map[int]bool{}
	for _, v := range variants {
		vt := targetOf(v)
		for port, key := range vt {
			if curTargets[port] != key {
				switchPorts[port] = true
			}
		}
		for port := range curTargets {
			if _, ok := vt[port]; !ok {
				switchPorts[port] = true
			}
		}
	}

	plan := Plan{Mode: m}
	seen := map[string]int{}
	add := func(t target, registered bool) {
		if i, ok := seen[t.key()]; ok {
			plan.Targets[i].Registered = plan.Targets[i].Registered || registered
			return
		}
		seen[t.key()] = len(plan.Targets)
		plan.Targets = append(plan.Targets, TargetSpec{Key: t.key(), Server: t.server, Port: t.port, Protocol: t.protocol,
			Health: t.health(), PassThrough: t.passThrough, Registered: registered})
	}
	for _, s := range cur {
		add(s.target, true)
		plan.Listeners = append(plan.Listeners, ListenerSpec{Port: s.port, Protocol: s.protocol, Group: s.group, ALPN: s.alpn,
			Target: s.target.key(), Switch: switchPorts[s.port]})
	}
	// Kept target groups of the other variants: never a proxy TLS port,
	// which needs this mode's certificate. Registered when the variant
	// differs only in the TLS mode: the server serves the port in this mode
	// too.
	for i, v := range variants {
		for _, s := range v {
			if !switchPorts[s.port] || s.target.passThrough {
				continue
			}
			add(s.target, i == 0)
		}
	}
	for i := range plan.Targets {
		t := &plan.Targets[i]
		for _, v := range append([][]listenerSpec{cur}, variants...) {
			for _, s := range v {
				if switchPorts[s.port] && s.target.key() == t.Key {
					t.Staging = StagingPortOffset + t.Port
				}
			}
		}
	}
	if err := plan.checkStaging(); err != nil {
		return Plan{}, err
	}
	return plan, nil
}

// checkStaging reports staging ports that two target groups share or that a
// public listener uses.
func (p Plan) checkStaging() error {
	var errs diag.List
	stagingOf := map[int]string{}
	for i, t := range p.Targets {
		if t.Staging == 0 {
			continue
		}
		if other, ok := stagingOf[t.Staging]; ok {
			errs.Errorf("listeners.shared-staging-port", fmt.Sprintf("Targets[%d].Staging", i),
				"target groups %s and %s would share the staging port %d; change StagingPortOffset", other, t.Key, t.Staging)
			continue
		}
		stagingOf[t.Staging] = t.Key
	}
	for i, l := range p.Listeners {
		if _, ok := stagingOf[l.Port]; ok {
			errs.Errorf("listeners.public-staging-port", fmt.Sprintf("Listeners[%d].Port", i), "public port %d is also a staging port; change StagingPortOffset", l.Port)
		}
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("listeners:\n%w", err)
	}
	return nil
}

// target is a target group before it is a resource.
type target struct {
	server      ports.Server
	port        int
	protocol    elbv2.Protocol
	passThrough bool
	// healthPort is the TCP port checked (UDP targets are checked on the
	// Gateway Server's gRPC port); the proxy is checked over HTTP.
	healthPort int
}

func (t target) key() string { return fmt.Sprintf("%s-%s%d", t.server, t.protocol, t.port) }

func (t target) health() *elbv2.HealthCheck {
	if t.server == ports.ServerProxy {
		return &elbv2.HealthCheck{Protocol: elbv2.Protocol_HTTP, Port: jsii.String(fmt.Sprint(proxy.DefaultHealthPort)), Path: jsii.String(proxy.HealthPath),
			Interval: awscdk.Duration_Seconds(jsii.Number(10)), HealthyThresholdCount: jsii.Number(3), UnhealthyThresholdCount: jsii.Number(3)}
	}
	return &elbv2.HealthCheck{Protocol: elbv2.Protocol_TCP, Port: jsii.String(fmt.Sprint(t.healthPort)),
		Interval: awscdk.Duration_Seconds(jsii.Number(10)), HealthyThresholdCount: jsii.Number(3), UnhealthyThresholdCount: jsii.Number(3)}
}

// listenerSpec is one public listener of a mode.
type listenerSpec struct {
	port     int
	protocol elbv2.Protocol
	group    ports.Group
	alpn     elbv2.AlpnPolicy
	target   target
}

// listenerSpecs returns the public listeners of a mode, sorted by port.
func listenerSpecs(m Mode) []listenerSpec {
	var out []listenerSpec
	grpc := ports.GRPC()
	for _, p := range ports.Table() {
		if p.Kind == ports.KindInterop && !m.Interop {
			continue
		}
		if p.Transport == ports.UDP {
			// UDP cannot be health-checked; the Gateway Server's gRPC port tells
			// whether the task is up.
			out = append(out, listenerSpec{port: p.Plain, protocol: elbv2.Protocol_UDP, group: p.Group,
				target: target{server: p.ServedBy, port: p.Plain, protocol: elbv2.Protocol_UDP, healthPort: grpc.Plain}})
			continue
		}
		server := p.ServedBy
		if p.Kind == ports.KindHTTP {
			server = ports.ServerProxy
		}
		plain := target{server: server, port: p.Plain, protocol: elbv2.Protocol_TCP, healthPort: p.Plain}
		if m.ProxyTLS && (p.Kind == ports.KindHTTP || p.Kind == ports.KindInterop) {
			// The proxy listens with TLS on the public port itself.
			out = append(out, listenerSpec{port: p.PublicTLS(), protocol: elbv2.Protocol_TCP, group: p.Group,
				target: target{server: ports.ServerProxy, port: p.PublicTLS(), protocol: elbv2.Protocol_TCP, passThrough: true}})
		} else {
			alpn := elbv2.AlpnPolicy_NONE
			if p.Kind == ports.KindGRPC {
				alpn = elbv2.AlpnPolicy_HTTP2_ONLY
			}
			out = append(out, listenerSpec{port: p.PublicTLS(), protocol: elbv2.Protocol_TLS, group: p.Group, alpn: alpn, target: plain})
		}
		if m.PlainPorts {
			out = append(out, listenerSpec{port: p.Plain, protocol: elbv2.Protocol_TCP, group: p.Group, target: plain})
		}
	}
	// 80 redirects to https in the proxy.
	out = append(out, listenerSpec{port: ports.HTTPRedirectPort, protocol: elbv2.Protocol_TCP, group: ports.GroupApplications,
		target: target{server: ports.ServerProxy, port: ports.HTTPRedirectPort, protocol: elbv2.Protocol_TCP}})
	sort.SliceStable(out, func(i, j int) bool { return out[i].port < out[j].port })
	return out
}
