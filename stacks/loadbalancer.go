package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/cache"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/database"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/listeners"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// LoadBalancer holds the certificate of the load balancer's TLS listeners, the
// security groups of the tasks and the rules that admit them to the data
// tier, and the plan of the public face (listeners.Plan). The target groups
// and listeners themselves live beside the services that register with them
// (IdentityServer and Services stacks), so that a switch of TLS mode creates
// a target group before its service registers and deletes it after the
// listener has left it (see package listeners).
type LoadBalancer struct {
	awscdk.Stack
	// CertificateArn of the load balancer's TLS listeners.
	CertificateArn string
	Tasks          *listeners.TaskGroups
	Plan           listeners.Plan
}

// LoadBalancerProps are what the LoadBalancer stack needs.
type LoadBalancerProps struct {
	awscdk.StackProps
	Params  *params.Params
	Network *Network
	Data    *Data
}

// NewLoadBalancer creates the LoadBalancer stack.
func NewLoadBalancer(scope constructs.Construct, id string, props LoadBalancerProps) (*LoadBalancer, error) {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	p, net, data := props.Params, props.Network, props.Data
	certArn := p.CertificateArn
	if p.CreatesCertificate() {
		zone := awsroute53.HostedZone_FromHostedZoneAttributes(stack, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{
			HostedZoneId: jsii.String(p.HostedZoneId),
			ZoneName:     jsii.String(p.HostedZoneName),
		})
		cert := awscertificatemanager.NewCertificate(stack, jsii.String("Certificate"), &awscertificatemanager.CertificateProps{
			DomainName:              jsii.String(p.DomainName),
			SubjectAlternativeNames: &[]*string{jsii.String("*." + p.DomainName)},
			Validation:              awscertificatemanager.CertificateValidation_FromDns(zone),
		})
		certArn = *cert.CertificateArn()
	}
	plan, err := listeners.NewPlan(listeners.Mode{ProxyTLS: p.ProxyTerminatesTLS(), Interop: p.InteropEnabled, PlainPorts: p.PlainPortsEnabled})
	if err != nil {
		return nil, err
	}
	l, err := listeners.NewTaskGroups(stack, "Public", net.Vpc)
	if err != nil {
		return nil, err
	}
	// The data tier admits the tasks. The rules live here, beside the task
	// groups, so that references only go down the stack order.
	ingress := func(id string, to awsec2.ISecurityGroup, from awsec2.ISecurityGroup, port int, what string) {
		awsec2.NewCfnSecurityGroupIngress(stack, jsii.String(id), &awsec2.CfnSecurityGroupIngressProps{
			GroupId:               to.SecurityGroupId(),
			SourceSecurityGroupId: from.SecurityGroupId(),
			IpProtocol:            jsii.String("tcp"),
			FromPort:              jsii.Number(float64(port)),
			ToPort:                jsii.Number(float64(port)),
			Description:           jsii.String(what),
		})
	}
	// The Identity Server (and its database migration task, which runs with
	// the same group) uses PostgreSQL; every component uses Redis.
	ingress("DatabaseFromIdentityServer", data.Database.SecurityGroup, l.ByServer[ports.ServerIS], database.Port, "PostgreSQL from the Identity Server")
	for _, s := range []ports.Server{ports.ServerGS, ports.ServerAS, ports.ServerIS, ports.ServerInternal} {
		ingress(fmt.Sprintf("CacheFrom-%s", s), data.Cache.SecurityGroup, l.ByServer[s], cache.Port, fmt.Sprintf("Redis from %s tasks", s))
	}
	return &LoadBalancer{Stack: stack, CertificateArn: certArn, Tasks: l, Plan: plan}, nil
}
