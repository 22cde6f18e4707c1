// Package listeners is the listener set of the public load balancer, derived
// from the port table, and the switch between the two TLS modes:
//
//   - TLS terminated by the load balancer: every TLS port is a TLS listener
//     with the ACM certificate, forwarding plain TCP to the component's plain
//     port (443 to the proxy's HTTP port, 8886 to the Identity Server's 1886).
//   - TLS terminated by the proxy: 443 and 8886 are TCP listeners that pass
//     TLS through to the proxy's TLS ports; the other TLS ports stay as above.
//
// A listener's identity is its port, so a switch of mode updates listeners in
// place. A target group's identity is its server, protocol and port, so a
// switch creates the new target group before the old one is removed.
package listeners

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/ports"
	"github.com/lorawan-stack-aws/tts-ecs/proxy"
)

// Props configure the listener set.
type Props struct {
	Vpc awsec2.IVpc
	Nlb elbv2.INetworkLoadBalancer
	// NlbSecurityGroup is the load balancer's security group; ingress rules
	// for every listener are added to it.
	NlbSecurityGroup awsec2.ISecurityGroup
	// Certificate is the ACM certificate ARN of the TLS listeners.
	Certificate string
	// ProxyTLS: the proxy terminates TLS on 443 and 8886.
	ProxyTLS bool
	// Interop: Backend Interfaces on 8886.
	Interop bool
	// PlainPorts: also expose the plain ports of the TLS rows.
	PlainPorts bool
	// IngressCIDRs by port group.
	IngressCIDRs map[ports.Group][]string
}

// Target is a target group and what the service that registers with it needs.
type Target struct {
	Server   ports.Server
	Port     int
	Protocol elbv2.Protocol
	Group    elbv2.NetworkTargetGroup
}

// Listeners is the listener set, its target groups and the task security
// groups.
type Listeners struct {
	constructs.Construct
	// Listeners by public port.
	Listeners map[int]elbv2.NetworkListener
	// Targets in creation order.
	Targets []*Target
	// TaskSecurityGroups by server; ports.Routed is the proxy's. Other
	// components (Network Server, Join Server, ...) use Internal.
	TaskSecurityGroups map[ports.Server]awsec2.SecurityGroup
	Internal           awsec2.SecurityGroup
}

// InternalServer names the task security group of the components that have
// no public port.
const InternalServer ports.Server = "internal"

// listenerSpec is one listener to create.
type listenerSpec struct {
	port     int
	protocol elbv2.Protocol
	group    ports.Group
	alpn     elbv2.AlpnPolicy
	server   ports.Server
	target   int
	targetP  elbv2.Protocol
	// health is the health check of the target group.
	health *elbv2.HealthCheck
}

// specs returns the listeners the props ask for, sorted by public port.
func specs(props Props) []listenerSpec {
	var out []listenerSpec
	tcpHealth := func(port int) *elbv2.HealthCheck {
		return &elbv2.HealthCheck{Protocol: elbv2.Protocol_TCP, Port: jsii.String(fmt.Sprint(port)),
			Interval: awscdk.Duration_Seconds(jsii.Number(10)), HealthyThresholdCount: jsii.Number(3), UnhealthyThresholdCount: jsii.Number(3)}
	}
	proxyHealth := &elbv2.HealthCheck{Protocol: elbv2.Protocol_HTTP, Port: jsii.String(fmt.Sprint(proxy.DefaultHealthPort)), Path: jsii.String(proxy.HealthPath),
		Interval: awscdk.Duration_Seconds(jsii.Number(10)), HealthyThresholdCount: jsii.Number(3), UnhealthyThresholdCount: jsii.Number(3)}
	health := func(server ports.Server, port int) *elbv2.HealthCheck {
		if server == ports.Routed {
			return proxyHealth
		}
		return tcpHealth(port)
	}
	for _, p := range ports.Table() {
		if p.Kind == ports.KindInterop && !props.Interop {
			continue
		}
		if p.Transport == ports.UDP {
			// UDP cannot be health-checked; the Gateway Server's gRPC port tells
			// whether the task is up.
			grpc := ports.Must("grpc")
			out = append(out, listenerSpec{port: p.Plain, protocol: elbv2.Protocol_UDP, group: p.Group, server: p.ServedBy,
				target: p.Plain, targetP: elbv2.Protocol_UDP, health: tcpHealth(grpc.Plain)})
			continue
		}
		server, target := p.ServedBy, p.Plain
		if p.Kind == ports.KindHTTP {
			server = ports.Routed
		}
		passThrough := props.ProxyTLS && (p.Kind == ports.KindHTTP || p.Kind == ports.KindInterop)
		switch {
		case passThrough:
			// The proxy listens with TLS on the public port itself.
			out = append(out, listenerSpec{port: p.PublicTLS(), protocol: elbv2.Protocol_TCP, group: p.Group, server: ports.Routed,
				target: p.PublicTLS(), targetP: elbv2.Protocol_TCP, health: proxyHealth})
		default:
			alpn := elbv2.AlpnPolicy_NONE
			if p.Kind == ports.KindGRPC {
				alpn = elbv2.AlpnPolicy_HTTP2_ONLY
			}
			out = append(out, listenerSpec{port: p.PublicTLS(), protocol: elbv2.Protocol_TLS, group: p.Group, alpn: alpn, server: server,
				target: target, targetP: elbv2.Protocol_TCP, health: health(server, target)})
		}
		if props.PlainPorts {
			out = append(out, listenerSpec{port: p.Plain, protocol: elbv2.Protocol_TCP, group: p.Group, server: server,
				target: target, targetP: elbv2.Protocol_TCP, health: health(server, target)})
		}
	}
	// 80 redirects to https in the proxy.
	out = append(out, listenerSpec{port: ports.HTTPRedirectPort, protocol: elbv2.Protocol_TCP, group: ports.Applications, server: ports.Routed,
		target: ports.HTTPRedirectPort, targetP: elbv2.Protocol_TCP, health: proxyHealth})
	sort.SliceStable(out, func(i, j int) bool { return out[i].port < out[j].port })
	return out
}

