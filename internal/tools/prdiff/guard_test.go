package prdiff

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

func database(identifier string, protected bool) res {
	return res{"Type": "AWS::RDS::DBCluster", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
		"Properties": res{"Engine": "aurora-postgresql", "DBClusterIdentifier": identifier, "StorageEncrypted": true, "DeletionProtection": protected}}
}

func bucket() res {
	return res{"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
		"Properties": res{"VersioningConfiguration": res{"Status": "Enabled"}}}
}

func listener(tls bool) res {
	p := res{"Port": 443, "LoadBalancerArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/tts/0123456789abcdef",
		"DefaultActions": []any{res{"Type": "forward", "TargetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/proxy/0123456789abcdef"}}}
	if tls {
		p["Protocol"] = "TLS"
		p["Certificates"] = []any{res{"CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"}}
		p["SslPolicy"] = "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09"
	} else {
		p["Protocol"] = "TCP"
	}
	return res{"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": p}
}

func logGroup(policy string, days int) res {
	return res{"Type": "AWS::Logs::LogGroup", "DeletionPolicy": policy, "UpdateReplacePolicy": policy, "Properties": res{"RetentionInDays": days}}
}

// guardCase is one stack of the test assembly: its old and new template.
type guardCase struct {
	old, new map[string]res
	// want are the findings as "LogicalID: words of the reason".
	want []string
}

func guardCases() map[string]guardCase {
	return map[string]guardCase{
		"DatabaseReplaced": {
			old:  map[string]res{"Database": database("tts-db", true), "Blobs": bucket(), "Listener443": listener(true)},
			new:  map[string]res{"Database": database("tts-db-2", true), "Blobs": bucket(), "Listener443": listener(true)},
			want: []string{"Database: will be replaced DBClusterIdentifier (requires replacement)"},
		},
		"BucketRemoved": {
			old:  map[string]res{"Database": database("tts-db", true), "Blobs": bucket()},
			new:  map[string]res{"Database": database("tts-db", true)},
			want: []string{"Blobs: removed from the stack"},
		},
		"ListenerOnly": {
			old: map[string]res{"Database": database("tts-db", true), "Blobs": bucket(), "Listener443": listener(true)},
			new: map[string]res{"Database": database("tts-db", true), "Blobs": bucket(), "Listener443": listener(false)},
		},
		"RetentionTurnedOff": {
			old: map[string]res{"Database": database("tts-db", true), "Logs": logGroup("Retain", 365)},
			new: map[string]res{"Database": database("tts-db", false), "Logs": logGroup("Delete", 30)},
			want: []string{
				"Database: DeletionProtection true -> false",
				"Logs: DeletionPolicy Retain -> Delete",
				"Logs: RetentionInDays shortened from 365 days to 30 days",
				"Logs: UpdateReplacePolicy Retain -> Delete",
			},
		},
		"NatAddressRemoved": {
			// Elastic IPs count only where retained; a NAT gateway's is not.
			old: map[string]res{"NatAddress": {"Type": "AWS::EC2::EIP", "Properties": res{"Domain": "vpc"}}, "Listener443": listener(true)},
			new: map[string]res{"Listener443": listener(true)},
		},
	}
}

// guardResult is the CLI's diff of one case and the guard's findings.
type guardResult struct {
	diff     StackDiff
	findings []Finding
	err      error
}

// runGuardCases diffs every case with the real CDK CLI, two at a time, from
// one hand-written cloud assembly.
func runGuardCases(t *testing.T) map[string]guardResult {
	t.Helper()
	cdk := requireNpx(t)
	dir := t.TempDir()
	cases := guardCases()
	names := make([]string, 0, len(cases))
	newTemplates := map[string]map[string]any{}
	for name, c := range cases {
		names = append(names, name)
		newTemplates[name] = tpl(c.new)
		writeJSON(t, filepath.Join(dir, "old", name+".json"), tpl(c.old))
	}
	sort.Strings(names)
	writeAssembly(t, filepath.Join(dir, "asm"), names, newTemplates)
	asm, err := ReadAssembly(filepath.Join(dir, "asm"))
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]guardResult{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c := cases[name]
			known := func(id string) bool { _, a := c.old[id]; _, b := c.new[id]; return a || b }
			d, out, err := cdk.DiffStack(context.Background(), asm.Dir, name, filepath.Join(dir, "old", name+".json"), known)
			if err != nil {
				err = &cliError{err: err, out: out}
			}
			var old Template
			if data, rerr := os.ReadFile(filepath.Join(dir, "old", name+".json")); rerr != nil || json.Unmarshal(data, &old) != nil {
				t.Errorf("cannot read back the old template of %s", name)
			}
			f := Guard(name, d, old, asm.Stacks[name].Template)
			mu.Lock()
			results[name] = guardResult{diff: d, findings: f, err: err}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results
}

