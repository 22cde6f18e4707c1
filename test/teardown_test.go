package test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// What `cdk destroy --all` does, read from the templates as CloudFormation
// applies them: every stack is deleted, later stacks first; a resource whose
// DeletionPolicy is Retain or RetainExceptOnCreate stays in the account, one
// with Snapshot is deleted after its final snapshot, every other one is
// deleted. A resource cannot be deleted while a resource that stays still
// uses it (a parameter group by the cluster, a subnet group by the cache, a
// subnet by their network interfaces): the stack's deletion then ends in
// DELETE_FAILED.

// kept tells whether deleting the stack leaves the resource in the account.
func kept(r Resource) bool {
	return r.DeletionPolicy == "Retain" || r.DeletionPolicy == "RetainExceptOnCreate"
}

// nameProperties are the properties that give a resource its physical name,
// by type (CloudFormation generates a unique name when they are absent). A
// resource that stays with such a name blocks the next creation of its stack.
func nameProperties() map[string]string {
	return map[string]string{
		"AWS::SecretsManager::Secret":          "Name",
		"AWS::Logs::LogGroup":                  "LogGroupName",
		"AWS::RDS::DBCluster":                  "DBClusterIdentifier",
		"AWS::RDS::DBInstance":                 "DBInstanceIdentifier",
		"AWS::RDS::DBSubnetGroup":              "DBSubnetGroupName",
		"AWS::RDS::DBClusterParameterGroup":    "DBClusterParameterGroupName",
		"AWS::ElastiCache::ReplicationGroup":   "ReplicationGroupId",
		"AWS::ElastiCache::SubnetGroup":        "CacheSubnetGroupName",
		"AWS::S3::Bucket":                      "BucketName",
		"AWS::KMS::Alias":                      "AliasName",
		"AWS::SSM::Parameter":                  "Name",
		"AWS::IAM::Role":                       "RoleName",
		"AWS::EC2::SecurityGroup":              "GroupName",
		"AWS::ECS::Cluster":                    "ClusterName",
		"AWS::Lambda::Function":                "FunctionName",
		"AWS::SNS::Topic":                      "TopicName",
		"AWS::ServiceDiscovery::HttpNamespace": "Name",
	}
}

// fixedName returns the physical name a template gives a resource, rendered
// for messages ("" when CloudFormation names it).
func fixedName(r Resource) string {
	prop, ok := nameProperties()[r.Type]
	if !ok || r.Properties[prop] == nil {
		return ""
	}
	if s, ok := r.Properties[prop].(string); ok {
		return s
	}
	return jsonText(r.Properties[prop])
}

// use is one reference from a resource to another, maybe in another stack.
type use struct {
	stack, id, how string
}

var subRef = regexp.MustCompile(`\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}`)

// uses lists what a resource refers to: Ref, Fn::GetAtt and Fn::Sub within
// its stack, Fn::GetStackOutput followed to the resources behind the output
// of the producing stack, and DependsOn.
func uses(a *Assembly, stack string, r Resource) []use {
	var out []use
	var walk func(stack string, v any, via string)
	walk = func(stack string, v any, via string) {
		switch x := v.(type) {
		case map[string]any:
			if id := refTo(x); id != "" && !strings.HasPrefix(id, "AWS::") {
				out = append(out, use{stack, id, via + "Ref/GetAtt"})
				return
			}
			if s, ok := x["Fn::Sub"].(string); ok {
				for _, m := range subRef.FindAllStringSubmatch(s, -1) {
					out = append(out, use{stack, m[1], via + "Fn::Sub"})
				}
			}
			if other, value, ok := stackOutput(a, x); ok {
				walk(other, value, via+"Fn::GetStackOutput "+other+", ")
				return
			}
			for _, k := range sortedKeys(x) {
				walk(stack, x[k], via)
			}
		case []any:
			for _, item := range x {
				walk(stack, item, via)
			}
		}
	}
	walk(stack, r.Properties, "")
	switch d := r.DependsOn.(type) {
	case string:
		out = append(out, use{stack, d, "DependsOn"})
	case []any:
		for _, item := range d {
			if s, ok := item.(string); ok {
				out = append(out, use{stack, s, "DependsOn"})
			}
		}
	}
	return out
}

