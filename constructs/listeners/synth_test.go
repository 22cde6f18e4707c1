package listeners

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

// Every listener of the plan exists, forwards to a target group of the plan
// and is open to its group's CIDRs only; every target group admits the load
// balancer on the tasks' security groups.
func TestListenersAndTargetsAlone(t *testing.T) {
	for _, mode := range []Mode{{}, {ProxyTLS: true, Interop: true}} {
		t.Run(fmt.Sprintf("%+v", mode), func(t *testing.T) {
			stack := cdktest.Stack(t)
			vpc := cdktest.VPC(stack)
			nlbSG := awsec2.NewSecurityGroup(stack, jsii.String("NlbSG"), &awsec2.SecurityGroupProps{Vpc: vpc, AllowAllOutbound: jsii.Bool(false)})
			nlb := elbv2.NewNetworkLoadBalancer(stack, jsii.String("Nlb"), &elbv2.NetworkLoadBalancerProps{Vpc: vpc, InternetFacing: jsii.Bool(true), SecurityGroups: &[]awsec2.ISecurityGroup{nlbSG}})
			plan, err := NewPlan(mode)
			if err != nil {
				t.Fatal(err)
			}
			tasks, err := NewTaskGroups(stack, "Tasks", vpc)
			if err != nil {
				t.Fatal(err)
			}
			targets, err := NewTargets(stack, "Front", TargetsProps{Vpc: vpc, Nlb: nlb, NlbSecurityGroup: nlbSG, Tasks: tasks, Plan: plan,
				Servers: []ports.Server{ports.ServerGS, ports.ServerAS, ports.ServerIS, ports.ServerProxy}})
			if err != nil {
				t.Fatal(err)
			}
			cidrs := map[ports.Group][]string{ports.GroupGateways: {"10.1.0.0/16"}, ports.GroupApplications: {"10.2.0.0/16"}, ports.GroupInterop: {"10.3.0.0/16"}}
			if _, err := NewPublic(stack, "Public", PublicProps{Nlb: nlb, NlbSecurityGroup: nlbSG, Certificate: "arn:aws:acm:eu-west-1:123456789012:certificate/test",
				Plan: plan, Targets: targets, IngressCIDRs: cidrs}); err != nil {
				t.Fatal(err)
			}
			tpl := cdktest.Synth(t, stack)

			groups := tpl.OfType("AWS::ElasticLoadBalancingV2::TargetGroup")
			if len(groups) != len(plan.Targets) {
				t.Errorf("%d target groups, want the plan's %d", len(groups), len(plan.Targets))
			}
			byPort := map[float64]cdktest.Resource{}
			for _, l := range tpl.OfType("AWS::ElasticLoadBalancingV2::Listener") {
				p, _ := l.Properties["Port"].(float64)
				byPort[p] = l
			}
			var ingress []any
			for _, r := range tpl.OfType("AWS::EC2::SecurityGroupIngress") {
				ingress = append(ingress, r.Properties)
			}
			for _, r := range tpl.OfType("AWS::EC2::SecurityGroup") {
				rules, _ := r.Properties["SecurityGroupIngress"].([]any)
				ingress = append(ingress, rules...)
			}
			nlbIngress := cdktest.JSON(ingress)
			for _, spec := range plan.Listeners {
				l, ok := byPort[float64(spec.Port)]
				if !ok {
					t.Errorf("no listener on %d", spec.Port)
					continue
				}
				if l.Properties["Protocol"] != string(spec.Protocol) {
					t.Errorf("listener %d is %v, want %s", spec.Port, l.Properties["Protocol"], spec.Protocol)
				}
				forward := cdktest.JSON(l.Properties["DefaultActions"])
				if !strings.Contains(forward, `"Type":"forward"`) || !strings.Contains(forward, `"Ref":"Front`) {
					t.Errorf("listener %d does not forward to a target group of this construct: %s", spec.Port, forward)
				}
				if spec.Protocol == elbv2.Protocol_TLS && (l.Properties["SslPolicy"] != SSLPolicy || l.Properties["Certificates"] == nil) {
					t.Errorf("TLS listener %d has policy %v and certificates %v", spec.Port, l.Properties["SslPolicy"], l.Properties["Certificates"])
				}
				if want := fmt.Sprintf(`"CidrIp":"%s"`, cidrs[spec.Group][0]); !strings.Contains(nlbIngress, want) {
					t.Errorf("port %d of group %s is not open to %s", spec.Port, spec.Group, cidrs[spec.Group][0])
				}
			}
			if len(byPort) < len(plan.Listeners) {
				t.Errorf("%d listeners, want at least the plan's %d", len(byPort), len(plan.Listeners))
			}
			if strings.Contains(nlbIngress, "0.0.0.0/0") {
				t.Error("a port is open to the world although every group has its CIDRs")
			}
		})
	}
}

