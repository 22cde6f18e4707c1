package listeners

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"

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
	if _, err := NewPublic(stack, "Public", PublicProps{}); err == nil {
		t.Error("accepted no load balancer")
	}
	if _, err := NewTargets(stack, "Front", TargetsProps{}); err == nil {
		t.Error("accepted targets without load balancer and task groups")
	}
}
