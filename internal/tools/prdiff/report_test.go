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

func TestSummaryListsAvailabilityWindows(t *testing.T) {
	var issues []AvailabilityIssue
	for i := 0; i < maxAvailabilityLines+5; i++ {
		issues = append(issues, AvailabilityIssue{Rule: RuleReference, Subject: fmt.Sprintf("p-Services/S%02d -> p-LoadBalancer/Group", i), Reason: "refers to p-LoadBalancer/Group, which is deleted",
			From: &Step{Stack: "p-LoadBalancer", Cleanup: true, Action: "delete", LogicalID: "Group"}, To: &Step{Stack: "p-Services", Action: "update", LogicalID: fmt.Sprintf("S%02d", i)}})
	}
	issues = append(issues, AvailabilityIssue{Rule: RuleListenerRemoved, Subject: "listener 8886 of p-Network/Nlb", Port: 8886, Reason: "the deploy removes this public listener",
		From: &Step{Stack: "p-LoadBalancer", Cleanup: true, Action: "delete", LogicalID: "L8886"}, To: &Step{Stack: "p-LoadBalancer", Cleanup: true, Action: "delete", LogicalID: "L8886"}})
	r := &Report{Envs: []EnvReport{{Name: "prod", Availability: AvailabilityReport{Issues: issues}}}}
	md := r.Markdown()
	for _, want := range []string{
		"Availability guard for `prod`: **FAILED**",
		"- **reference** p-Services/S00 -> p-LoadBalancer/Group: refers to p-LoadBalancer/Group, which is deleted, from p-LoadBalancer cleanup: delete Group until p-Services: update S00",
		"- ... and 5 more (`make diff PRDIFF_ARGS=-full` lists them all)",
		"- note: listener 8886 of p-Network/Nlb: the deploy removes this public listener, at p-LoadBalancer cleanup: delete L8886",
		"**Availability guard: FAILED.**",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if !r.Failed() || r.DataLossFailed() {
		t.Error("an availability failure fails the report, and only the availability guard")
	}
}
