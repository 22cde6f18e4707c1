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

// The proxy's unhealthy-target alarms name the load balancer and the target
// group by the attributes CloudWatch uses as dimensions (LoadBalancerFullName,
// TargetGroupFullName), each published by the stack that creates the
// resource; and the Network stack publishes the load balancer's name in
// both TLS modes, so that a flip adds or removes no output another stack
// reads.
func TestProxyAlarmsNameWhatTheProducersPublish(t *testing.T) {
	a := synthOnce(t, proxyOn())
	resolve := func(v any, typ, attr string) bool {
		stack, value, ok := stackOutput(a, v)
		if !ok {
			return false
		}
		id, _ := get(value, "Fn::GetAtt", "0").(string)
		r, found := a.Templates[stack].Resources[id]
		return found && r.Type == typ && get(value, "Fn::GetAtt", "1") == attr
	}
	alarms := 0
	for id, al := range a.Stack(t, "Services").OfType("AWS::CloudWatch::Alarm") {
		if get(al.Properties, "MetricName") != "UnHealthyHostCount" {
			continue
		}
		alarms++
		dims := namedValues(get(al.Properties, "Dimensions"), "Value")
		if get(al.Properties, "Namespace") != "AWS/NetworkELB" || len(dims) != 2 {
			t.Errorf("%s: namespace %v, dimensions %s; want AWS/NetworkELB with LoadBalancer and TargetGroup", id, get(al.Properties, "Namespace"), jsonText(dims))
		}
		if !resolve(dims["LoadBalancer"], "AWS::ElasticLoadBalancingV2::LoadBalancer", "LoadBalancerFullName") {
			t.Errorf("%s: the LoadBalancer dimension %s is not a published LoadBalancerFullName of a load balancer", id, jsonText(dims["LoadBalancer"]))
		}
		if !resolve(dims["TargetGroup"], "AWS::ElasticLoadBalancingV2::TargetGroup", "TargetGroupFullName") {
			t.Errorf("%s: the TargetGroup dimension %s is not a published TargetGroupFullName of a target group", id, jsonText(dims["TargetGroup"]))
		}
	}
	if alarms == 0 {
		t.Error("no UnHealthyHostCount alarm in proxy TLS mode")
	}
	if on, off := a.Stack(t, "Network").Raw, synthOnce(t, proxyOff()).Stack(t, "Network").Raw; on != off {
		t.Error("the Network stack differs between the TLS modes: a flip would add or remove an output that the Services stack reads")
	}
}
