package prdiff

import (
	"strings"
	"testing"
)

// loadBalancerDiff is `cdk diff --template ... --fail-on destructive
// --no-color` of CLI 2.1148.1 for a flip of SupportProxyTLS (shortened):
// construct paths hold spaces, and a security-group table comes first.
const loadBalancerDiff = `Stack tts-LoadBalancer
Security Group Changes
┌───┬───────────────────────────────┬─────┬──────────┬──────┐
│   │ Group                         │ Dir │ Protocol │ Peer │
├───┼───────────────────────────────┼─────┼──────────┼──────┤
│ - │ ${Public/Tasks-is.GroupId}    │ In  │ TCP 1886 │ x    │
│ + │ ${Public/Tasks-proxy.GroupId} │ In  │ TCP 443  │ x    │
└───┴───────────────────────────────┴─────┴──────────┴──────┘
(NOTE: There may be security-related changes not in this list. See https://github.com/aws/aws-cdk/issues/1299)

Resources
[-] AWS::EC2::SecurityGroupIngress Public/Tasks-is/from ttsNetworkPublicLoadBalancerSecurityGroup51423ED3:1886 PublicTasksisfromX1886811BB014 destroy
[-] AWS::ElasticLoadBalancingV2::TargetGroup Public/Target-is-TCP1886 PublicTargetisTCP18866DE5CE82 destroy
[+] AWS::ElasticLoadBalancingV2::TargetGroup Public/Target-proxy-TCP8886 PublicTargetproxyTCP8886A5392F80
[~] AWS::ElasticLoadBalancingV2::Listener Public/Listener8886 PublicListener88867A37D7A9
 ├─ [-] Certificates
 │   └─ [{"CertificateArn":{"Ref":"Certificate4E7ABB08"}}]
 ├─ [~] DefaultActions
 │   └─ @@ -1,7 +1,7 @@
 │      [ ] [
 │      [-]       "Ref": "PublicTargetisTCP18866DE5CE82"
 │      [+]       "Ref": "PublicTargetproxyTCP8886A5392F80"
 ├─ [~] Protocol
 │   ├─ [-] TLS
 │   └─ [+] TCP
 └─ [-] SslPolicy
     └─ ELBSecurityPolicy-TLS13-1-2-PQ-2025-09

Outputs
[+] Output Foo Foo: {"Value":"x"}



✨  Number of stacks with differences: 1

❌  Found 2 destructive change(s) (--fail-on=destructive):
  tts-LoadBalancer: AWS::EC2::SecurityGroupIngress Public/Tasks-is/from ttsNetworkPublicLoadBalancerSecurityGroup51423ED3:1886 PublicTasksisfromX1886811BB014 will be destroyed
  tts-LoadBalancer: AWS::ElasticLoadBalancingV2::TargetGroup Public/Target-is-TCP1886 PublicTargetisTCP18866DE5CE82 will be destroyed
`

func knownIDs(ids ...string) func(string) bool {
	return func(id string) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	}
}

func TestParseDiffReadsResourceLinesAndDestructiveList(t *testing.T) {
	known := knownIDs("PublicTasksisfromX1886811BB014", "PublicTargetisTCP18866DE5CE82", "PublicTargetproxyTCP8886A5392F80", "PublicListener88867A37D7A9")
	d, err := ParseDiff("tts-LoadBalancer", loadBalancerDiff, known)
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{LogicalID: "PublicTasksisfromX1886811BB014", Type: "AWS::EC2::SecurityGroupIngress", Path: "Public/Tasks-is/from ttsNetworkPublicLoadBalancerSecurityGroup51423ED3:1886", Kind: Removed, Impact: "destroy"},
		{LogicalID: "PublicTargetisTCP18866DE5CE82", Type: "AWS::ElasticLoadBalancingV2::TargetGroup", Path: "Public/Target-is-TCP1886", Kind: Removed, Impact: "destroy"},
		{LogicalID: "PublicTargetproxyTCP8886A5392F80", Type: "AWS::ElasticLoadBalancingV2::TargetGroup", Path: "Public/Target-proxy-TCP8886", Kind: Added},
		{LogicalID: "PublicListener88867A37D7A9", Type: "AWS::ElasticLoadBalancingV2::Listener", Path: "Public/Listener8886", Kind: Modified,
			Properties: []string{"Certificates", "DefaultActions", "Protocol", "SslPolicy"}},
	}
	if len(d.Changes) != len(want) {
		t.Fatalf("%d changes, want %d: %+v", len(d.Changes), len(want), d.Changes)
	}
	for i, w := range want {
		g := d.Changes[i]
		if g.LogicalID != w.LogicalID || g.Type != w.Type || g.Path != w.Path || g.Kind != w.Kind || g.Impact != w.Impact ||
			strings.Join(g.Properties, ",") != strings.Join(w.Properties, ",") {
			t.Errorf("change %d = %+v, want %+v", i, g, w)
		}
	}
	if len(d.Destructive) != 2 || d.Destructive[0].Impact != "will be destroyed" || d.Destructive[1].LogicalID != "PublicTargetisTCP18866DE5CE82" {
		t.Errorf("destructive = %+v", d.Destructive)
	}
	if strings.Join(d.Sections, ",") != "Security Group Changes,Outputs" {
		t.Errorf("sections = %v, want Security Group Changes,Outputs", d.Sections)
	}
}

