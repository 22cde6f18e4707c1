package test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// combo is one of the 8 combinations of the three switches.
type combo struct{ proxyTLS, interop, packetBroker bool }

func (c combo) overrides() map[string]string {
	return map[string]string{
		"SupportProxyTLS":            fmt.Sprint(c.proxyTLS),
		"InteropEnabled":             fmt.Sprint(c.interop),
		"InteropPacketBrokerEnabled": fmt.Sprint(c.packetBroker),
	}
}

func (c combo) valid() bool { return c.interop || !c.packetBroker }

func combos() []combo {
	var out []combo
	for _, p := range []bool{false, true} {
		for _, i := range []bool{false, true} {
			for _, b := range []bool{false, true} {
				out = append(out, combo{p, i, b})
			}
		}
	}
	return out
}

// listener is what a test sees of one listener: its protocol, whether it
// has a certificate, and its target group's protocol and port.
type listener struct {
	protocol    string
	certificate bool
	alpn        string
	target      string
}

// listenersOf returns the public listeners of the deployment (in the
// Services stack; the staging listeners, which no rule opens, excluded) with
// the target group each forwards to, followed across stacks.
func listenersOf(t *testing.T, a *Assembly) map[int]listener {
	t.Helper()
	tpl := a.Stack(t, "Services")
	out := map[int]listener{}
	for id, r := range tpl.OfType("AWS::ElasticLoadBalancingV2::Listener") {
		port := int(get(r.Properties, "Port").(float64))
		if port >= listeners.StagingPortOffset {
			continue
		}
		if _, dup := out[port]; dup {
			t.Errorf("two listeners on port %d", port)
		}
		tg, ok := targetGroupOf(a, tpl, get(r.Properties, "DefaultActions", "0", "TargetGroupArn"))
		if !ok {
			t.Errorf("listener %s does not forward to a target group of the deployment", id)
			continue
		}
		if get(tg.Properties, "TargetType") != "ip" {
			t.Errorf("target group of port %d has target type %v, want ip (Fargate tasks)", port, get(tg.Properties, "TargetType"))
		}
		alpn := ""
		if a, ok := get(r.Properties, "AlpnPolicy", "0").(string); ok {
			alpn = a
		}
		if r.Properties["Protocol"] == "TLS" {
			if policy, _ := get(r.Properties, "SslPolicy").(string); !strings.Contains(policy, "TLS13-1-2") {
				t.Errorf("TLS listener %d has SslPolicy %q, want a TLS 1.3/1.2 policy", port, policy)
			}
		}
		out[port] = listener{
			protocol:    get(r.Properties, "Protocol").(string),
			certificate: get(r.Properties, "Certificates", "0", "CertificateArn") != nil,
			alpn:        alpn,
			target:      fmt.Sprintf("%v %v", get(tg.Properties, "Protocol"), get(tg.Properties, "Port")),
		}
	}
	return out
}

// targetGroupOf follows a target group reference of tpl: a Ref in tpl or a
// Fn::GetStackOutput of another stack's Ref.
func targetGroupOf(a *Assembly, tpl Template, v any) (Resource, bool) {
	if stack, value, ok := stackOutput(a, v); ok {
		tpl, v = a.Templates[stack], value
	}
	r, ok := tpl.Resources[refTo(v)]
	return r, ok && r.Type == "AWS::ElasticLoadBalancingV2::TargetGroup"
}

// expectedListeners is the listener table, written out.
func expectedListeners(c combo) map[int]listener {
	tls := func(target string) listener {
		return listener{protocol: "TLS", certificate: true, alpn: "None", target: target}
	}
	want := map[int]listener{
		1700: {protocol: "UDP", target: "UDP 1700"},
		8881: tls("TCP 1881"),
		8882: tls("TCP 1882"),
		8883: tls("TCP 1883"),
		8884: {protocol: "TLS", certificate: true, alpn: "HTTP2Only", target: "TCP 1884"},
		8887: tls("TCP 1887"),
		80:   {protocol: "TCP", target: "TCP 80"},
	}
	if c.proxyTLS {
		want[443] = listener{protocol: "TCP", target: "TCP 443"}
	} else {
		want[443] = tls("TCP 1885")
	}
	if c.interop {
		if c.proxyTLS {
			want[8886] = listener{protocol: "TCP", target: "TCP 8886"}
		} else {
			want[8886] = tls("TCP 1886")
		}
	}
	return want
}

func TestPacketBrokerWithoutInteropIsRefused(t *testing.T) {
	for _, c := range combos() {
		if c.valid() {
			continue
		}
		ctx := map[string]any{}
		for k, v := range c.overrides() {
			ctx[k] = v
		}
		p, problems := params.LoadEmbedded(ctx)
		if p != nil || !problems.Has("params.packet-broker-needs-interop") {
			t.Errorf("%+v: want the validation error that explains the fix, got %v", c, problems)
		}
	}
}

