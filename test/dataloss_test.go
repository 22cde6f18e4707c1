package test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/prdiff"
)

// guardRun is one `cdk diff --template` of a real synthesized stack against
// an older template, and the data-loss guard's verdict.
type guardRun struct {
	name     string
	asm      *Assembly
	stack    string         // stack name
	old      map[string]any // the older template
	diff     prdiff.StackDiff
	findings []prdiff.Finding
	err      error
}

// TestDataLossGuardOnTheAppsTemplates runs the guard of `make diff` with the
// real CDK CLI on the app's own templates: a database replaced by a changed
// identifier and a removed bucket are refused; a change of one listener and
// a flip of SupportProxyTLS pass.
func TestDataLossGuardOnTheAppsTemplates(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CDK CLI")
	}
	if _, err := exec.LookPath("npx"); err != nil {
		msg := "MISSING TOOL npx: this test runs the CDK CLI (npx -y aws-cdk@" + prdiff.DefaultCDKVersion + "); install Node.js 20 or later"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: a missing tool is a failure)")
		}
		t.Skip(msg)
	}
	a := synthOnce(t, nil)
	data, lb := a.Params.StackName("Data"), a.Params.StackName("Services")
	dbID, _ := only(t, a.Stack(t, "Data"), "AWS::RDS::DBCluster")
	listeners := listenersByPort(a.Stack(t, "Services"))
	plain := snapshotCombo{proxyTLS: false, interop: true, packetBroker: true}
	proxied := snapshotCombo{proxyTLS: true, interop: true, packetBroker: true}
	from, to := synthOnce(t, plain.overrides()), synthOnce(t, proxied.overrides())

	runs := []*guardRun{
		{name: "database identifier changed", asm: a, stack: data, old: editTemplate(t, a, data, func(r map[string]any) {
			// The deployed cluster had another identifier: the new one replaces it.
			get(r, dbID, "Properties").(map[string]any)["DBClusterIdentifier"] = "tts-db-old"
		})},
		{name: "bucket removed", asm: a, stack: data, old: editTemplate(t, a, data, func(r map[string]any) {
			r["RetiredBlobs0123ABCD"] = map[string]any{"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
		})},
		{name: "listener 443 changed", asm: a, stack: lb, old: editTemplate(t, a, lb, func(r map[string]any) {
			get(r, listeners[443], "Properties").(map[string]any)["SslPolicy"] = "ELBSecurityPolicy-TLS13-1-2-2021-06"
		})},
		{name: "SupportProxyTLS flipped", asm: to, stack: lb, old: editTemplate(t, from, lb, func(map[string]any) {})},
		// A deployment restored from snapshots whose parameter file loses
		// DatabaseSnapshot and CacheSnapshot: CloudFormation would create an
		// empty cluster and cache in place of the restored ones.
		{name: "restore parameters removed", asm: a, stack: data, old: editTemplate(t, synthOnce(t, restoreSet()), data, func(map[string]any) {})},
		// The pictures' distribution comes and goes; the bucket stays.
		{name: "PicturesEnabled off", asm: synthOnce(t, map[string]string{"PicturesEnabled": "false"}), stack: data, old: editTemplate(t, a, data, func(map[string]any) {})},
		{name: "PicturesEnabled on", asm: a, stack: data, old: editTemplate(t, synthOnce(t, map[string]string{"PicturesEnabled": "false"}), data, func(map[string]any) {})},
		// The agent: nothing of the Data stack changes; Configuration keeps
		// the agent's parameters (keptParameters).
		{name: "PacketBrokerEnabled on", asm: synthOnce(t, pbaOn), stack: a.Params.StackName("Configuration"), old: editTemplate(t, a, a.Params.StackName("Configuration"), func(map[string]any) {})},
		{name: "PacketBrokerEnabled off", asm: a, stack: a.Params.StackName("Configuration"), old: editTemplate(t, synthOnce(t, pbaOn), a.Params.StackName("Configuration"), func(map[string]any) {})},
		// Ops access: the session log group and its key stay in the Data
		// stack; the services' stacks lose only policies and outputs.
		{name: "OpsAccess off (Data)", asm: synthOnce(t, opsOff()), stack: data, old: editTemplate(t, a, data, func(map[string]any) {})},
		{name: "OpsAccess off (IdentityServer)", asm: synthOnce(t, opsOff()), stack: a.Params.StackName("IdentityServer"), old: editTemplate(t, a, a.Params.StackName("IdentityServer"), func(map[string]any) {})},
		{name: "OpsAccess off (Services)", asm: synthOnce(t, opsOff()), stack: lb, old: editTemplate(t, a, lb, func(map[string]any) {})},
		{name: "OpsAccess on (Data)", asm: a, stack: data, old: editTemplate(t, synthOnce(t, opsOff()), data, func(map[string]any) {})},
	}
	diffAll(t, runs)

	verdicts := map[string]string{}
	for _, r := range runs {
		if r.err != nil {
			t.Fatalf("%s: %v", r.name, r.err)
		}
		var ids []string
		for _, f := range r.findings {
			ids = append(ids, f.LogicalID)
		}
		verdicts[r.name] = strings.Join(ids, ",")
	}
	// Replacing the cluster replaces its instances too (they name it).
	dbIDs := append([]string{dbID}, sortedKeys(a.Stack(t, "Data").OfType("AWS::RDS::DBInstance"))...)
	sort.Strings(dbIDs)
	cacheID, _ := only(t, a.Stack(t, "Data"), "AWS::ElastiCache::ReplicationGroup")
	restored := append([]string{cacheID}, dbIDs...)
	sort.Strings(restored)
	for name, want := range map[string]string{
		"database identifier changed":    strings.Join(dbIDs, ","),
		"bucket removed":                 "RetiredBlobs0123ABCD",
		"listener 443 changed":           "",
		"SupportProxyTLS flipped":        "",
		"restore parameters removed":     strings.Join(restored, ","),
		"PicturesEnabled off":            "",
		"PicturesEnabled on":             "",
		"PacketBrokerEnabled on":         "",
		"PacketBrokerEnabled off":        "",
		"OpsAccess off (Data)":           "",
		"OpsAccess off (IdentityServer)": "",
		"OpsAccess off (Services)":       "",
		"OpsAccess on (Data)":            "",
	} {
		if verdicts[name] != want {
			t.Errorf("%s: the guard refuses %q, want %q", name, verdicts[name], want)
		}
	}
	for _, f := range runs[0].findings {
		if f.LogicalID == dbID && !hasAll(f.Reason, "will be replaced", "DBClusterIdentifier (requires replacement)") {
			t.Errorf("database: reason %q, want a replacement because of DBClusterIdentifier", f.Reason)
		}
	}
	if d := runs[2].diff; len(d.Changes) != 1 || d.Changes[0].LogicalID != listeners[443] || d.Changes[0].Kind != prdiff.Modified {
		t.Errorf("listener 443 changed: changes %+v, want only the listener, modified in place", d.Changes)
	}
	// The flip to proxy TLS adds the proxy's TLS target groups and changes
	// listeners, and removes nothing: the target groups of the other mode
	// stay (package listeners).
	flip := runs[3].diff
	if flip.Count(prdiff.Added) == 0 || flip.Count(prdiff.Removed) != 0 || flip.Count(prdiff.Modified) == 0 {
		t.Errorf("SupportProxyTLS flipped: %d added, %d modified, %d removed; want additions and modifications only", flip.Count(prdiff.Added), flip.Count(prdiff.Modified), flip.Count(prdiff.Removed))
	}
	// The session log group and its key are the same whether ops access
	// is on or off: the Data stack does not change.
	for _, r := range runs {
		if strings.HasPrefix(r.name, "OpsAccess") && strings.HasSuffix(r.name, "(Data)") && len(r.diff.Changes) != 0 {
			t.Errorf("%s changes the Data stack: %+v", r.name, r.diff.Changes)
		}
	}
	// Turning the agent off removes no parameter a running task names.
	for _, r := range runs {
		if r.name == "PacketBrokerEnabled off" && r.diff.Count(prdiff.Removed) != 0 {
			t.Errorf("PacketBrokerEnabled off removes %d resources of the Configuration stack: %+v", r.diff.Count(prdiff.Removed), r.diff.Changes)
		}
	}
}

