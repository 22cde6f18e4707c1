package prdiff

import (
	"fmt"
	"strings"
	"testing"
)

func TestSummaryBoundsLongStacksButListsEveryLoss(t *testing.T) {
	var d StackDiff
	for i := 0; i < maxLinesPerStack+10; i++ {
		d.Changes = append(d.Changes, Change{LogicalID: fmt.Sprintf("Rule%03d", i), Type: "AWS::EC2::SecurityGroupIngress", Kind: Added})
	}
	d.Changes = append(d.Changes,
		Change{LogicalID: "Old", Type: "AWS::ElasticLoadBalancingV2::TargetGroup", Kind: Removed, Impact: impactDestroy},
		Change{LogicalID: "Listener", Type: "AWS::ElasticLoadBalancingV2::Listener", Kind: Replaced, Impact: impactReplace, Properties: []string{"LoadBalancerArn (requires replacement)"}})
	r := &Report{Base: "`main`", Head: "the working tree", CDKVersion: DefaultCDKVersion, Envs: []EnvReport{{
		Name:   "prod",
		Stacks: []StackReport{{Name: "p-LoadBalancer", Diff: d}, {Name: "p-Old", Note: "left the app: the CDK does not delete it, nothing changes in it"}},
	}}}
	md := r.Markdown()
	for _, want := range []string{
		"| `p-LoadBalancer` | 70 | 0 | 1 | 1 | - |",
		"| `p-Old` (left the app: the CDK does not delete it, nothing changes in it) | 0 | 0 | 0 | 0 | - |",
		"- replaced `Listener` AWS::ElasticLoadBalancingV2::Listener: LoadBalancerArn (requires replacement)\n- removed `Old` AWS::ElasticLoadBalancingV2::TargetGroup: deleted\n- added `Rule000`",
		"- ... and 12 more: 12 added AWS::EC2::SecurityGroupIngress (`make diff PRDIFF_ARGS=-full` lists them all)",
		"Data-loss guard for `prod`: passed",
		"**Data-loss guard: passed.**",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if r.Failed() {
		t.Error("Failed without findings")
	}
}
