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
	"github.com/lorawan-stack-aws/tts-ecs/params"
	"github.com/lorawan-stack-aws/tts-ecs/ports"
)

// LoadBalancer holds the listeners and target groups of every port, the TLS
// mode switch, the certificate, and the security groups of the tasks.
type LoadBalancer struct {
	awscdk.Stack
	// CertificateArn of the load balancer's TLS listeners.
	CertificateArn string
	*listeners.Listeners
}

// NewLoadBalancer creates the LoadBalancer stack.
func NewLoadBalancer(scope constructs.Construct, id string, props *awscdk.StackProps, p *params.Params, net *Network, data *Data) (*LoadBalancer, error) {
	stack := awscdk.NewStack(scope, jsii.String(id), props)
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
	l, err := listeners.New(stack, "Public", listeners.Props{
		Vpc:              net.Vpc,
		Nlb:              net.Nlb.Nlb,
		NlbSecurityGroup: net.Nlb.SecurityGroup,
		Certificate:      certArn,
		ProxyTLS:         p.ProxyTerminatesTLS(),
		Interop:          p.InteropEnabled,
		PlainPorts:       p.PlainPortsEnabled,
		IngressCIDRs: map[ports.Group][]string{
			ports.Gateways:     p.GatewayIngressCidrs,
			ports.Applications: p.ApplicationIngressCidrs,
			ports.Interop:      p.InteropIngressCidrs,
		},
	})
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
	ingress("DatabaseFromIdentityServer", data.Database.SecurityGroup, l.TaskSecurityGroups[ports.IdentityServer], database.Port, "PostgreSQL from the Identity Server")
	for _, s := range []ports.Server{ports.GatewayServer, ports.ApplicationServer, ports.IdentityServer, listeners.InternalServer} {
		ingress(fmt.Sprintf("CacheFrom-%s", s), data.Cache.SecurityGroup, l.TaskSecurityGroups[s], cache.Port, fmt.Sprintf("Redis from %s tasks", s))
	}
	return &LoadBalancer{Stack: stack, CertificateArn: certArn, Listeners: l}, nil
}