type cliError struct {
	err error
	out string
}

func (e *cliError) Error() string { return e.err.Error() }

// TestGuardWithTheRealCLI runs `cdk diff --template` on hand-written
// templates: a database replaced by a changed identifier and a removed
// bucket fail, a listener-only change passes, turning off retention or
// deletion protection fails, and a reviewed override lets the database
// replacement pass.
func TestGuardWithTheRealCLI(t *testing.T) {
	results := runGuardCases(t)
	for name, c := range guardCases() {
		t.Run(name, func(t *testing.T) {
			r := results[name]
			if r.err != nil {
				t.Fatalf("cdk diff: %v", r.err)
			}
			var got []string
			for _, f := range r.findings {
				got = append(got, f.LogicalID+": "+f.Reason)
			}
			if len(got) != len(c.want) {
				t.Fatalf("findings:\n%s\nwant %d:\n%s", strings.Join(got, "\n"), len(c.want), strings.Join(c.want, "\n"))
			}
			for i, w := range c.want {
				id, words, _ := strings.Cut(w, ": ")
				if r.findings[i].LogicalID != id || !hasWords(r.findings[i].Reason, words) {
					t.Errorf("finding %d = %q, want %s with the words %q", i, got[i], id, words)
				}
			}
		})
	}

	t.Run("ListenerOnlyIsAModification", func(t *testing.T) {
		d := results["ListenerOnly"].diff
		if len(d.Changes) != 1 || d.Changes[0].LogicalID != "Listener443" || d.Changes[0].Kind != Modified {
			t.Fatalf("changes = %+v, want Listener443 modified in place", d.Changes)
		}
		if got := strings.Join(d.Changes[0].Properties, ","); got != "Certificates,Protocol,SslPolicy" {
			t.Errorf("changed properties = %s, want Certificates,Protocol,SslPolicy", got)
		}
	})

	t.Run("OverrideAllowsTheDatabaseReplacement", func(t *testing.T) {
		findings := append([]Finding{}, results["DatabaseReplaced"].findings...)
		overrides := []Override{
			{Stack: "DatabaseReplaced", LogicalID: "Database", Reason: "renamed on purpose; restored from snapshot tts-db-final", Where: "params/test.dataloss.yaml:2"},
			{Stack: "DatabaseReplaced", LogicalID: "Gone", Reason: "stale", Where: "params/test.dataloss.yaml:5"},
		}
		unused := ApplyOverrides(findings, overrides)
		rep := &Report{Envs: []EnvReport{{Name: "test", Findings: findings, Unused: unused}}}
		if rep.Failed() {
			t.Errorf("the guard still fails with the override: %v", findings)
		}
		if len(unused) != 1 || unused[0].LogicalID != "Gone" {
			t.Errorf("unused overrides = %+v, want the one for Gone", unused)
		}
		md := rep.Markdown()
		for _, want := range []string{"allowed by params/test.dataloss.yaml:2", "restored from snapshot tts-db-final", "warning: the override at params/test.dataloss.yaml:5 (DatabaseReplaced Gone) matches no change"} {
			if !strings.Contains(md, want) {
				t.Errorf("summary lacks %q:\n%s", want, md)
			}
		}
		without := &Report{Envs: []EnvReport{{Name: "test", Findings: results["DatabaseReplaced"].findings}}}
		if !without.Failed() {
			t.Error("the guard passes without the override")
		}
	})

	t.Run("RemovedNatAddressIsNotData", func(t *testing.T) {
		d := results["NatAddressRemoved"].diff
		if d.Count(Removed) != 1 || d.Changes[0].Impact != impactDestroy {
			t.Errorf("changes = %+v, want NatAddress removed (destroy)", d.Changes)
		}
	})
}

func hasWords(text, words string) bool {
	for _, w := range strings.Fields(words) {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}