// editTemplate returns a copy of a synthesized template's JSON with its
// resources edited.
func editTemplate(t *testing.T, a *Assembly, stack string, edit func(resources map[string]any)) map[string]any {
	t.Helper()
	var tpl map[string]any
	if err := json.Unmarshal([]byte(a.Templates[stack].Raw), &tpl); err != nil {
		t.Fatal(err)
	}
	edit(tpl["Resources"].(map[string]any))
	return tpl
}

func listenersByPort(tpl Template) map[int]string {
	out := map[int]string{}
	for id, r := range tpl.OfType("AWS::ElasticLoadBalancingV2::Listener") {
		out[int(get(r.Properties, "Port").(float64))] = id
	}
	return out
}

// diffAll runs the CLI for every run, two at a time (plain processes; no
// jsii is involved).
func diffAll(t *testing.T, runs []*guardRun) {
	t.Helper()
	cdk := prdiff.CDK{Command: prdiff.DefaultCDK(), Scratch: t.TempDir()}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, r := range runs {
		oldFile := filepath.Join(cdk.Scratch, fmt.Sprintf("old-%d.json", i))
		data, err := json.Marshal(r.old)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(oldFile, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var old prdiff.Template
		if err := json.Unmarshal(data, &old); err != nil {
			t.Fatal(err)
		}
		var cur prdiff.Template
		if err := json.Unmarshal([]byte(r.asm.Templates[r.stack].Raw), &cur); err != nil {
			t.Fatal(err)
		}
		known := func(id string) bool {
			_, a := old.Resources[id]
			_, b := cur.Resources[id]
			return a || b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			d, _, err := cdk.DiffStack(context.Background(), r.asm.Dir, r.stack, oldFile, known)
			if err != nil {
				r.err = err
				return
			}
			r.diff, r.findings = d, prdiff.Guard(r.stack, d, old, cur)
		}()
	}
	wg.Wait()
}

// TestStatefulTypesAreOneList keeps the template tests' list of stateful
// types (data_test.go) the same as the guard's (prdiff/stateful.go), until
// the tests use the guard's list directly.
func TestStatefulTypesAreOneList(t *testing.T) {
	tests := append([]string{}, statefulTypes()...)
	sort.Strings(tests)
	if got, want := strings.Join(tests, ","), strings.Join(prdiff.StatefulTypes(), ","); got != want {
		t.Errorf("data_test.go lists %s; prdiff.StatefulTypes() is %s: use prdiff.StatefulTypes() in both", got, want)
	}
}
