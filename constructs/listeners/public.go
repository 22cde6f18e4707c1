package listeners

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// PublicProps configure the public listeners.
type PublicProps struct {
	Nlb elbv2.INetworkLoadBalancer
	// NlbSecurityGroup is the load balancer's security group; the ingress
	// rules of every public listener are added to it.
	NlbSecurityGroup awsec2.ISecurityGroup
	// Certificate is the ACM certificate ARN of the TLS listeners.
	Certificate string
	Plan        Plan
	// Targets are the target groups of the plan, from every stack.
	Targets []*Target
	// TargetARNs are the ARNs of target groups of other stacks, by key, as
	// this stack reads them (an explicit output of the producing stack);
	// the others are referenced directly.
	TargetARNs map[string]*string
	// IngressCIDRs by port group.
	IngressCIDRs map[ports.Group][]string
}

// SSLPolicy of every TLS listener: TLS 1.3 and 1.2 with post-quantum key
// exchange (the CloudFormation name of elbv2.SslPolicy_TLS13_12_PQ).
const SSLPolicy = "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09"

// alpnName is the CloudFormation name of an ALPN policy the plan uses.
func alpnName(p elbv2.AlpnPolicy) (string, bool) {
	switch p {
	case elbv2.AlpnPolicy_NONE:
		return "None", true
	case elbv2.AlpnPolicy_HTTP2_ONLY:
		return "HTTP2Only", true
	}
	return "", false
}

// Public is the set of public listeners by port.
type Public struct {
	constructs.Construct
	Listeners map[int]elbv2.CfnListener
}

func (p PublicProps) validate() error {
	var errs diag.List
	if p.Nlb == nil || p.NlbSecurityGroup == nil {
		errs.Errorf("listeners.missing-scope", "", "Nlb and NlbSecurityGroup are required for the public listeners")
	}
	if p.Certificate == "" {
		errs.Errorf("listeners.missing-certificate", "Certificate", "is empty; the TLS ports other than 443 and 8886 always need the ACM certificate")
	}
	for _, g := range ports.Groups() {
		if len(p.IngressCIDRs[g]) == 0 {
			errs.Errorf("listeners.no-ingress-cidrs", fmt.Sprintf("IngressCIDRs[%s]", g), "no ingress CIDRs for the %s ports; give at least one", g)
		}
	}
	keys := map[string]bool{}
	for _, t := range p.Targets {
		keys[t.Key] = true
	}
	for i, spec := range p.Plan.Listeners {
		if !keys[spec.Target] {
			errs.Errorf("listeners.unknown-target", fmt.Sprintf("Plan.Listeners[%d].Target", i),
				"the listener on %d forwards to target group %s, which is not among the Targets; create it with NewTargets", spec.Port, spec.Target)
		}
		if _, ok := alpnName(spec.ALPN); spec.Protocol == elbv2.Protocol_TLS && !ok {
			errs.Errorf("listeners.unknown-alpn", fmt.Sprintf("Plan.Listeners[%d].ALPN", i),
				"no CloudFormation name for the ALPN policy %s of listener %d; use elbv2.AlpnPolicy_NONE or AlpnPolicy_HTTP2_ONLY", spec.ALPN, spec.Port)
		}
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("listeners:\n%w", err)
	}
	return nil
}

// NewPublic creates the public listeners of the plan and the rules that
// admit their CIDRs. They are L1 listeners: an L2 listener would make every
// service of its target group wait for it, and in proxy TLS mode the switch
// listeners must instead wait for the proxy (see the package doc). The
// caller orders them against the services.
func NewPublic(scope constructs.Construct, id string, props PublicProps) (*Public, error) {
	if err := props.validate(); err != nil {
		return nil, err
	}
	byKey := map[string]*Target{}
	for _, t := range props.Targets {
		byKey[t.Key] = t
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	out := &Public{Construct: c, Listeners: map[int]elbv2.CfnListener{}}
	opened := map[string]bool{}
	for _, spec := range props.Plan.Listeners {
		// validate found every target group and ALPN policy.
		t := byKey[spec.Target]
		arn := t.Group.TargetGroupArn()
		if a, ok := props.TargetARNs[t.Key]; ok {
			arn = a
		}
		lp := &elbv2.CfnListenerProps{
			LoadBalancerArn: props.Nlb.LoadBalancerArn(),
			Port:            jsii.Number(float64(spec.Port)),
			Protocol:        jsii.String(string(spec.Protocol)),
			DefaultActions: &[]any{&elbv2.CfnListener_ActionProperty{
				Type:           jsii.String("forward"),
				TargetGroupArn: arn,
			}},
		}
		if spec.Protocol == elbv2.Protocol_TLS {
			lp.Certificates = &[]any{&elbv2.CfnListener_CertificateProperty{CertificateArn: jsii.String(props.Certificate)}}
			lp.SslPolicy = jsii.String(SSLPolicy)
			alpn, _ := alpnName(spec.ALPN)
			lp.AlpnPolicy = jsii.Strings(alpn)
		}
		out.Listeners[spec.Port] = elbv2.NewCfnListener(c, jsii.String(fmt.Sprintf("Listener%d", spec.Port)), lp)
		for _, cidr := range props.IngressCIDRs[spec.Group] {
			openPublic(c, opened, props.NlbSecurityGroup, cidr, spec.Protocol, spec.Port)
		}
	}
	return out, nil
}

// ListenersOf returns the public listeners that forward to the target group
// with the given key.
func (p *Public) ListenersOf(plan Plan, key string) []elbv2.CfnListener {
	var out []elbv2.CfnListener
	for _, l := range plan.Listeners {
		if l.Target == key {
			out = append(out, p.Listeners[l.Port])
		}
	}
	return out
}

// openPublic admits a CIDR to a listener port on the load balancer's security
// group, as a rule resource of this stack.
func openPublic(scope constructs.Construct, done map[string]bool, sg awsec2.ISecurityGroup, cidr string, proto elbv2.Protocol, port int) {
	ipProto := ipProtocol(proto)
	key := fmt.Sprintf("%s/%s/%d", cidr, ipProto, port)
	if done[key] {
		return
	}
	done[key] = true
	rule := awsec2.NewCfnSecurityGroupIngress(scope, jsii.String(fmt.Sprintf("Public-%s%d-%s", ipProto, port, cidr)), &awsec2.CfnSecurityGroupIngressProps{
		GroupId:     sg.SecurityGroupId(),
		IpProtocol:  jsii.String(ipProto),
		FromPort:    jsii.Number(float64(port)),
		ToPort:      jsii.Number(float64(port)),
		CidrIp:      jsii.String(cidr),
		Description: jsii.String(fmt.Sprintf("public %s %d", ipProto, port)),
	})
	if cidr == "0.0.0.0/0" {
		cdknag.NagSuppressions_AddResourceSuppressions(rule, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-EC23"),
			Reason: jsii.String(fmt.Sprintf("Port %d is a public LoRaWAN endpoint: gateways, applications and peer networks connect from "+
				"anywhere, and the operator kept the default CIDR 0.0.0.0/0; narrow it with the *IngressCidrs parameters.", port)),
		}}, jsii.Bool(false))
	}
}
