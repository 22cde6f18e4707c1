package listeners

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// Target is a target group and what the service that registers with it needs.
type Target struct {
	TargetSpec
	Group elbv2.NetworkTargetGroup
	// Staging is the staging listener (nil when Spec.Staging is 0). It is an
	// L2 listener, so that a service attached to Group waits for it.
	Staging elbv2.NetworkListener
}

// TargetsProps configure the target groups of some servers.
type TargetsProps struct {
	Vpc awsec2.IVpc
	Nlb elbv2.INetworkLoadBalancer
	// NlbSecurityGroup is the load balancer's security group: the task
	// security groups admit it on the target and health-check ports.
	NlbSecurityGroup awsec2.ISecurityGroup
	Tasks            *TaskGroups
	Plan             Plan
	// Servers whose target groups to create here: a target group lives in
	// the stack of the service that registers with it, so that it is created
	// before the service and deleted after it.
	Servers []ports.Server
}

func (p TargetsProps) validate() error {
	var errs diag.List
	if p.Vpc == nil || p.Nlb == nil || p.NlbSecurityGroup == nil || p.Tasks == nil {
		errs.Errorf("listeners.missing-scope", "", "Vpc, Nlb, NlbSecurityGroup and Tasks are required for the target groups")
	}
	if p.Tasks != nil {
		for i, server := range p.Servers {
			if p.Tasks.ByServer[server] == nil {
				errs.Errorf("listeners.no-task-group", fmt.Sprintf("Servers[%d]", i), "no task security group for %s; give the TaskGroups of NewTaskGroups", server)
			}
		}
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("listeners:\n%w", err)
	}
	return nil
}

// NewTargets creates the target groups of the plan that belong to
// props.Servers, their staging listeners, and the rules that admit the load
// balancer to the tasks.
func NewTargets(scope constructs.Construct, id string, props TargetsProps) ([]*Target, error) {
	if err := props.validate(); err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	var out []*Target
	opened := map[string]bool{}
	for _, server := range props.Servers {
		sg := props.Tasks.ByServer[server] // validate found it
		for _, spec := range props.Plan.TargetsOf(server) {
			attrs := targetAttributes(spec.Protocol)
			t := &Target{TargetSpec: spec}
			t.Group = elbv2.NewNetworkTargetGroup(c, jsii.String("Target-"+spec.Key), &elbv2.NetworkTargetGroupProps{
				Vpc:                   props.Vpc,
				Port:                  jsii.Number(float64(spec.Port)),
				Protocol:              spec.Protocol,
				TargetType:            elbv2.TargetType_IP,
				HealthCheck:           spec.Health,
				DeregistrationDelay:   awscdk.Duration_Seconds(jsii.Number(attrs.deregistration)),
				PreserveClientIp:      jsii.Bool(attrs.preserveClientIP),
				ConnectionTermination: jsii.Bool(attrs.terminate),
			})
			if spec.Staging != 0 {
				// No security-group rule opens this port: it carries no
				// traffic, it only associates the target group with the load
				// balancer before a public listener forwards to it.
				t.Staging = elbv2.NewNetworkListener(c, jsii.String(fmt.Sprintf("Staging%d", spec.Staging)), &elbv2.NetworkListenerProps{
					LoadBalancer:        props.Nlb,
					Port:                jsii.Number(float64(spec.Staging)),
					Protocol:            elbv2.Protocol_TCP,
					DefaultTargetGroups: &[]elbv2.INetworkTargetGroup{t.Group},
				})
			}
			// The load balancer reaches the target and its health check.
			allowFromNlb(c, opened, sg, server, props.NlbSecurityGroup, spec.Protocol, spec.Port, "from the load balancer")
			allowFromNlb(c, opened, sg, server, props.NlbSecurityGroup, elbv2.Protocol_TCP, spec.HealthPort(), "health check from the load balancer")
			out = append(out, t)
		}
	}
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

// allowFromNlb admits the load balancer to a task security group, as a rule
// resource of scope's stack (not of the group's), once per group and port.
func allowFromNlb(scope constructs.Construct, done map[string]bool, sg awsec2.ISecurityGroup, server ports.Server, from awsec2.ISecurityGroup,
	proto elbv2.Protocol, port int, why string) {
	ipProto := ipProtocol(proto)
	key := fmt.Sprintf("%s/%s/%d", server, ipProto, port)
	if done[key] {
		return
	}
	done[key] = true
	awsec2.NewCfnSecurityGroupIngress(scope, jsii.String(fmt.Sprintf("FromNlb-%s-%s%d", server, ipProto, port)), &awsec2.CfnSecurityGroupIngressProps{
		GroupId:               sg.SecurityGroupId(),
		SourceSecurityGroupId: from.SecurityGroupId(),
		IpProtocol:            jsii.String(ipProto),
		FromPort:              jsii.Number(float64(port)),
		ToPort:                jsii.Number(float64(port)),
		Description:           jsii.String(fmt.Sprintf("%s (%s %d)", why, proto, port)),
	})
}

func ipProtocol(proto elbv2.Protocol) string {
	if proto == elbv2.Protocol_UDP {
		return "udp"
	}
	return "tcp"
}
