package test

import (
	"strings"
	"testing"
)

func TestNetworkVpcSpansTheZonesWithThreeTiers(t *testing.T) {
	a := synthOnce(t, nil)
	tpl := a.Stack(t, "Network")
	zones := map[string]int{}
	for _, s := range tpl.OfType("AWS::EC2::Subnet") {
		z, _ := get(s.Properties, "AvailabilityZone").(string)
		zones[z]++
	}
	for _, z := range a.Params.AvailabilityZones {
		if zones[z] != 3 {
			t.Errorf("zone %s has %d subnets, want 3 (public, private, data)", z, zones[z])
		}
	}
	if len(zones) != len(a.Params.AvailabilityZones) {
		t.Errorf("subnets in zones %v, want exactly %v", sortedKeys(zones), a.Params.AvailabilityZones)
	}
	for id, s := range tpl.OfType("AWS::EC2::Subnet") {
		if get(s.Properties, "MapPublicIpOnLaunch") == true {
			t.Errorf("subnet %s gives public IPs on launch", id)
		}
	}
	if n := len(tpl.OfType("AWS::EC2::NatGateway")); n != a.Params.NatGateways {
		t.Errorf("%d NAT gateways, want %d", n, a.Params.NatGateways)
	}
}

func TestNetworkNatGatewaysFollowTheParameter(t *testing.T) {
	a := synthOnce(t, map[string]string{"NatGateways": "1"})
	if n := len(a.Stack(t, "Network").OfType("AWS::EC2::NatGateway")); n != 1 {
		t.Errorf("-c NatGateways=1 gave %d NAT gateways", n)
	}
}

func TestNetworkFlowLogsAllTrafficToARetainedLogGroup(t *testing.T) {
	a := synthOnce(t, nil)
	tpl := a.Stack(t, "Network")
	_, fl := only(t, tpl, "AWS::EC2::FlowLog")
	if get(fl.Properties, "TrafficType") != "ALL" || get(fl.Properties, "ResourceType") != "VPC" {
		t.Errorf("flow log = %s, want all traffic of the VPC", jsonText(fl.Properties))
	}
	group := tpl.Resources[refTo(get(fl.Properties, "LogGroupName"))]
	if group.Type != "AWS::Logs::LogGroup" {
		t.Fatalf("flow log does not go to a log group of this stack")
	}
	if get(group.Properties, "RetentionInDays") != float64(a.Params.LogRetentionDays) || group.DeletionPolicy != "RetainExceptOnCreate" {
		t.Errorf("flow log group retention %v, deletion %q; want %d days and RetainExceptOnCreate", get(group.Properties, "RetentionInDays"), group.DeletionPolicy, a.Params.LogRetentionDays)
	}
}