func TestPublicPropsAreChecked(t *testing.T) {
	stack := cdktest.Stack(t)
	vpc := cdktest.VPC(stack)
	nlbSG := awsec2.NewSecurityGroup(stack, jsii.String("NlbSG"), &awsec2.SecurityGroupProps{Vpc: vpc, AllowAllOutbound: jsii.Bool(false)})
	nlb := elbv2.NewNetworkLoadBalancer(stack, jsii.String("Nlb"), &elbv2.NetworkLoadBalancerProps{Vpc: vpc, SecurityGroups: &[]awsec2.ISecurityGroup{nlbSG}})
	plan, err := NewPlan(Mode{})
	if err != nil {
		t.Fatal(err)
	}
	// The validation reads the targets' keys only.
	var targets []*Target
	for _, spec := range plan.Targets {
		targets = append(targets, &Target{TargetSpec: spec})
	}
	cidrs := map[ports.Group][]string{ports.GroupGateways: {"10.1.0.0/16"}, ports.GroupApplications: {"10.2.0.0/16"}, ports.GroupInterop: {"10.3.0.0/16"}}
	ok := PublicProps{Nlb: nlb, NlbSecurityGroup: nlbSG, Certificate: "arn:aws:acm:eu-west-1:123456789012:certificate/test", Plan: plan, Targets: targets, IngressCIDRs: cidrs}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid props refused: %v", err)
	}
	tls := slices.IndexFunc(plan.Listeners, func(l ListenerSpec) bool { return l.Protocol == elbv2.Protocol_TLS })
	withListener := func(p *PublicProps, edit func(*ListenerSpec)) {
		p.Plan.Listeners = slices.Clone(p.Plan.Listeners)
		edit(&p.Plan.Listeners[tls])
	}
	for _, c := range []struct {
		name string
		edit func(*PublicProps)
		want []string
	}{
		{"no load balancer", func(p *PublicProps) { p.Nlb = nil }, []string{"listeners.missing-scope"}},
		{"no certificate", func(p *PublicProps) { p.Certificate = "" }, []string{"listeners.missing-certificate"}},
		{"no interop CIDRs", func(p *PublicProps) {
			p.IngressCIDRs = map[ports.Group][]string{ports.GroupGateways: {"10.1.0.0/16"}, ports.GroupApplications: {"10.2.0.0/16"}}
		}, []string{"listeners.no-ingress-cidrs"}},
		{"unknown target", func(p *PublicProps) { withListener(p, func(l *ListenerSpec) { l.Target = "nobody-TCP1" }) }, []string{"listeners.unknown-target"}},
		{"unknown ALPN", func(p *PublicProps) { withListener(p, func(l *ListenerSpec) { l.ALPN = elbv2.AlpnPolicy_HTTP1_ONLY }) }, []string{"listeners.unknown-alpn"}},
		{"everything wrong", func(p *PublicProps) {
			l := plan.Listeners[tls]
			l.ALPN = elbv2.AlpnPolicy_HTTP1_ONLY
			*p = PublicProps{Plan: Plan{Listeners: []ListenerSpec{l}}}
		}, []string{"listeners.missing-scope", "listeners.missing-certificate", "listeners.no-ingress-cidrs", "listeners.no-ingress-cidrs",
			"listeners.no-ingress-cidrs", "listeners.unknown-target", "listeners.unknown-alpn"}},
	} {
		p := ok
		c.edit(&p)
		_, err := NewPublic(stack, "Public", p)
		if got := diag.FromError(err).Codes(); !slices.Equal(got, c.want) {
			t.Errorf("%s: codes %v, want %v (error %v)", c.name, got, c.want, err)
		}
	}
}

func TestTargetsPropsAreChecked(t *testing.T) {
	stack := cdktest.Stack(t)
	vpc := cdktest.VPC(stack)
	nlbSG := awsec2.NewSecurityGroup(stack, jsii.String("NlbSG"), &awsec2.SecurityGroupProps{Vpc: vpc, AllowAllOutbound: jsii.Bool(false)})
	nlb := elbv2.NewNetworkLoadBalancer(stack, jsii.String("Nlb"), &elbv2.NetworkLoadBalancerProps{Vpc: vpc, SecurityGroups: &[]awsec2.ISecurityGroup{nlbSG}})
	plan, err := NewPlan(Mode{})
	if err != nil {
		t.Fatal(err)
	}
	tasks := &TaskGroups{ByServer: map[ports.Server]awsec2.SecurityGroup{
		ports.ServerGS: awsec2.NewSecurityGroup(stack, jsii.String("GS"), &awsec2.SecurityGroupProps{Vpc: vpc}),
	}}
	ok := TargetsProps{Vpc: vpc, Nlb: nlb, NlbSecurityGroup: nlbSG, Tasks: tasks, Plan: plan, Servers: []ports.Server{ports.ServerGS}}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid props refused: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*TargetsProps)
		want []string
	}{
		{"no load balancer", func(p *TargetsProps) { p.Nlb = nil }, []string{"listeners.missing-scope"}},
		{"no task groups", func(p *TargetsProps) { p.Tasks = nil }, []string{"listeners.missing-scope"}},
		{"server without task group", func(p *TargetsProps) { p.Servers = []ports.Server{ports.ServerGS, ports.ServerAS} }, []string{"listeners.no-task-group"}},
		{"everything wrong", func(p *TargetsProps) {
			*p = TargetsProps{Tasks: tasks, Servers: []ports.Server{ports.ServerIS, ports.ServerGS, ports.ServerAS}}
		}, []string{"listeners.missing-scope", "listeners.no-task-group", "listeners.no-task-group"}},
	} {
		p := ok
		c.edit(&p)
		_, err := NewTargets(stack, "Front", p)
		if got := diag.FromError(err).Codes(); !slices.Equal(got, c.want) {
			t.Errorf("%s: codes %v, want %v (error %v)", c.name, got, c.want, err)
		}
	}
	_, err = NewTaskGroups(stack, "Tasks", nil)
	if got, want := diag.FromError(err).Codes(), []string{"listeners.missing-vpc"}; !slices.Equal(got, want) {
		t.Errorf("task groups without VPC: codes %v, want %v (error %v)", got, want, err)
	}
}
