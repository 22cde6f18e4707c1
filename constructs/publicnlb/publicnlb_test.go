package publicnlb

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
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
	if err := ok.validate(); err != nil {
		t.Fatalf("valid props refused: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*Props)
		want []string
	}{
		{"no VPC", func(p *Props) { p.Vpc = nil }, []string{"publicnlb.missing-vpc"}},
		{"one subnet", func(p *Props) { p.Subnets = p.Subnets[:1] }, []string{"publicnlb.too-few-subnets"}},
		{"no access logs", func(p *Props) { p.AccessLogs = nil }, []string{"publicnlb.missing-access-logs"}},
		{"no name", func(p *Props) { p.Name = "" }, []string{"publicnlb.missing-name"}},
		{"allocations count", func(p *Props) { p.Allocations = []string{"eipalloc-1"} }, []string{"publicnlb.allocations-mismatch"}},
		{"everything wrong", func(p *Props) { *p = Props{Allocations: []string{"eipalloc-1"}} }, []string{"publicnlb.missing-vpc", "publicnlb.too-few-subnets",
			"publicnlb.missing-access-logs", "publicnlb.missing-name", "publicnlb.allocations-mismatch"}},
	} {
		p := ok
		c.edit(&p)
		_, err := New(stack, "Public", p)
		if got := diag.FromError(err).Codes(); !slices.Equal(got, c.want) {
			t.Errorf("%s: codes %v, want %v (error %v)", c.name, got, c.want, err)
		}
	}
}