func TestNetworkLoadBalancerHasOneFixedAddressPerZone(t *testing.T) {
	a := synthOnce(t, nil)
	tpl := a.Stack(t, "Network")
	_, nlb := only(t, tpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	if get(nlb.Properties, "Type") != "network" || get(nlb.Properties, "Scheme") != "internet-facing" {
		t.Errorf("load balancer = %s, want an internet-facing network load balancer", jsonText(nlb.Properties))
	}
	mappings, _ := get(nlb.Properties, "SubnetMappings").([]any)
	if len(mappings) != len(a.Params.AvailabilityZones) {
		t.Fatalf("%d subnet mappings, want one per zone (%d)", len(mappings), len(a.Params.AvailabilityZones))
	}
	seenZones := map[string]bool{}
	for i, m := range mappings {
		eip := tpl.Resources[refTo(get(m, "AllocationId"))]
		if eip.Type != "AWS::EC2::EIP" || eip.DeletionPolicy != "RetainExceptOnCreate" {
			t.Errorf("mapping %d: allocation is %q with deletion policy %q, want a retained AWS::EC2::EIP", i, eip.Type, eip.DeletionPolicy)
		}
		subnet := tpl.Resources[refTo(get(m, "SubnetId"))]
		if lbAttributes(get(subnet.Properties, "Tags"))["aws-cdk:subnet-type"] != "Public" {
			t.Errorf("mapping %d: subnet %s is not a public subnet", i, jsonText(subnet.Properties))
		}
		z, _ := get(subnet.Properties, "AvailabilityZone").(string)
		seenZones[z] = true
	}
	if len(seenZones) != len(a.Params.AvailabilityZones) {
		t.Errorf("addresses in zones %v, want one in each of %v", sortedKeys(seenZones), a.Params.AvailabilityZones)
	}
	attrs := lbAttributes(get(nlb.Properties, "LoadBalancerAttributes"))
	if attrs["load_balancing.cross_zone.enabled"] != "true" || attrs["access_logs.s3.enabled"] != "true" {
		t.Errorf("attributes %v, want cross-zone load balancing and access logs", attrs)
	}
	if sgs, _ := get(nlb.Properties, "SecurityGroups").([]any); len(sgs) != 1 {
		t.Errorf("load balancer has %d security groups, want its own one (it cannot get one later)", len(sgs))
	}
	outputs := 0
	for name := range tpl.Outputs {
		if strings.HasPrefix(name, "PublicAddress") {
			outputs++
		}
	}
	if outputs != len(a.Params.AvailabilityZones) {
		t.Errorf("%d public address outputs, want one per zone", outputs)
	}
}

func TestNetworkDNSRecordsForDomainAndWildcard(t *testing.T) {
	a := synthOnce(t, nil)
	tpl := a.Stack(t, "Network")
	nlbID, _ := only(t, tpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	names := map[string]bool{}
	for id, r := range tpl.OfType("AWS::Route53::RecordSet") {
		if get(r.Properties, "HostedZoneId") != a.Params.HostedZoneId || get(r.Properties, "Type") != "A" {
			t.Errorf("record %s = %s, want an A record in zone %s", id, jsonText(r.Properties), a.Params.HostedZoneId)
		}
		if refTo(get(r.Properties, "AliasTarget", "HostedZoneId")) != nlbID {
			t.Errorf("record %s is not an alias of the load balancer", id)
		}
		name, _ := get(r.Properties, "Name").(string)
		names[name] = true
	}
	for _, want := range []string{a.Params.DomainName + ".", "*." + a.Params.DomainName + "."} {
		if !names[want] {
			t.Errorf("no record %s; have %v", want, sortedKeys(names))
		}
	}
}

func TestOverrideChangesTheTemplates(t *testing.T) {
	base := synthOnce(t, nil)
	other := synthOnce(t, map[string]string{"DomainName": "lns.example.com"})
	if base.Stack(t, "Network").Raw == other.Stack(t, "Network").Raw {
		t.Fatal("-c DomainName=lns.example.com did not change the Network template")
	}
	if !strings.Contains(other.Stack(t, "Network").Raw, `"lns.example.com."`) {
		t.Error("the overridden domain is not in the records")
	}
}

// A deployment after a teardown takes the Elastic IPs the earlier one kept
// (gateways are configured with them): the load balancer uses them, zone by
// zone in the order of AvailabilityZones, and the stack allocates none and
// so never releases them.
func TestNetworkLoadBalancerAdoptsGivenAddresses(t *testing.T) {
	set := givenAddresses()
	given := strings.Split(set["LoadBalancerAddresses"], ",")
	a := synthOnce(t, set)
	tpl := a.Stack(t, "Network")
	_, nlb := only(t, tpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	mappings, _ := get(nlb.Properties, "SubnetMappings").([]any)
	if len(mappings) != len(given) {
		t.Fatalf("%d subnet mappings, want %d", len(mappings), len(given))
	}
	for i, m := range mappings {
		subnet := tpl.Resources[refTo(get(m, "SubnetId"))]
		zone, _ := get(subnet.Properties, "AvailabilityZone").(string)
		if got := get(m, "AllocationId"); got != given[i] || zone != a.Params.AvailabilityZones[i] {
			t.Errorf("mapping %d: allocation %v in zone %s, want %s in %s", i, jsonText(got), zone, given[i], a.Params.AvailabilityZones[i])
		}
	}
	for id := range tpl.OfType("AWS::EC2::EIP") {
		if strings.Contains(id, "LoadBalancer") {
			t.Errorf("the stack allocates %s although the load balancer's addresses are given", id)
		}
	}
}

// givenAddresses is the example with the load balancer's Elastic IPs given.
func givenAddresses() map[string]string {
	return map[string]string{"LoadBalancerAddresses": "eipalloc-0123456789abcdef0,eipalloc-0fedcba987654321f"}
}