func TestParseDiffReplacements(t *testing.T) {
	out := "Stack S\nResources\n" +
		"[~] AWS::RDS::DBCluster Database replace\n" +
		" └─ [~] DBClusterIdentifier (requires replacement)\n" +
		"     ├─ [-] a\n     └─ [+] b\n" +
		"[~] AWS::RDS::DBInstance Data/Writer Writer may be replaced\n" +
		" ├─ [~] DBInstanceClass (may cause replacement)\n" +
		" └─ [~] Tags\n" +
		"[-] AWS::S3::Bucket replace orphan\n" +
		"\n\n❌  Found 3 destructive change(s) (--fail-on=destructive):\n" +
		"  S: AWS::RDS::DBCluster Database will be replaced\n" +
		"  S: AWS::RDS::DBInstance Data/Writer Writer may be replaced\n" +
		"  S: AWS::S3::Bucket replace will be orphaned\n"
	// A logical id may even be an impact word.
	d, err := ParseDiff("S", out, knownIDs("Database", "Writer", "replace"))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, c := range d.Changes {
		got = append(got, c.LogicalID+" "+string(c.Kind)+" "+c.Impact+" "+strings.Join(c.Properties, ","))
	}
	want := []string{
		"Database replaced replace DBClusterIdentifier (requires replacement)",
		"Writer replaced may be replaced DBInstanceClass (may cause replacement),Tags",
		"replace removed orphan ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseDiffRefusesWhatItDoesNotUnderstand(t *testing.T) {
	for name, c := range map[string]struct{ out, words string }{
		"lists disagree": {
			out:   "Resources\n[~] AWS::RDS::DBCluster Database\n\n❌  Found 1 destructive change(s) (--fail-on=destructive):\n  S: AWS::RDS::DBCluster Database will be replaced\n",
			words: "disagree",
		},
		"count differs": {
			out:   "Resources\n[~] AWS::RDS::DBCluster Database replace\n\n❌  Found 2 destructive change(s) (--fail-on=destructive):\n  S: AWS::RDS::DBCluster Database will be replaced\n",
			words: "announced 2",
		},
		"unknown logical id": {
			out:   "Resources\n[+] AWS::SNS::Topic Somewhere Else\n",
			words: "cannot find the logical id",
		},
		"unknown impact": {
			out:   "Resources\n[-] AWS::S3::Bucket Blobs vanish\n",
			words: "cannot find the logical id",
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseDiff("S", c.out, knownIDs("Database", "Blobs"))
			if err == nil || !strings.Contains(err.Error(), c.words) {
				t.Errorf("error = %v, want one with %q", err, c.words)
			}
		})
	}
}

func TestParseDiffWithoutChanges(t *testing.T) {
	d, err := ParseDiff("S", "Stack S\nThere were no differences\n\n✨  Number of stacks with differences: 0\n", knownIDs())
	if err != nil || len(d.Changes) != 0 || len(d.Sections) != 0 {
		t.Errorf("ParseDiff = %+v, %v; want no change", d, err)
	}
}