// teardownProblems walks the deletion of every stack of the assembly and
// returns what would go wrong, sorted.
func teardownProblems(a *Assembly) []string {
	var problems []string
	for _, stack := range sortedKeys(a.Templates) {
		tpl := a.Templates[stack]
		for _, id := range sortedKeys(tpl.Resources) {
			r := tpl.Resources[id]
			if r.DeletionPolicy == "Retain" {
				if name := fixedName(r); name != "" {
					problems = append(problems, fmt.Sprintf("%s: %s %s has the fixed name %s and DeletionPolicy Retain: when the stack's creation fails, it stays and the retry fails with \"already exists\"; use RetainExceptOnCreate, Snapshot or Delete", stack, r.Type, id, name))
				}
			}
			if !kept(r) {
				continue
			}
			for _, u := range uses(a, stack, r) {
				target, ok := a.Templates[u.stack].Resources[u.id]
				if !ok || kept(target) {
					continue
				}
				problems = append(problems, fmt.Sprintf("%s: %s %s stays after the deletion (DeletionPolicy %s) but uses %s %s of %s (%s), which the deletion removes: DELETE_FAILED while it is in use",
					stack, r.Type, id, r.DeletionPolicy, target.Type, u.id, u.stack, u.how))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// Deleting every stack (cdk destroy --all) never fails on a resource that is
// still in use, and nothing left behind blocks a retry of a failed creation.
func TestTeardownLeavesNothingInUseAndRetriesWork(t *testing.T) {
	sets := []map[string]string{
		nil,
		proxyOn(),
		{"DeletionProtection": "false"},
		{"RetainData": "false", "DeletionProtection": "false"},
		restoreSet(),
		givenAddresses(),
	}
	for _, set := range sets {
		a := synthOnce(t, set)
		for _, p := range teardownProblems(a) {
			t.Errorf("%s: %s", canonical(set), p)
		}
	}
}

// restoreSet is the example restored from the final snapshots of an earlier
// deployment.
func restoreSet() map[string]string {
	return map[string]string{"DatabaseSnapshot": "tts-data-databasecluster5b53a178-snapshot-abc", "CacheSnapshot": "tts-data-final-cache"}
}

// README's "Before a new deployment with the same prefix" deletes exactly the
// resources that a teardown keeps under a fixed name, which would otherwise
// make the next creation of the Data stack fail.
func TestTeardownReadmeFreesEveryFixedName(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "for s in "); ok {
			list, _, _ := strings.Cut(rest, ";")
			for _, s := range strings.Fields(list) {
				documented["secret $P/"+s] = true
			}
		}
		if rest, ok := strings.CutPrefix(line, "aws logs delete-log-group --log-group-name "); ok {
			documented["log group "+strings.Trim(rest, `"`)] = true
		}
	}
	left := map[string]bool{}
	for _, set := range []map[string]string{nil, proxyOn()} {
		a := synthOnce(t, set)
		for stack, tpl := range a.Templates {
			for id, r := range tpl.Resources {
				name := fixedName(r)
				if name == "" || !kept(r) {
					continue
				}
				generic := strings.Replace(name, a.Params.StackPrefix, "$P", 1)
				switch r.Type {
				case "AWS::SecretsManager::Secret":
					left["secret "+generic] = true
				case "AWS::Logs::LogGroup":
					left["log group "+generic] = true
				default:
					t.Errorf("%s: %s %s is kept under the fixed name %s; README's commands before a new deployment do not delete that type", stack, r.Type, id, name)
				}
			}
		}
	}
	for _, k := range sortedKeys(left) {
		if !documented[k] {
			t.Errorf("a teardown keeps the %s, which README's commands before a new deployment with the same prefix do not delete", k)
		}
	}
	for _, k := range sortedKeys(documented) {
		if !left[k] {
			t.Errorf("README deletes the %s, which no teardown keeps", k)
		}
	}
	if len(left) == 0 {
		t.Errorf("found no kept resource with a fixed name; the test reads nothing")
	}
}

// The walk finds the defects of the templates before RetainExceptOnCreate and
// Snapshot: a retained cluster and cache keep their parameter group, subnet
// groups and security groups in use, and a retained secret with a fixed name
// blocks the retry of a failed creation.
func TestTeardownWalkFindsRetainedDataTier(t *testing.T) {
	a := synthOnce(t, nil)
	data := a.Params.StackName("Data")
	old := *a
	old.Templates = map[string]Template{}
	for name, tpl := range a.Templates {
		old.Templates[name] = tpl
	}
	tpl := a.Templates[data]
	resources := map[string]Resource{}
	var want []string
	for id, r := range tpl.Resources {
		switch r.Type {
		case "AWS::RDS::DBCluster", "AWS::ElastiCache::ReplicationGroup", "AWS::SecretsManager::Secret":
			r.DeletionPolicy = "Retain"
		}
		switch r.Type {
		case "AWS::RDS::DBClusterParameterGroup", "AWS::ElastiCache::SubnetGroup", "AWS::EC2::SecurityGroup":
			want = append(want, "uses "+r.Type+" "+id)
		case "AWS::SecretsManager::Secret":
			want = append(want, "Secret "+id+" has the fixed name")
		}
		resources[id] = r
	}
	tpl.Resources = resources
	old.Templates[data] = tpl
	found := strings.Join(teardownProblems(&old), "\n")
	for _, w := range want {
		if !strings.Contains(found, w) {
			t.Errorf("the walk misses %q; it found:\n%s", w, found)
		}
	}
	if len(want) < 5 {
		t.Errorf("only %d expectations; the Data template lacks what this test retains", len(want))
	}
}