func TestListenersOfEveryCombination(t *testing.T) {
	for _, c := range combos() {
		if !c.valid() {
			continue
		}
		t.Run(fmt.Sprintf("proxy=%v,interop=%v,pb=%v", c.proxyTLS, c.interop, c.packetBroker), func(t *testing.T) {
			a := synthOnce(t, c.overrides())
			got := listenersOf(t, a)
			want := expectedListeners(c)
			for port, w := range want {
				g, ok := got[port]
				if !ok {
					t.Errorf("no listener on %d", port)
					continue
				}
				if g != w {
					t.Errorf("listener %d = %+v, want %+v", port, g, w)
				}
			}
			for port := range got {
				if _, ok := want[port]; !ok {
					t.Errorf("unexpected listener on %d", port)
				}
			}
		})
	}
}

func TestPlainPortsOnlyWhenAsked(t *testing.T) {
	a := synthOnce(t, map[string]string{"PlainPortsEnabled": "true"})
	got := listenersOf(t, a)
	for port, target := range map[int]string{1881: "TCP 1881", 1882: "TCP 1882", 1883: "TCP 1883", 1884: "TCP 1884", 1885: "TCP 1885", 1886: "TCP 1886", 1887: "TCP 1887"} {
		if g, ok := got[port]; !ok || g.protocol != "TCP" || g.target != target {
			t.Errorf("plain listener %d = %+v (present %v), want TCP to %s", port, g, ok, target)
		}
	}
	for port := range listenersOf(t, synthOnce(t, nil)) {
		if port >= 1881 && port <= 1887 {
			t.Errorf("plain listener %d exists by default", port)
		}
	}
}

func TestCertificateIsCreatedAndValidatedOrImported(t *testing.T) {
	a := synthOnce(t, nil)
	_, cert := only(t, a.Stack(t, "LoadBalancer"), "AWS::CertificateManager::Certificate")
	if get(cert.Properties, "DomainName") != a.Params.DomainName || get(cert.Properties, "ValidationMethod") != "DNS" ||
		get(cert.Properties, "SubjectAlternativeNames", "0") != "*."+a.Params.DomainName ||
		get(cert.Properties, "DomainValidationOptions", "0", "HostedZoneId") != a.Params.HostedZoneId {
		t.Errorf("certificate = %s, want %s and *.%s validated by DNS in zone %s", jsonText(cert.Properties), a.Params.DomainName, a.Params.DomainName, a.Params.HostedZoneId)
	}
	arn := "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"
	b := synthOnce(t, map[string]string{"CertificateArn": arn})
	if n := len(b.Stack(t, "LoadBalancer").OfType("AWS::CertificateManager::Certificate")); n != 0 {
		t.Errorf("%d certificates created although CertificateArn is given", n)
	}
	if n := strings.Count(b.Stack(t, "Services").Raw, arn); n < 5 {
		t.Errorf("the given certificate ARN appears %d times, want it on each of the 5 TLS listeners", n)
	}
}

