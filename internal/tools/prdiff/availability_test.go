package prdiff

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// window is what the tests assert of an issue: rule, port, and the stacks
// of its first and last step.
func window(i AvailabilityIssue) string {
	stack := func(s *Step) string {
		if s == nil {
			return "end"
		}
		if s.Cleanup {
			return s.Stack + " cleanup"
		}
		return s.Stack
	}
	return fmt.Sprintf("%s %d %s -> %s", i.Rule, i.Port, stack(i.From), stack(i.To))
}

func requireWindow(t *testing.T, issues []AvailabilityIssue, want string, subject string) {
	t.Helper()
	for _, i := range issues {
		if window(i) == want && strings.Contains(i.Subject, subject) {
			return
		}
	}
	t.Errorf("no issue %q about %q; got:\n%s", want, subject, strings.Join(describe(issues), "\n"))
}

func describe(issues []AvailabilityIssue) []string {
	var out []string
	for _, i := range issues {
		out = append(out, window(i)+": "+i.String())
	}
	return out
}

// The templates of today's main: flipping SupportProxyTLS moves listeners
// 443 and 8886 to target groups that no task registers in until the
// Services (or IdentityServer) stack updates, and deletes target groups
// that running services still use.
func TestAvailabilityMainProxyTLSFlips(t *testing.T) {
	example, tlsOn := mainAssembly(t, "example"), mainAssembly(t, "proxytls-on")

	on := CheckAvailability(example, tlsOn).Failures()
	requireWindow(t, on, "listener 443 tts-LoadBalancer -> tts-Services", "listener 443")
	requireWindow(t, on, "listener 8886 tts-LoadBalancer -> tts-Services", "listener 8886")
	requireWindow(t, on, "reference 0 tts-LoadBalancer cleanup -> tts-IdentityServer", "tts-IdentityServer/Service9571FDD8 -> tts-LoadBalancer/PublicTargetis")
	requireWindow(t, on, "reference 0 tts-LoadBalancer cleanup -> tts-Services", "tts-Services/ServiceproxyService0FD00BA4 -> tts-LoadBalancer/PublicTargetproxy")

	off := CheckAvailability(tlsOn, example).Failures()
	requireWindow(t, off, "listener 443 tts-LoadBalancer -> tts-Services", "listener 443")
	requireWindow(t, off, "listener 8886 tts-LoadBalancer -> tts-IdentityServer", "listener 8886")
	requireWindow(t, off, "reference 0 tts-LoadBalancer cleanup -> tts-Services", "tts-Services/ServiceproxyService0FD00BA4 -> tts-LoadBalancer/PublicTargetproxy")
}

// Turning InteropEnabled off deletes the Backend Interfaces target group in
// the LoadBalancer stack's cleanup while the Identity Server service, updated
// only later, still registers in it.
func TestAvailabilityMainInteropOff(t *testing.T) {
	r := CheckAvailability(mainAssembly(t, "example"), mainAssembly(t, "interop-off"))
	requireWindow(t, r.Failures(), "reference 0 tts-LoadBalancer cleanup -> tts-IdentityServer", "tts-IdentityServer/Service9571FDD8 -> tts-LoadBalancer/PublicTargetis")
	requireWindow(t, r.Notes(), "listener removed 8886 tts-LoadBalancer cleanup -> tts-LoadBalancer cleanup", "listener 8886")
	for _, f := range r.Failures() {
		if f.Rule == RuleListener {
			t.Errorf("a listener kept by the deploy fails: %s", f)
		}
	}
}

// Turning InteropEnabled on creates the listener and its target group
// before the Identity Server registers in it: safe.
func TestAvailabilityMainInteropOnIsSafe(t *testing.T) {
	r := CheckAvailability(mainAssembly(t, "interop-off"), mainAssembly(t, "example"))
	if f := r.Failures(); len(f) > 0 {
		t.Errorf("unexpected failures:\n%s", strings.Join(describe(f), "\n"))
	}
	requireWindow(t, r.Notes(), "listener created 8886 tts-LoadBalancer -> tts-LoadBalancer", "listener 8886")
}

