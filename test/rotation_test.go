package test

import (
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
)

// uriReaders returns the task definitions of a template (by logical id) with
// a container that reads the secret the Custom::DatabaseURI writes (the same
// Data stack output as the resource's TargetSecretArn), and for each the
// values of that container's plain environment.
func uriReaders(t *testing.T, a *Assembly, stack string) map[string][]map[string]any {
	t.Helper()
	_, uri := only(t, a.Stack(t, "Configuration"), deployres.DatabaseURIType)
	_, target, ok := stackOutput(a, uri.Properties["TargetSecretArn"])
	if !ok {
		t.Fatalf("%s's TargetSecretArn %s is not an output of another stack", deployres.DatabaseURIType, jsonText(uri.Properties["TargetSecretArn"]))
	}
	out := map[string][]map[string]any{}
	for id, task := range a.Stack(t, stack).OfType("AWS::ECS::TaskDefinition") {
		for _, c := range asList(task.Properties["ContainerDefinitions"]) {
			for _, from := range namedValues(get(c, "Secrets"), "ValueFrom") {
				if _, v, ok := stackOutput(a, from); ok && jsonText(v) == jsonText(target) {
					out[id] = append(out[id], namedValues(get(c, "Environment"), "Value"))
				}
			}
		}
	}
	return out
}

// A new DatabasePasswordVersion is a property change of Custom::DatabaseURI
// (so CloudFormation sends the Update that composes the URI again) and a
// change of every task definition that reads the URI, through a value that
// the Identity Server stack takes from the custom resource's VersionId
// attribute (an output of the Configuration stack). Nothing else changes:
// the Data stack and the Services stack stay as they are.
func TestDatabasePasswordVersionRollsWhatReadsTheURI(t *testing.T) {
	before := synthOnce(t, nil)
	after := synthOnce(t, map[string]string{"DatabasePasswordVersion": before.Params.DatabasePasswordVersion + "-next"})

	uriID, uriBefore := only(t, before.Stack(t, "Configuration"), deployres.DatabaseURIType)
	_, uriAfter := only(t, after.Stack(t, "Configuration"), deployres.DatabaseURIType)
	if jsonText(uriBefore.Properties) == jsonText(uriAfter.Properties) {
		t.Errorf("%s %s has the same properties for both password versions: CloudFormation would not send an Update", deployres.DatabaseURIType, uriID)
	}

	readersBefore := uriReaders(t, before, "IdentityServer")
	readersAfter := uriReaders(t, after, "IdentityServer")
	_, svc := only(t, before.Stack(t, "IdentityServer"), "AWS::ECS::Service")
	if _, ok := readersBefore[refTo(get(svc.Properties, "TaskDefinition"))]; !ok {
		t.Fatalf("the Identity Server service's task definition does not read the database URI secret; readers: %v", sortedKeys(readersBefore))
	}
	for id, envs := range readersBefore {
		tBefore := before.Stack(t, "IdentityServer").Resources[id]
		tAfter, ok := after.Stack(t, "IdentityServer").Resources[id]
		if !ok {
			t.Errorf("task definition %s disappears with a new password version", id)
			continue
		}
		if jsonText(tBefore.Properties) == jsonText(tAfter.Properties) {
			t.Errorf("task definition %s reads the database URI but does not change with a new password version: its tasks would keep the old URI", id)
		}
		if len(readersAfter[id]) != len(envs) {
			t.Errorf("task definition %s: %d containers read the URI before, %d after", id, len(envs), len(readersAfter[id]))
		}
		// The container's environment takes the custom resource's
		// VersionId through an output of the Configuration stack.
		for i, env := range envs {
			found := false
			for _, v := range env {
				for _, part := range asList(get(v, "Fn::Join", "1")) {
					if stack, value, ok := stackOutput(before, part); ok && stack == before.Params.StackName("Configuration") &&
						jsonText(value) == jsonText(map[string]any{"Fn::GetAtt": []any{uriID, deployres.DatabaseURIVersionAttr}}) {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("task definition %s, container %d: no environment value takes %s.%s from the Configuration stack: %s",
					id, i, uriID, deployres.DatabaseURIVersionAttr, jsonText(env))
			}
		}
	}
	for _, stack := range []string{"Data", "Services"} {
		if before.Stack(t, stack).Raw != after.Stack(t, stack).Raw {
			t.Errorf("the %s stack changes with a new password version; only the Configuration and IdentityServer stacks should", stack)
		}
	}
	if !strings.Contains(after.Stack(t, "IdentityServer").Raw, after.Params.DatabasePasswordVersion) {
		t.Errorf("the IdentityServer template does not contain the new password version %q: its text would not change, and `cdk deploy` would skip it", after.Params.DatabasePasswordVersion)
	}
}
