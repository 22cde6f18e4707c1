package netbase

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

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
	for name, p := range map[string]Props{
		"one zone":        {AvailabilityZones: []string{"a"}, NatGateways: 1, CIDR: "10.0.0.0/16"},
		"no NAT gateway":  {AvailabilityZones: []string{"a", "b"}, CIDR: "10.0.0.0/16"},
		"too many NAT":    {AvailabilityZones: []string{"a", "b"}, NatGateways: 3, CIDR: "10.0.0.0/16"},
		"no address room": {AvailabilityZones: []string{"a", "b"}, NatGateways: 1},
	} {
		if _, err := New(cdktest.Stack(t), "Network", p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
