package prdiff

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var regenerate = flag.Bool("regenerate", false, "rewrite testdata/main from ../test/snapshots")

// mainFixtures are the assemblies of testdata/main: the example
// environment, and the stacks that differ from it in two other modes.
var mainFixtures = map[string]string{
	"example":     "env/example",
	"proxytls-on": "combo/proxytls-on.interop-on.packetbroker-on",
	"interop-off": "combo/proxytls-off.interop-off.packetbroker-off",
}

// mainStackOrder is the deploy order of the fixture's stacks (their
// manifest order).
var mainStackOrder = []string{"tts-Network", "tts-Data", "tts-LoadBalancer", "tts-Configuration", "tts-IdentityServer", "tts-Services"}

// guardedTypes keep their properties in the fixture; the other resources
// keep only their references and a digest of their properties, which is
// what the availability guard compares.
var guardedTypes = map[string]bool{
	"AWS::ElasticLoadBalancingV2::Listener":     true,
	"AWS::ElasticLoadBalancingV2::TargetGroup":  true,
	"AWS::ElasticLoadBalancingV2::LoadBalancer": true,
	"AWS::ECS::Service":                         true,
	"AWS::EC2::SecurityGroup":                   true,
	"AWS::EC2::SecurityGroupIngress":            true,
}

// TestRegenerateFixtures rewrites testdata/main from the template snapshots
// (go test ./prdiff -run TestRegenerateFixtures -regenerate).
func TestRegenerateFixtures(t *testing.T) {
	if !*regenerate {
		t.Skip("pass -regenerate to rewrite testdata/main from ../test/snapshots")
	}
	for name, src := range mainFixtures {
		dir := filepath.Join("testdata", "main", name)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		files, err := filepath.Glob(filepath.Join("../../..", "test", "snapshots", src, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no snapshots in %s: %v", src, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var tpl struct {
				Resources map[string]map[string]any `json:"Resources"`
				Outputs   map[string]any            `json:"Outputs,omitempty"`
			}
			if err := json.Unmarshal(data, &tpl); err != nil {
				t.Fatal(err)
			}
			for _, r := range tpl.Resources {
				if !guardedTypes[r["Type"].(string)] && r["Properties"] != nil {
					props, _ := json.Marshal(r["Properties"])
					sum := sha256.Sum256(props)
					r["Properties"] = map[string]any{"Digest": hex.EncodeToString(sum[:8]), "References": references(r["Properties"])}
				}
				delete(r, "Metadata")
			}
			out, err := json.MarshalIndent(tpl, "", " ")
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, filepath.Base(f)), append(out, '\n'))
		}
	}
}

// references lists the intrinsic functions of a value that name resources
// or outputs, once each.
func references(x any) []any {
	seen := map[string]bool{}
	var out []any
	var walk func(any)
	walk = func(x any) {
		switch n := x.(type) {
		case []any:
			for _, e := range n {
				walk(e)
			}
		case map[string]any:
			if len(n) == 1 {
				for k := range n {
					if k == "Ref" || k == "Fn::GetAtt" || k == "Fn::Sub" || k == "Fn::GetStackOutput" || k == "Fn::ImportValue" {
						key, _ := json.Marshal(n)
						if !seen[string(key)] {
							seen[string(key)] = true
							out = append(out, n)
						}
						return
					}
				}
			}
			keys := make([]string, 0, len(n))
			for k := range n {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(n[k])
			}
		}
	}
	walk(x)
	return out
}

func writeFile(t *testing.T, file string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// mainAssembly writes the cloud assembly of a fixture mode (the example's
// stacks, replaced by those of the mode) and reads it.
func mainAssembly(t *testing.T, mode string) *Assembly {
	t.Helper()
	templates := map[string]map[string]any{}
	for _, m := range []string{"example", mode} {
		files, err := filepath.Glob(filepath.Join("testdata", "main", m, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixture for %s: %v", m, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var tpl map[string]any
			if err := json.Unmarshal(data, &tpl); err != nil {
				t.Fatal(err)
			}
			templates[strings.TrimSuffix(filepath.Base(f), ".json")] = tpl
		}
	}
	dir := t.TempDir()
	writeAssembly(t, dir, mainStackOrder, templates)
	asm, err := ReadAssembly(dir)
	if err != nil {
		t.Fatal(err)
	}
	return asm
}