// New creates the listener set.
func New(scope constructs.Construct, id string, props Props) (*Listeners, error) {
	switch {
	case props.Vpc == nil || props.Nlb == nil || props.NlbSecurityGroup == nil:
		return nil, fmt.Errorf("listeners: Vpc, Nlb and NlbSecurityGroup are required")
	case props.Certificate == "":
		return nil, fmt.Errorf("listeners: Certificate is empty; the TLS ports other than 443 and 8886 always need the ACM certificate")
	}
	for _, g := range []ports.Group{ports.Gateways, ports.Applications, ports.Interop} {
		if len(props.IngressCIDRs[g]) == 0 {
			return nil, fmt.Errorf("listeners: no ingress CIDRs for the %s ports; give at least one", g)
		}
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	out := &Listeners{Construct: c, Listeners: map[int]elbv2.NetworkListener{}, TaskSecurityGroups: map[ports.Server]awsec2.SecurityGroup{}}

	for _, s := range []ports.Server{ports.GatewayServer, ports.ApplicationServer, ports.IdentityServer, ports.Routed, InternalServer} {
		sg := awsec2.NewSecurityGroup(c, jsii.String("Tasks-"+string(s)), &awsec2.SecurityGroupProps{
			Vpc:              props.Vpc,
			Description:      jsii.String(fmt.Sprintf("The Things Stack tasks (%s): ingress only from the load balancer and the other tasks", s)),
			AllowAllOutbound: jsii.Bool(true),
		})
		out.TaskSecurityGroups[s] = sg
	}
	out.Internal = out.TaskSecurityGroups[InternalServer]

	targets := map[string]*Target{}
	openedFromNlb := map[string]bool{}
	openedPublic := map[string]bool{}
	for _, spec := range specs(props) {
		key := fmt.Sprintf("%s-%s%d", spec.server, spec.targetP, spec.target)
		t, ok := targets[key]
		if !ok {
			t = &Target{Server: spec.server, Port: spec.target, Protocol: spec.targetP}
			attrs := targetAttributes(spec.targetP)
			t.Group = elbv2.NewNetworkTargetGroup(c, jsii.String("Target-"+key), &elbv2.NetworkTargetGroupProps{
				Vpc:                   props.Vpc,
				Port:                  jsii.Number(float64(spec.target)),
				Protocol:              spec.targetP,
				TargetType:            elbv2.TargetType_IP,
				HealthCheck:           spec.health,
				DeregistrationDelay:   awscdk.Duration_Seconds(jsii.Number(attrs.deregistration)),
				PreserveClientIp:      jsii.Bool(attrs.preserveClientIP),
				ConnectionTermination: jsii.Bool(attrs.terminate),
			})
			targets[key] = t
			out.Targets = append(out.Targets, t)
			// The load balancer reaches the target and its health check.
			sg := out.TaskSecurityGroups[spec.server]
			allowOnce(openedFromNlb, sg, props.NlbSecurityGroup, spec.targetP, spec.target, "from the load balancer")
			if hp, ok := healthPort(spec.health); ok {
				allowOnce(openedFromNlb, sg, props.NlbSecurityGroup, elbv2.Protocol_TCP, hp, "health check from the load balancer")
			}
		}
		// The listener is created here, not under the load balancer, so that it
		// lives in this stack beside its target groups.
		lp := &elbv2.NetworkListenerProps{
			LoadBalancer:        props.Nlb,
			Port:                jsii.Number(float64(spec.port)),
			Protocol:            spec.protocol,
			DefaultTargetGroups: &[]elbv2.INetworkTargetGroup{t.Group},
		}
		if spec.protocol == elbv2.Protocol_TLS {
			lp.Certificates = &[]elbv2.IListenerCertificate{elbv2.ListenerCertificate_FromArn(jsii.String(props.Certificate))}
			lp.SslPolicy = elbv2.SslPolicy_TLS13_12_PQ
			lp.AlpnPolicy = spec.alpn
		}
		out.Listeners[spec.port] = elbv2.NewNetworkListener(c, jsii.String(fmt.Sprintf("Listener%d", spec.port)), lp)
		for _, cidr := range props.IngressCIDRs[spec.group] {
			openPublic(c, openedPublic, props.NlbSecurityGroup, cidr, spec.protocol, spec.port)
		}
	}
	allowBetweenTasks(out)
	return out, nil
}

type attributes struct {
	deregistration   float64
	preserveClientIP bool
	terminate        bool
}

// targetAttributes: UDP flows are short and keep the client address (the
// Gateway Server answers the gateway's address); TCP connections (MQTT,
// WebSocket, gRPC streams, HTTP) are long-lived, so a deregistered task gets
// 60 s to drain and then its connections are closed, so that clients
// reconnect to a healthy task instead of hanging. Client IPs of TCP
// connections are not preserved, so that task security groups admit only the
// load balancer; HTTP clients' addresses reach TTS through the proxy's
// X-Forwarded-For.
func targetAttributes(p elbv2.Protocol) attributes {
	if p == elbv2.Protocol_UDP {
		return attributes{deregistration: 30, preserveClientIP: true}
	}
	return attributes{deregistration: 60, preserveClientIP: false, terminate: true}
}

func healthPort(h *elbv2.HealthCheck) (int, bool) {
	if h == nil || h.Port == nil {
		return 0, false
	}
	var p int
	_, err := fmt.Sscan(*h.Port, &p)
	return p, err == nil
}

func allowOnce(done map[string]bool, sg awsec2.SecurityGroup, from awsec2.ISecurityGroup, proto elbv2.Protocol, port int, why string) {
	key := fmt.Sprintf("%s/%s/%d", *sg.Node().Id(), proto, port)
	if done[key] {
		return
	}
	done[key] = true
	sg.AddIngressRule(from, ec2Port(proto, port), jsii.String(fmt.Sprintf("%s (%s %d)", why, proto, port)), nil)
}

func ec2Port(proto elbv2.Protocol, port int) awsec2.Port {
	if proto == elbv2.Protocol_UDP {
		return awsec2.Port_Udp(jsii.Number(float64(port)))
	}
	return awsec2.Port_Tcp(jsii.Number(float64(port)))
}

// openPublic admits a CIDR to a listener port on the load balancer's security
// group, as a rule resource of this stack.
func openPublic(scope constructs.Construct, done map[string]bool, sg awsec2.ISecurityGroup, cidr string, proto elbv2.Protocol, port int) {
	ipProto := "tcp"
	if proto == elbv2.Protocol_UDP {
		ipProto = "udp"
	}
	key := fmt.Sprintf("%s/%s/%d", cidr, ipProto, port)
	if done[key] {
		return
	}
	done[key] = true
	rule := awsec2.NewCfnSecurityGroupIngress(scope, jsii.String(fmt.Sprintf("Public-%s%d-%s", ipProto, port, cidr)), &awsec2.CfnSecurityGroupIngressProps{
		GroupId:     sg.SecurityGroupId(),
		IpProtocol:  jsii.String(ipProto),
		FromPort:    jsii.Number(float64(port)),
		ToPort:      jsii.Number(float64(port)),
		CidrIp:      jsii.String(cidr),
		Description: jsii.String(fmt.Sprintf("public %s %d", ipProto, port)),
	})
	if cidr == "0.0.0.0/0" {
		cdknag.NagSuppressions_AddResourceSuppressions(rule, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-EC23"),
			Reason: jsii.String(fmt.Sprintf("Port %d is a public LoRaWAN endpoint: gateways, applications and peer networks connect from "+
				"anywhere, and the operator kept the default CIDR 0.0.0.0/0; narrow it with the *IngressCidrs parameters.", port)),
		}}, jsii.Bool(false))
	}
}

// allowBetweenTasks lets every task reach the cluster ports (gRPC and HTTP)
// of every other task, and the proxy reach the Identity Server's interop port.
func allowBetweenTasks(l *Listeners) {
	grpc, http, interop := ports.Must("grpc"), ports.Must("http"), ports.Must("interop")
	servers := []ports.Server{ports.GatewayServer, ports.ApplicationServer, ports.IdentityServer, ports.Routed, InternalServer}
	for _, to := range servers {
		for _, from := range servers {
			sg := l.TaskSecurityGroups[to]
			peer := l.TaskSecurityGroups[from]
			sg.AddIngressRule(peer, awsec2.Port_TcpRange(jsii.Number(float64(grpc.Plain)), jsii.Number(float64(http.Plain))),
				jsii.String(fmt.Sprintf("cluster gRPC and HTTP from %s tasks", from)), nil)
		}
	}
	l.TaskSecurityGroups[ports.IdentityServer].AddIngressRule(l.TaskSecurityGroups[ports.Routed], awsec2.Port_Tcp(jsii.Number(float64(interop.Plain))),
		jsii.String("Backend Interfaces from the proxy"), nil)
}
