package publicnlb

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

func TestLoadBalancerAlone(t *testing.T) {
	for _, allocations := range [][]string{nil, {"eipalloc-1", "eipalloc-2"}} {
		stack := cdktest.Stack(t)
		vpc := cdktest.VPC(stack)
		logs := awss3.NewBucket(stack, jsii.String("Logs"), nil)
		lb, err := New(stack, "Public", Props{Vpc: vpc, Subnets: *vpc.PublicSubnets(), AccessLogs: logs, Name: "test-nlb", Allocations: allocations})
		if err != nil {
			t.Fatal(err)
		}
		tpl := cdktest.Synth(t, stack)
		nlb := tpl.Only(t, "AWS::ElasticLoadBalancingV2::LoadBalancer")
		text := cdktest.JSON(nlb.Properties)
		if nlb.Properties["Scheme"] != "internet-facing" || !strings.Contains(text, `"load_balancing.cross_zone.enabled","Value":"true"`) ||
			!strings.Contains(text, `"access_logs.s3.enabled","Value":"true"`) {
			t.Errorf("load balancer %s: want internet-facing, cross-zone, with access logs", text)
		}
		mappings, _ := nlb.Properties["SubnetMappings"].([]any)
		if len(mappings) != 2 {
			t.Errorf("%d subnet mappings, want one per public subnet", len(mappings))
		}
		eips := tpl.OfType("AWS::EC2::EIP")
		if allocations != nil {
			if len(eips) != 0 || len(lb.ElasticIPs) != 0 || !strings.Contains(text, `"eipalloc-1"`) {
				t.Errorf("with allocations, the construct allocates %d addresses and maps %s", len(eips), text)
			}
			continue
		}
		if len(eips) != 2 || len(lb.ElasticIPs) != 2 {
			t.Errorf("%d Elastic IPs, want 2", len(eips))
		}
		for id, e := range eips {
			if e.DeletionPolicy != "RetainExceptOnCreate" || !strings.Contains(cdktest.JSON(e.Properties), `"test-nlb-`) {
				t.Errorf("Elastic IP %s: DeletionPolicy %q, tags %v; want kept and named", id, e.DeletionPolicy, e.Properties["Tags"])
			}
		}
		sg := cdktest.JSON(tpl.Only(t, "AWS::EC2::SecurityGroup").Properties)
		if strings.Contains(sg, "0.0.0.0/0") {
			t.Errorf("security group %s: ingress is the stack's, egress only to the VPC", sg)
		}
	}
}

func TestLoadBalancerPropsAreChecked(t *testing.T) {
	stack := cdktest.Stack(t)
	vpc := cdktest.VPC(stack)
	logs := awss3.NewBucket(stack, jsii.String("Logs"), nil)
	ok := Props{Vpc: vpc, Subnets: *vpc.PublicSubnets(), AccessLogs: logs, Name: "n"}
	for name, edit := range map[string]func(*Props){
		"no VPC":            func(p *Props) { p.Vpc = nil },
		"one subnet":        func(p *Props) { p.Subnets = p.Subnets[:1] },
		"no access logs":    func(p *Props) { p.AccessLogs = nil },
		"no name":           func(p *Props) { p.Name = "" },
		"allocations count": func(p *Props) { p.Allocations = []string{"eipalloc-1"} },
	} {
		p := ok
		edit(&p)
		if _, err := New(stack, "Public", p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
