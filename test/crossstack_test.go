package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// splitsOfStackOutputs returns the places in a template (as paths) where
// Fn::Split or Fn::Select takes its source from a Fn::GetStackOutput,
// directly or through other functions. CloudFormation documents
// Fn::ImportValue as a source of Fn::Split, not Fn::GetStackOutput (cfn-lint
// E1017, E1022): a value another stack publishes must be published in the
// form its consumer needs (a name, not an ARN to take apart).
func splitsOfStackOutputs(v any, path string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			arg := x[k]
			if k == "Fn::Split" || k == "Fn::Select" {
				// The source is the second argument of both.
				if args, ok := arg.([]any); ok && len(args) == 2 && containsStackOutput(args[1]) {
					out = append(out, path+"/"+k)
					continue
				}
			}
			out = append(out, splitsOfStackOutputs(arg, path+"/"+k)...)
		}
	case []any:
		for i, item := range x {
			out = append(out, splitsOfStackOutputs(item, fmt.Sprintf("%s/%d", path, i))...)
		}
	}
	return out
}

func containsStackOutput(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["Fn::GetStackOutput"]; ok {
			return true
		}
		for _, item := range x {
			if containsStackOutput(item) {
				return true
			}
		}
	case []any:
		for _, item := range x {
			if containsStackOutput(item) {
				return true
			}
		}
	}
	return false
}

// The walker finds what CDK writes for a name taken from an imported ARN,
// and leaves a plain cross-stack value alone.
func TestSplitsOfStackOutputsWalker(t *testing.T) {
	var tpl any
	if err := json.Unmarshal([]byte(`{"Resources": {
		"Repo": {"Properties": {"Bucket": {"Fn::Select": [0, {"Fn::Split": ["/", {"Fn::Select": [5, {"Fn::Split": [":",
			{"Fn::GetStackOutput": {"StackName": "tts-Data", "OutputName": "BucketArn"}}]}]}]}]}}},
		"Alarm": {"Properties": {"Dimensions": [{"Value": {"Fn::GetStackOutput": {"StackName": "tts-Network", "OutputName": "Name"}}}]}},
		"Local": {"Properties": {"Name": {"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": "Listener"}]}]}}}}}`), &tpl); err != nil {
		t.Fatal(err)
	}
	got := splitsOfStackOutputs(tpl, "")
	if want := []string{"/Resources/Repo/Properties/Bucket/Fn::Select"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("found %v, want %v", got, want)
	}
}

// No template of any combination takes a value of another stack apart with
// Fn::Split or Fn::Select.
func TestNoSplitOfAnotherStacksOutput(t *testing.T) {
	for _, c := range combos() {
		if !c.valid() {
			continue
		}
		a := synthOnce(t, c.overrides())
		for _, stack := range sortedKeys(a.Templates) {
			var tpl any
			if err := json.Unmarshal([]byte(a.Templates[stack].Raw), &tpl); err != nil {
				t.Fatalf("%s: %v", stack, err)
			}
			for _, at := range splitsOfStackOutputs(tpl, "") {
				t.Errorf("%s, %s: %s takes apart a Fn::GetStackOutput; publish the value the consumer needs (a name, an attribute) as an output of the producing stack",
					canonical(c.overrides()), stack, at)
			}
		}
	}
}
