package netbase

import (
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

func TestNetworkAlone(t *testing.T) {
	stack := cdktest.Stack(t)
	zones := []string{cdktest.Region + "a", cdktest.Region + "b", cdktest.Region + "c"}
	if _, err := New(stack, "Network", Props{AvailabilityZones: zones, NatGateways: 2, CIDR: "10.40.0.0/16", FlowLogRetention: awslogs.RetentionDays_ONE_WEEK}); err != nil {
		t.Fatal(err)
	}
	tpl := cdktest.Synth(t, stack)
	if n := len(tpl.OfType("AWS::EC2::Subnet")); n != 3*len(zones) {
		t.Errorf("%d subnets, want public, private and isolated in each of %d zones", n, len(zones))
	}
	if n := len(tpl.OfType("AWS::EC2::NatGateway")); n != 2 {
		t.Errorf("%d NAT gateways, want 2", n)
	}
	for id, s := range tpl.OfType("AWS::EC2::Subnet") {
		if s.Properties["MapPublicIpOnLaunch"] == true {
			t.Errorf("subnet %s gives instances public addresses", id)
		}
	}
	flow := tpl.Only(t, "AWS::EC2::FlowLog")
	if flow.Properties["TrafficType"] != "ALL" || flow.Properties["LogDestinationType"] != "cloud-watch-logs" {
		t.Errorf("flow log %v, want all traffic to CloudWatch Logs", flow.Properties)
	}
	if logs := tpl.Only(t, "AWS::Logs::LogGroup"); logs.DeletionPolicy != "RetainExceptOnCreate" {
		t.Errorf("flow log group DeletionPolicy %q, want it kept", logs.DeletionPolicy)
	}
	if len(tpl.OfType("Custom::VpcRestrictDefaultSG")) != 1 {
		t.Error("the default security group is not restricted")
	}
}

func TestNetworkPropsAreChecked(t *testing.T) {
	stack := cdktest.Stack(t)
	ok := Props{AvailabilityZones: []string{"a", "b"}, NatGateways: 1, CIDR: "10.0.0.0/16"}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid props refused: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*Props)
		want []string
	}{
		{"one zone", func(p *Props) { p.AvailabilityZones = []string{"a"} }, []string{"netbase.too-few-zones"}},
		{"no NAT gateway", func(p *Props) { p.NatGateways = 0 }, []string{"netbase.bad-nat-gateways"}},
		{"too many NAT", func(p *Props) { p.NatGateways = 3 }, []string{"netbase.bad-nat-gateways"}},
		{"no address room", func(p *Props) { p.CIDR = "" }, []string{"netbase.missing-cidr"}},
		{"network too small", func(p *Props) { p.CIDR = "10.40.0.0/24" }, []string{"netbase.bad-cidr"}},
		{"host bits set", func(p *Props) { p.CIDR = "10.40.1.0/16" }, []string{"netbase.bad-cidr"}},
		{"not IPv4", func(p *Props) { p.CIDR = "fd00::/16" }, []string{"netbase.bad-cidr"}},
		{"everything wrong", func(p *Props) { *p = Props{} }, []string{"netbase.too-few-zones", "netbase.bad-nat-gateways", "netbase.missing-cidr"}},
	} {
		p := ok
		c.edit(&p)
		_, err := New(stack, "Network", p)
		if got := diag.FromError(err).Codes(); !slices.Equal(got, c.want) {
			t.Errorf("%s: codes %v, want %v (error %v)", c.name, got, c.want, err)
		}
	}
}