func TestSecurityGroups(t *testing.T) {
	a := synthOnce(t, map[string]string{"GatewayIngressCidrs": "192.0.2.0/24", "InteropIngressCidrs": "198.51.100.0/24,203.0.113.0/24"})
	public := map[string][]string{}
	var rules = map[string]Resource{}
	for _, stack := range []string{"LoadBalancer", "IdentityServer", "Services"} {
		for id, r := range a.Stack(t, stack).OfType("AWS::EC2::SecurityGroupIngress") {
			rules[stack+"/"+id] = r
		}
	}
	for id, r := range rules {
		if cidr, ok := get(r.Properties, "CidrIp").(string); ok {
			port := fmt.Sprintf("%v/%v", get(r.Properties, "IpProtocol"), get(r.Properties, "FromPort"))
			public[port] = append(public[port], cidr)
			if !strings.Contains(jsonText(get(r.Properties, "GroupId")), "Nlb") && !strings.Contains(jsonText(get(r.Properties, "GroupId")), "LoadBalancer") {
				t.Errorf("%s admits %s to a group other than the load balancer's: %s", id, cidr, jsonText(r.Properties))
			}
		}
	}
	want := map[string]string{
		"udp/1700": "192.0.2.0/24", "tcp/8881": "192.0.2.0/24", "tcp/8882": "192.0.2.0/24", "tcp/8887": "192.0.2.0/24",
		"tcp/80": "0.0.0.0/0", "tcp/443": "0.0.0.0/0", "tcp/8883": "0.0.0.0/0", "tcp/8884": "0.0.0.0/0",
		"tcp/8886": "198.51.100.0/24,203.0.113.0/24",
	}
	for port, cidrs := range want {
		// Resources come from a map: compare the CIDRs as a sorted set.
		sort.Strings(public[port])
		if got := strings.Join(public[port], ","); got != cidrs {
			t.Errorf("load balancer admits %q on %s, want %q", got, port, cidrs)
		}
	}
	for port := range public {
		if _, ok := want[port]; !ok {
			t.Errorf("load balancer admits the public on %s, which has no listener", port)
		}
	}
	// Task groups admit only security groups (the load balancer's or the
	// tasks'), never an address range.
	for id, sg := range a.Stack(t, "LoadBalancer").OfType("AWS::EC2::SecurityGroup") {
		for _, rule := range asList(get(sg.Properties, "SecurityGroupIngress")) {
			if get(rule, "CidrIp") != nil || get(rule, "SourceSecurityGroupId") == nil {
				t.Errorf("task group %s has a rule from outside a security group: %s", id, jsonText(rule))
			}
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func TestFlipOfSupportProxyTLSReplacesOnlyTargetGroups(t *testing.T) {
	for _, c := range combos() {
		if !c.valid() || c.proxyTLS {
			continue
		}
		other := c
		other.proxyTLS = true
		for _, dir := range [][2]combo{{c, other}, {other, c}} {
			t.Run(fmt.Sprintf("%+v->%+v", dir[0], dir[1]), func(t *testing.T) {
				from, to := synthOnce(t, dir[0].overrides()), synthOnce(t, dir[1].overrides())
				for _, stack := range []string{"Network", "Data"} {
					if from.Stack(t, stack).Raw != to.Stack(t, stack).Raw {
						t.Errorf("the %s stack changes with SupportProxyTLS", stack)
					}
				}
				for stack := range from.Templates {
					a, b := from.Templates[stack], to.Templates[stack]
					for id, r := range a.Resources {
						nr, kept := b.Resources[id]
						switch {
						case contains(statefulTypes(), r.Type) && (!kept || nr.Type != r.Type):
							t.Errorf("%s: stateful %s %s is removed", stack, r.Type, id)
						case r.Type == "AWS::ElasticLoadBalancingV2::Listener" && !kept && !staging(r):
							t.Errorf("%s: listener %s is removed (a replacement)", stack, id)
						case r.Type == "AWS::ElasticLoadBalancingV2::Listener" && kept && get(r.Properties, "Port") != get(nr.Properties, "Port"):
							t.Errorf("%s: listener %s changes port (a replacement)", stack, id)
						case !kept && r.Type != "AWS::ElasticLoadBalancingV2::TargetGroup" && r.Type != "AWS::EC2::SecurityGroupIngress" && !staging(r) && !certbotResource(stack, id):
							t.Errorf("%s: %s %s is removed; only target groups and their ingress rules may go", stack, r.Type, id)
						}
					}
					for id, r := range b.Resources {
						if _, existed := a.Resources[id]; !existed && r.Type != "AWS::ElasticLoadBalancingV2::TargetGroup" && r.Type != "AWS::EC2::SecurityGroupIngress" && !staging(r) && !certbotResource(stack, id) {
							t.Errorf("%s: %s %s is added; only target groups and their ingress rules may come", stack, r.Type, id)
						}
					}
				}
				// The target group of 443 is a new resource (created before the
				// old one is removed), not the old one changed in place.
				fl, tl := listenersOfIDs(from.Stack(t, "Services")), listenersOfIDs(to.Stack(t, "Services"))
				if fl[443] == tl[443] {
					t.Errorf("443 keeps target group %s across the flip; a changed port would replace it in place", fl[443])
				}
			})
		}
	}
}

// staging tells whether r is a staging listener (package listeners).
func staging(r Resource) bool {
	port, _ := get(r.Properties, "Port").(float64)
	return r.Type == "AWS::ElasticLoadBalancingV2::Listener" && int(port) >= listeners.StagingPortOffset
}

// certbotResource tells whether a resource of the Services stack belongs to
// the Certbot task, its schedule, its deploy-time run, the alarms of proxy
// TLS mode (Certbot's, its runner's errors, those of the proxy's TLS target
// groups), or the proxy's task role policy (certsync reads the certificate
// secret), which come and go with SupportProxyTLS. Their log groups are not
// among them: those exist in both modes (the check of stateful resources
// above applies to them).
func certbotResource(stack, id string) bool {
	if !strings.HasSuffix(stack, "-Services") {
		return false
	}
	for _, prefix := range []string{"CertbotImage", "CertbotTask", "CertbotExecutionRole", "CertbotSchedule", "CertbotRunner", "CertbotFirstRun", "CertbotCluster", "CertificateExpiryAlarm", "CertificateRenewalFailureAlarm", "Unhealthy", "NoHealthy", "LambdaErrorsServicesCertbotRunner", "ServiceproxyTaskRoleDefaultPolicy"} {
		if strings.HasPrefix(id, prefix) {
			return true
		}
	}
	return false
}

// listenersOfIDs maps listener ports to their target group's logical id.
func listenersOfIDs(tpl Template) map[int]string {
	out := map[int]string{}
	for _, r := range tpl.OfType("AWS::ElasticLoadBalancingV2::Listener") {
		out[int(get(r.Properties, "Port").(float64))] = refTo(get(r.Properties, "DefaultActions", "0", "TargetGroupArn"))
	}
	return out
}
