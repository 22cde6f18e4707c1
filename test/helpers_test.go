package test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/assembly"
)

// get walks a decoded JSON value by keys (map keys, or list indexes as "0").
func get(v any, path ...string) any {
	for _, k := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			var i int
			if _, err := fmt.Sscanf(k, "%d", &i); err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// refTo tells the logical id a Ref or Fn::GetAtt points to ("" otherwise).
func refTo(v any) string { return assembly.RefTo(v) }

// jsonText renders a value for messages and for substring checks.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// only returns the single resource of a type, failing the test otherwise.
func only(t *testing.T, tpl Template, typ string) (string, Resource) {
	t.Helper()
	rs := tpl.OfType(typ)
	if len(rs) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	for id, r := range rs {
		return id, r
	}
	return "", Resource{}
}

// lbAttributes turns a LoadBalancerAttributes/TargetGroupAttributes list into a map.
func lbAttributes(v any) map[string]string {
	out := map[string]string{}
	list, _ := v.([]any)
	for _, item := range list {
		k, _ := get(item, "Key").(string)
		val, _ := get(item, "Value").(string)
		out[k] = val
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasAll(text string, words ...string) bool {
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// dataKey returns the Data stack's data key (the alarm topic has a key of
// its own).
func dataKey(t *testing.T, tpl Template) (string, Resource) {
	t.Helper()
	var ids []string
	for id := range tpl.OfType("AWS::KMS::Key") {
		if strings.HasPrefix(id, "DataKey") {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("%d data keys (logical id DataKey...), want 1", len(ids))
	}
	return ids[0], tpl.Resources[ids[0]]
}
