// Package publicnlb is the internet-facing Network Load Balancer: one fixed
// Elastic IP per availability zone (gateway operators allow-list them), a
// security group of its own (listeners and their ingress rules are added by
// the LoadBalancer stack), cross-zone load balancing and access logs.
package publicnlb

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/removal"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// Props configure the load balancer.
type Props struct {
	Vpc awsec2.IVpc
	// Subnets are the public subnets, one per availability zone.
	Subnets []awsec2.ISubnet
	// AccessLogs receives the access logs (of the TLS listeners).
	AccessLogs awss3.IBucket
	// Name tags the Elastic IPs, so that operators find them.
	Name string
	// Allocations are the allocation ids of existing Elastic IPs, one per
	// subnet in subnet order (e.g. those a torn-down deployment kept, which
	// gateways are configured with). Empty: the construct allocates them.
	// The stack never releases addresses it did not allocate.
	Allocations []string
}

// LoadBalancer is the NLB with its addresses.
type LoadBalancer struct {
	constructs.Construct
	Nlb           elbv2.NetworkLoadBalancer
	SecurityGroup awsec2.SecurityGroup
	// ElasticIPs are the public addresses, one per subnet, in subnet order;
	// none when Allocations were given.
	ElasticIPs []awsec2.CfnEIP
}

func (p Props) validate() error {
	var errs diag.List
	if p.Vpc == nil {
		errs.Errorf("publicnlb.missing-vpc", "Vpc", "is nil; give the VPC of the public subnets")
	}
	if len(p.Subnets) < 2 {
		errs.Errorf("publicnlb.too-few-subnets", "Subnets", "%d subnets given; give one public subnet per availability zone, at least 2", len(p.Subnets))
	}
	if p.AccessLogs == nil {
		errs.Errorf("publicnlb.missing-access-logs", "AccessLogs", "is nil; give the bucket that receives the access logs")
	}
	if p.Name == "" {
		errs.Errorf("publicnlb.missing-name", "Name", "is empty; give the name that tags the Elastic IPs")
	}
	if len(p.Allocations) > 0 && len(p.Allocations) != len(p.Subnets) {
		errs.Errorf("publicnlb.allocations-mismatch", "Allocations", "%d allocations for %d subnets; give one Elastic IP per subnet, or none", len(p.Allocations), len(p.Subnets))
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("publicnlb:\n%w", err)
	}
	return nil
}

// New creates the load balancer.
func New(scope constructs.Construct, id string, props Props) (*LoadBalancer, error) {
	if err := props.validate(); err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	sg := awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String("Network Load Balancer of The Things Stack; ingress per public port is added by the LoadBalancer stack"),
		AllowAllOutbound: jsii.Bool(false),
	})
	// The load balancer only talks to targets inside the VPC.
	sg.AddEgressRule(awsec2.Peer_Ipv4(props.Vpc.VpcCidrBlock()), awsec2.Port_AllTcp(), jsii.String("to TCP targets in the VPC"), nil)
	sg.AddEgressRule(awsec2.Peer_Ipv4(props.Vpc.VpcCidrBlock()), awsec2.Port_AllUdp(), jsii.String("to UDP targets in the VPC"), nil)

	var mappings []*elbv2.SubnetMapping
	var eips []awsec2.CfnEIP
	for i, s := range props.Subnets {
		if len(props.Allocations) > 0 {
			mappings = append(mappings, &elbv2.SubnetMapping{Subnet: s, AllocationId: jsii.String(props.Allocations[i])})
			continue
		}
		eip := awsec2.NewCfnEIP(c, jsii.String(fmt.Sprintf("Address%d", i+1)), &awsec2.CfnEIPProps{
			Domain: jsii.String("vpc"),
			Tags:   &[]*awscdk.CfnTag{{Key: jsii.String("Name"), Value: jsii.String(fmt.Sprintf("%s-%d", props.Name, i+1))}},
		})
		// Gateways are configured with these addresses: keep them even when
		// the stack is deleted.
		eip.ApplyRemovalPolicy(removal.Keep(), nil)
		eips = append(eips, eip)
		mappings = append(mappings, &elbv2.SubnetMapping{Subnet: s, AllocationId: eip.AttrAllocationId()})
	}
	nlb := elbv2.NewNetworkLoadBalancer(c, jsii.String("Nlb"), &elbv2.NetworkLoadBalancerProps{
		Vpc:                props.Vpc,
		InternetFacing:     jsii.Bool(true),
		SubnetMappings:     &mappings,
		SecurityGroups:     &[]awsec2.ISecurityGroup{sg},
		CrossZoneEnabled:   jsii.Bool(true),
		DeletionProtection: jsii.Bool(false),
	})
	nlb.LogAccessLogs(props.AccessLogs, jsii.String("nlb"))
	return &LoadBalancer{Construct: c, Nlb: nlb, SecurityGroup: sg, ElasticIPs: eips}, nil
}
