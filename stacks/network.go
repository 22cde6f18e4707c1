package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53targets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/netbase"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/publicnlb"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/securebucket"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// VpcCIDR is the address range of the VPC.
const VpcCIDR = "10.40.0.0/16"

// Network is the VPC, the public Network Load Balancer with its fixed
// addresses, and the DNS records of the domain.
type Network struct {
	awscdk.Stack
	Vpc  awsec2.Vpc
	Nlb  *publicnlb.LoadBalancer
	Zone awsroute53.IHostedZone
	// LogBucket receives the load balancer's access logs.
	LogBucket awss3.Bucket
}

// NetworkProps are what the Network stack needs.
type NetworkProps struct {
	awscdk.StackProps
	Params *params.Params
}

// NewNetwork creates the Network stack.
func NewNetwork(scope constructs.Construct, id string, props NetworkProps) (*Network, error) {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	p := props.Params
	net, err := netbase.New(stack, "Base", netbase.Props{
		AvailabilityZones: p.AvailabilityZones,
		NatGateways:       p.NatGateways,
		CIDR:              VpcCIDR,
		FlowLogRetention:  retention(p.LogRetentionDays),
	})
	if err != nil {
		return nil, err
	}
	logs, err := securebucket.New(stack, "LoadBalancerLogs", securebucket.Props{
		LogReason:       "This bucket receives the load balancer's access logs; logging its own access would only log the log deliveries.",
		ExpireAfterDays: p.LogRetentionDays,
		DeleteWithStack: !p.RetainData,
	})
	if err != nil {
		return nil, err
	}
	lb, err := publicnlb.New(stack, "PublicLoadBalancer", publicnlb.Props{
		Vpc:         net.Vpc,
		Subnets:     *net.Vpc.PublicSubnets(),
		AccessLogs:  logs,
		Name:        p.StackPrefix,
		Allocations: p.LoadBalancerAddresses,
	})
	if err != nil {
		return nil, err
	}
	zone := awsroute53.HostedZone_FromHostedZoneAttributes(stack, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{
		HostedZoneId: jsii.String(p.HostedZoneId),
		ZoneName:     jsii.String(p.HostedZoneName),
	})
	target := awsroute53.RecordTarget_FromAlias(awsroute53targets.NewLoadBalancerTarget(lb.Nlb, nil))
	for _, r := range []struct{ id, name string }{{"DomainRecord", p.DomainName}, {"WildcardRecord", "*." + p.DomainName}} {
		awsroute53.NewARecord(stack, jsii.String(r.id), &awsroute53.ARecordProps{
			Zone:       zone,
			RecordName: jsii.String(r.name + "."),
			Target:     target,
			Comment:    jsii.String("The Things Stack " + p.StackPrefix),
		})
	}
	for i, eip := range lb.ElasticIPs {
		awscdk.NewCfnOutput(stack, jsii.String("PublicAddress"+string(rune('A'+i))), &awscdk.CfnOutputProps{
			Value:       eip.AttrPublicIp(),
			Description: jsii.String("Fixed public IPv4 address of the load balancer in " + p.AvailabilityZones[i] + " (allow-list it on gateways)"),
		})
	}
	// Read by the target group alarms of the Services stack.
	publish(lb.Nlb, LoadBalancerFullNameOutput, "The load balancer's LoadBalancerFullName (the LoadBalancer dimension of its metrics)", lb.Nlb.LoadBalancerFullName())
	return &Network{Stack: stack, Vpc: net.Vpc, Nlb: lb, Zone: zone, LogBucket: logs}, nil
}
