package cache

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

func TestCacheAlone(t *testing.T) {
	for _, restoreFrom := range []string{"", "tts-final"} {
		stack := cdktest.Stack(t)
		vpc := cdktest.VPC(stack)
		subnets := *vpc.IsolatedSubnets()
		zones := []string{cdktest.Region + "a", cdktest.Region + "b"}
		c, err := New(stack, "Cache", Props{Vpc: vpc, Subnets: subnets, AvailabilityZones: zones, Key: awskms.NewKey(stack, jsii.String("Key"), nil),
			SecretName: "test/tts/redis", NodeType: "cache.t4g.micro", Replicas: 2, LogRetention: awslogs.RetentionDays_ONE_WEEK, RestoreFrom: restoreFrom})
		if err != nil {
			t.Fatal(err)
		}
		if c.AuthToken == nil || c.SecurityGroup == nil {
			t.Fatal("no AuthToken or SecurityGroup")
		}
		tpl := cdktest.Synth(t, stack)
		g := tpl.Only(t, "AWS::ElastiCache::ReplicationGroup")
		p := g.Properties
		if p["TransitEncryptionEnabled"] != true || p["AtRestEncryptionEnabled"] != true || p["MultiAZEnabled"] != true || p["AutomaticFailoverEnabled"] != true {
			t.Errorf("replication group is not encrypted, Multi-AZ and failing over: %v", p)
		}
		if p["Port"] != float64(Port) || p["EngineVersion"] != EngineVersion || p["ReplicasPerNodeGroup"] != float64(2) {
			t.Errorf("port %v, engine %v, replicas %v", p["Port"], p["EngineVersion"], p["ReplicasPerNodeGroup"])
		}
		if got := cdktest.JSON(p["PreferredCacheClusterAZs"]); got != `["eu-west-1a","eu-west-1b","eu-west-1a"]` {
			t.Errorf("nodes in %s, want spread over the zones", got)
		}
		if token := cdktest.JSON(p["AuthToken"]); !strings.Contains(token, "{{resolve:secretsmanager:") {
			t.Errorf("AuthToken %s is not a dynamic reference to the secret", token)
		}
		if g.DeletionPolicy != "Snapshot" {
			t.Errorf("DeletionPolicy %q, want Snapshot", g.DeletionPolicy)
		}
		if got, _ := p["SnapshotName"].(string); got != restoreFrom {
			t.Errorf("SnapshotName %q, want %q", got, restoreFrom)
		}
		if s := tpl.Only(t, "AWS::SecretsManager::Secret"); s.DeletionPolicy != "RetainExceptOnCreate" || s.Properties["Name"] != "test/tts/redis" {
			t.Errorf("AUTH token secret %v (%s), want test/tts/redis, kept", s.Properties["Name"], s.DeletionPolicy)
		}
		sg := tpl.Only(t, "AWS::EC2::SecurityGroup")
		if strings.Contains(cdktest.JSON(sg.Properties), "0.0.0.0/0") {
			t.Errorf("the cache's security group opens to the world: %v", sg.Properties)
		}
	}
}

func TestCachePropsAreChecked(t *testing.T) {
	stack := cdktest.Stack(t)
	vpc := cdktest.VPC(stack)
	key := awskms.NewKey(stack, jsii.String("Key"), nil)
	ok := Props{Vpc: vpc, Subnets: *vpc.IsolatedSubnets(), AvailabilityZones: []string{"a", "b"}, Key: key, SecretName: "s", NodeType: "cache.t4g.micro", Replicas: 1}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid props refused: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*Props)
		want []string
	}{
		{"no key", func(p *Props) { p.Key = nil }, []string{"cache.missing-scope"}},
		{"one zone", func(p *Props) { p.AvailabilityZones = []string{"a"} }, []string{"cache.too-few-zones"}},
		{"one subnet", func(p *Props) { p.Subnets = p.Subnets[:1] }, []string{"cache.too-few-zones"}},
		{"no replica", func(p *Props) { p.Replicas = 0 }, []string{"cache.no-replica"}},
		{"no node type", func(p *Props) { p.NodeType = "" }, []string{"cache.missing-node-type"}},
		{"no secret name", func(p *Props) { p.SecretName = "" }, []string{"cache.missing-secret-name"}},
		{"everything wrong", func(p *Props) { *p = Props{} }, []string{"cache.missing-scope", "cache.too-few-zones", "cache.no-replica",
			"cache.missing-node-type", "cache.missing-secret-name"}},
	} {
		p := ok
		c.edit(&p)
		_, err := New(stack, "Cache", p)
		if got := diag.FromError(err).Codes(); !slices.Equal(got, c.want) {
			t.Errorf("%s: codes %v, want %v (error %v)", c.name, got, c.want, err)
		}
	}
}