func TestAvailabilityNoChange(t *testing.T) {
	a := mainAssembly(t, "example")
	if r := CheckAvailability(a, a); len(r.Issues) > 0 {
		t.Errorf("issues without a change:\n%s", strings.Join(describe(r.Issues), "\n"))
	}
}

// --- hand-written templates, one rule at a time ---

type stackDef struct {
	name      string
	resources map[string]res
	outputs   map[string]any
}

func assembly(t *testing.T, stacks ...stackDef) *Assembly {
	t.Helper()
	dir := t.TempDir()
	var order []string
	templates := map[string]map[string]any{}
	for _, s := range stacks {
		order = append(order, s.name)
		tpl := map[string]any{"Resources": s.resources}
		if len(s.outputs) > 0 {
			tpl["Outputs"] = s.outputs
		}
		templates[s.name] = tpl
	}
	writeAssembly(t, filepath.Join(dir, "asm"), order, templates)
	a, err := ReadAssembly(filepath.Join(dir, "asm"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

func stackOutput(stack, output string) map[string]any {
	return map[string]any{"Fn::GetStackOutput": map[string]any{"StackName": stack, "OutputName": output, "Region": "eu-west-1"}}
}

func outputs(ids ...string) map[string]any {
	out := map[string]any{}
	for _, id := range ids {
		out["Out"+id] = map[string]any{"Value": ref(id)}
	}
	return out
}

// network is a stack with a load balancer whose security group admits the
// internet on 443 only.
func network() stackDef {
	return stackDef{name: "net", resources: map[string]res{
		"Sg":  {"Type": "AWS::EC2::SecurityGroup", "Properties": map[string]any{"GroupDescription": "lb"}},
		"In":  {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": map[string]any{"GroupId": map[string]any{"Fn::GetAtt": []any{"Sg", "GroupId"}}, "CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}},
		"Nlb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": map[string]any{"Type": "network", "SecurityGroups": []any{map[string]any{"Fn::GetAtt": []any{"Sg", "GroupId"}}}}},
	}, outputs: outputs("Nlb")}
}

func targetGroup(port int) res {
	return res{"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": map[string]any{"Port": port, "Protocol": "TCP", "TargetType": "ip"}}
}

func nlbListener(port int, protocol string, tg any) res {
	return res{"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": map[string]any{
		"LoadBalancerArn": stackOutput("net", "OutNlb"), "Port": port, "Protocol": protocol,
		"DefaultActions": []any{map[string]any{"Type": "forward", "TargetGroupArn": tg}},
	}}
}

func service(count int, tgs ...any) res {
	var lbs []any
	for _, tg := range tgs {
		lbs = append(lbs, map[string]any{"ContainerName": "app", "ContainerPort": 8080, "TargetGroupArn": tg})
	}
	return res{"Type": "AWS::ECS::Service", "Properties": map[string]any{"DesiredCount": count, "LoadBalancers": lbs}}
}

// before is the deploy every case starts from: target group A in stack tg,
// the service in stack svc, listener 443 in stack lb.
func before(t *testing.T) *Assembly {
	return assembly(t, network(),
		stackDef{name: "tg", resources: map[string]res{"A": targetGroup(8080)}, outputs: outputs("A")},
		stackDef{name: "svc", resources: map[string]res{"Service": service(2, stackOutput("tg", "OutA"))}},
		stackDef{name: "lb", resources: map[string]res{"L443": nlbListener(443, "TLS", stackOutput("tg", "OutA"))}},
	)
}

func TestAvailabilityTaskCountChangeIsSafe(t *testing.T) {
	after := assembly(t, network(),
		stackDef{name: "tg", resources: map[string]res{"A": targetGroup(8080)}, outputs: outputs("A")},
		stackDef{name: "svc", resources: map[string]res{"Service": service(3, stackOutput("tg", "OutA"))}},
		stackDef{name: "lb", resources: map[string]res{"L443": nlbListener(443, "TLS", stackOutput("tg", "OutA"))}},
	)
	if r := CheckAvailability(before(t), after); len(r.Issues) > 0 {
		t.Errorf("issues:\n%s", strings.Join(describe(r.Issues), "\n"))
	}
}

// The safe way to move a listener to another target group: create the
// group with a listener nobody can reach (so that ECS accepts it), let the
// service register in both, then switch the public listener.
func TestAvailabilitySwitchAfterTheServiceIsSafe(t *testing.T) {
	after := assembly(t, network(),
		stackDef{name: "tg", resources: map[string]res{"A": targetGroup(8080), "B": targetGroup(8443), "Private": nlbListener(9443, "TCP", ref("B"))}, outputs: outputs("A", "B")},
		stackDef{name: "svc", resources: map[string]res{"Service": service(2, stackOutput("tg", "OutA"), stackOutput("tg", "OutB"))}},
		stackDef{name: "lb", resources: map[string]res{"L443": nlbListener(443, "TLS", stackOutput("tg", "OutB"))}},
	)
	if r := CheckAvailability(before(t), after); len(r.Failures()) > 0 {
		t.Errorf("failures:\n%s", strings.Join(describe(r.Failures()), "\n"))
	}
}

// Switching the listener before the service registers in the new group
// leaves the port without targets, and deleting the old group leaves the
// service (and its rollback) without it.
func TestAvailabilitySwitchBeforeTheServiceFails(t *testing.T) {
	old := assembly(t, network(),
		stackDef{name: "lb", resources: map[string]res{"A": targetGroup(8080), "L443": nlbListener(443, "TLS", ref("A"))}, outputs: outputs("A")},
		stackDef{name: "svc", resources: map[string]res{"Service": service(2, stackOutput("lb", "OutA"))}},
	)
	new := assembly(t, network(),
		stackDef{name: "lb", resources: map[string]res{"B": targetGroup(8443), "L443": nlbListener(443, "TLS", ref("B"))}, outputs: outputs("B")},
		stackDef{name: "svc", resources: map[string]res{"Service": service(2, stackOutput("lb", "OutB"))}},
	)
	f := CheckAvailability(old, new).Failures()
	requireWindow(t, f, "listener 443 lb -> svc", "listener 443")
	requireWindow(t, f, "reference 0 lb cleanup -> svc", "svc/Service -> lb/A")
	// ECS accepts B: the listener uses it when the service updates.
	for _, i := range f {
		if i.Rule == RuleUnusedTargetGroup {
			t.Errorf("unexpected: %s", i)
		}
	}
}

// A listener and a service switched in one stack with no dependency between
// them may run in either order: the listener first leaves the port without
// targets, the service first registers in a group no listener uses.
func TestAvailabilityUnorderedPairInOneStackFails(t *testing.T) {
	old := assembly(t, network(), stackDef{name: "app", resources: map[string]res{
		"A": targetGroup(8080), "L443": nlbListener(443, "TLS", ref("A")), "Service": service(2, ref("A")),
	}})
	new := assembly(t, network(), stackDef{name: "app", resources: map[string]res{
		"B": targetGroup(8443), "L443": nlbListener(443, "TLS", ref("B")), "Service": service(2, ref("B")),
	}})
	f := CheckAvailability(old, new).Failures()
	requireWindow(t, f, "listener 443 app -> app", "listener 443")
	requireWindow(t, f, "target group without listener 0 app -> app", "app/Service -> app/B")
}

func TestAvailabilityProtocolChangeWithTheSameTargetsFails(t *testing.T) {
	after := assembly(t, network(),
		stackDef{name: "tg", resources: map[string]res{"A": targetGroup(8080)}, outputs: outputs("A")},
		stackDef{name: "svc", resources: map[string]res{"Service": service(2, stackOutput("tg", "OutA"))}},
		stackDef{name: "lb", resources: map[string]res{"L443": nlbListener(443, "TCP", stackOutput("tg", "OutA"))}},
	)
	f := CheckAvailability(before(t), after).Failures()
	requireWindow(t, f, "listener 443 lb -> end", "listener 443")
}

func TestAvailabilityNoTasksFails(t *testing.T) {
	after := assembly(t, network(),
		stackDef{name: "tg", resources: map[string]res{"A": targetGroup(8080)}, outputs: outputs("A")},
		stackDef{name: "svc", resources: map[string]res{"Service": service(0, stackOutput("tg", "OutA"))}},
		stackDef{name: "lb", resources: map[string]res{"L443": nlbListener(443, "TLS", stackOutput("tg", "OutA"))}},
	)
	requireWindow(t, CheckAvailability(before(t), after).Failures(), "listener 443 svc -> end", "listener 443")
}

// A listener that moves to a later stack is deleted in the cleanup of the
// first and created by the second: the port has no listener in between.
func TestAvailabilityListenerMovedToALaterStackFails(t *testing.T) {
	after := assembly(t, network(),
		stackDef{name: "tg", resources: map[string]res{"A": targetGroup(8080)}, outputs: outputs("A")},
		stackDef{name: "svc", resources: map[string]res{"Service": service(2, stackOutput("tg", "OutA"))}},
		stackDef{name: "lb", resources: map[string]res{}},
		stackDef{name: "lb2", resources: map[string]res{"Moved": nlbListener(443, "TLS", stackOutput("tg", "OutA"))}},
	)
	requireWindow(t, CheckAvailability(before(t), after).Failures(), "listener 443 lb cleanup -> lb2", "listener 443")
}

// Moving it to an earlier stack creates a second listener on the port
// while the first one still exists: CloudFormation fails.
func TestAvailabilityListenerMovedToAnEarlierStackFails(t *testing.T) {
	after := assembly(t, network(),
		stackDef{name: "tg", resources: map[string]res{"A": targetGroup(8080), "Moved": nlbListener(443, "TLS", ref("A"))}, outputs: outputs("A")},
		stackDef{name: "svc", resources: map[string]res{"Service": service(2, stackOutput("tg", "OutA"))}},
		stackDef{name: "lb", resources: map[string]res{}},
	)
	f := CheckAvailability(before(t), after).Failures()
	requireWindow(t, f, "listener 443 tg -> lb cleanup", "listener 443")
	if !strings.Contains(f[0].Reason, "two listeners") {
		t.Errorf("reason: %s", f[0].Reason)
	}
}

// A listener that nobody can reach serves no traffic: it may point at a
// group without targets.
func TestAvailabilityPrivateListenerIsNotChecked(t *testing.T) {
	stacks := func(tg string) *Assembly {
		return assembly(t, network(), stackDef{name: "app", resources: map[string]res{
			tg: targetGroup(8080), "Private": nlbListener(9443, "TCP", ref(tg)),
		}})
	}
	if r := CheckAvailability(stacks("A"), stacks("B")); len(r.Issues) > 0 {
		t.Errorf("issues:\n%s", strings.Join(describe(r.Issues), "\n"))
	}
}

func TestAvailabilityRemovedListenerIsANote(t *testing.T) {
	after := assembly(t, network(),
		stackDef{name: "tg", resources: map[string]res{"A": targetGroup(8080)}, outputs: outputs("A")},
		stackDef{name: "svc", resources: map[string]res{"Service": service(2, stackOutput("tg", "OutA"))}},
		stackDef{name: "lb", resources: map[string]res{}},
	)
	r := CheckAvailability(before(t), after)
	if len(r.Failures()) > 0 {
		t.Errorf("failures:\n%s", strings.Join(describe(r.Failures()), "\n"))
	}
	requireWindow(t, r.Notes(), "listener removed 443 lb cleanup -> lb cleanup", "listener 443")
}

// A stack's new template may not name an output that only a later stack's
// update creates.
func TestAvailabilityReferenceToALaterStackFails(t *testing.T) {
	old := assembly(t, stackDef{name: "a", resources: map[string]res{"Topic": {"Type": "AWS::SNS::Topic"}}},
		stackDef{name: "b", resources: map[string]res{"Queue": {"Type": "AWS::SQS::Queue"}}})
	new := assembly(t, stackDef{name: "a", resources: map[string]res{"Topic": {"Type": "AWS::SNS::Topic", "Properties": map[string]any{"DisplayName": stackOutput("b", "OutNew")}}}},
		stackDef{name: "b", resources: map[string]res{"Queue": {"Type": "AWS::SQS::Queue"}, "New": {"Type": "AWS::SQS::Queue"}}, outputs: outputs("New")})
	requireWindow(t, CheckAvailability(old, new).Failures(), "reference 0 a -> end", "a/Topic -> b/OutNew")
}

// Removing an output that a later stack's old template names breaks that
// stack's rollback until it is updated.
func TestAvailabilityRemovedOutputBreaksTheRollback(t *testing.T) {
	old := assembly(t, stackDef{name: "a", resources: map[string]res{"Topic": {"Type": "AWS::SNS::Topic"}}, outputs: outputs("Topic")},
		stackDef{name: "b", resources: map[string]res{"Queue": {"Type": "AWS::SQS::Queue", "Properties": map[string]any{"QueueName": stackOutput("a", "OutTopic")}}}})
	new := assembly(t, stackDef{name: "a", resources: map[string]res{"Topic": {"Type": "AWS::SNS::Topic"}}},
		stackDef{name: "b", resources: map[string]res{"Queue": {"Type": "AWS::SQS::Queue"}}})
	requireWindow(t, CheckAvailability(old, new).Failures(), "reference 0 a -> b", "b/Queue -> a/OutTopic")
}

// A target group whose port changes is replaced: the old one is deleted in
// its stack's cleanup. The stacks of the listener and the service name it
// through an output whose name does not change: their templates are
// unchanged, the CDK CLI skips them, and they keep the deleted group for
// good.
func TestAvailabilityReplacedTargetGroupFails(t *testing.T) {
	after := assembly(t, network(),
		stackDef{name: "tg", resources: map[string]res{"A": targetGroup(8081)}, outputs: outputs("A")},
		stackDef{name: "svc", resources: map[string]res{"Service": service(2, stackOutput("tg", "OutA"))}},
		stackDef{name: "lb", resources: map[string]res{"L443": nlbListener(443, "TLS", stackOutput("tg", "OutA"))}},
	)
	f := CheckAvailability(before(t), after).Failures()
	requireWindow(t, f, "listener 443 tg cleanup -> end", "listener 443")
	requireWindow(t, f, "reference 0 tg cleanup -> end", "svc/Service -> tg/A")
	requireWindow(t, f, "reference 0 tg cleanup -> end", "lb/L443 -> tg/A")
}

// A port that has no targets before the deploy is reported as such, not
// blamed on a step.
func TestAvailabilityFailureBeforeTheDeploy(t *testing.T) {
	stacks := func(count int) *Assembly {
		return assembly(t, network(),
			stackDef{name: "tg", resources: map[string]res{"A": targetGroup(8080)}, outputs: outputs("A")},
			stackDef{name: "svc", resources: map[string]res{"Service": service(count, stackOutput("tg", "OutA"))}},
			stackDef{name: "lb", resources: map[string]res{"L443": nlbListener(443, "TLS", stackOutput("tg", "OutA"))}},
		)
	}
	f := CheckAvailability(stacks(0), stacks(0)).Failures()
	if len(f) != 1 || f[0].From == nil || f[0].From.Stack != "" || f[0].To != nil {
		t.Errorf("want one window from before the deploy; got:\n%s", strings.Join(describe(f), "\n"))
	}
	if f := CheckAvailability(stacks(0), stacks(2)).Failures(); len(f) != 1 || window(f[0]) != "listener 443  -> svc" {
		t.Errorf("want one window from before the deploy to the service's update; got:\n%s", strings.Join(describe(f), "\n"))
	}
}

// Stacks deploy after the stacks they depend on, whatever the manifest's
// order.
func TestDeployOrderFollowsDependencies(t *testing.T) {
	dir := t.TempDir()
	manifest := `{"version": "54.0.0", "artifacts": {
		"b": {"type": "aws:cloudformation:stack", "dependencies": ["a", "b.assets"], "properties": {"templateFile": "b.template.json"}},
		"b.assets": {"type": "cdk:asset-manifest"},
		"c": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "c.template.json"}},
		"a": {"type": "aws:cloudformation:stack", "dependencies": ["c"], "properties": {"templateFile": "a.template.json"}}}}`
	writeFile(t, filepath.Join(dir, "manifest.json"), []byte(manifest))
	for _, s := range []string{"a", "b", "c"} {
		writeFile(t, filepath.Join(dir, s+".template.json"), []byte(`{"Resources": {}}`))
	}
	a, err := ReadAssembly(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.DeployOrder(), " "); got != "c a b" {
		t.Errorf("deploy order %q, want \"c a b\"", got)
	}
}
