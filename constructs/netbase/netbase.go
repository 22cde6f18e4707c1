// Package netbase is the VPC of the app: public subnets for the load balancer
// and NAT gateways, private subnets with egress for the ECS tasks, isolated
// subnets for the data tier, and VPC flow logs.
package netbase

import (
	"fmt"
	"net/netip"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/removal"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// Subnet group names, used by other constructs to select subnets.
const (
	PublicSubnets   = "public"
	PrivateSubnets  = "private"
	IsolatedSubnets = "data"
)

// Props configure the VPC.
type Props struct {
	// AvailabilityZones are the zones used, at least 2.
	AvailabilityZones []string
	// NatGateways is 1 to len(AvailabilityZones).
	NatGateways int
	// CIDR of the VPC, a /16 to /20.
	CIDR string
	// FlowLogRetention of the flow log group.
	FlowLogRetention awslogs.RetentionDays
}

// Network is the VPC and its flow log group.
type Network struct {
	constructs.Construct
	Vpc          awsec2.Vpc
	FlowLogGroup awslogs.LogGroup
}

func (p Props) validate() error {
	var errs diag.List
	if len(p.AvailabilityZones) < 2 {
		errs.Errorf("netbase.too-few-zones", "AvailabilityZones", "%d availability zones given; give at least 2", len(p.AvailabilityZones))
	}
	if p.NatGateways < 1 || p.NatGateways > max(len(p.AvailabilityZones), 1) {
		errs.Errorf("netbase.bad-nat-gateways", "NatGateways", "%d is out of range 1..%d (one per availability zone at most)", p.NatGateways, len(p.AvailabilityZones))
	}
	if p.CIDR == "" {
		errs.Errorf("netbase.missing-cidr", "CIDR", "is empty; give a /16 such as 10.40.0.0/16")
	} else if prefix, err := netip.ParsePrefix(p.CIDR); err != nil || !prefix.Addr().Is4() || prefix.Bits() < 16 || prefix.Bits() > 20 || prefix.Masked() != prefix {
		errs.Errorf("netbase.bad-cidr", "CIDR", "%q is not an IPv4 network of /16 to /20 (the subnets of every zone are cut from it); give one such as 10.40.0.0/16", p.CIDR)
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("netbase:\n%w", err)
	}
	return nil
}

// New creates the VPC.
func New(scope constructs.Construct, id string, props Props) (*Network, error) {
	if err := props.validate(); err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	azs := make([]*string, len(props.AvailabilityZones))
	for i, z := range props.AvailabilityZones {
		azs[i] = jsii.String(z)
	}
	logs := awslogs.NewLogGroup(c, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		Retention:     props.FlowLogRetention,
		RemovalPolicy: removal.Keep(),
	})
	vpc := awsec2.NewVpc(c, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses:       awsec2.IpAddresses_Cidr(jsii.String(props.CIDR)),
		AvailabilityZones: &azs,
		NatGateways:       jsii.Number(float64(props.NatGateways)),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String(PublicSubnets), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24), MapPublicIpOnLaunch: jsii.Bool(false)},
			{Name: jsii.String(PrivateSubnets), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(20)},
			{Name: jsii.String(IsolatedSubnets), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(24)},
		},
		FlowLogs: &map[string]*awsec2.FlowLogOptions{
			"all": {
				Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(logs, nil),
				TrafficType: awsec2.FlowLogTrafficType_ALL,
			},
		},
		RestrictDefaultSecurityGroup: jsii.Bool(true),
	})
	return &Network{Construct: c, Vpc: vpc, FlowLogGroup: logs}, nil
}
