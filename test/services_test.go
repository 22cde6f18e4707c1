package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// serviceComponents are the components of the Services stack.
var serviceComponents = []string{"gs", "ns", "as", "js", "console", "gcs", "dcs", "dr"}

// svcTask is what the tests see of one service of the Services stack.
type svcTask struct {
	id      string
	service Resource
	task    Resource
	main    map[string]any
}

// servicesByComponent finds the services of the Services stack by the
// component their main container starts; services without a "tts"
// container (the proxy) are not among them.
func servicesByComponent(t *testing.T, tpl Template) map[string]svcTask {
	t.Helper()
	out := map[string]svcTask{}
	for id, svc := range tpl.OfType("AWS::ECS::Service") {
		task, ok := tpl.Resources[refTo(get(svc.Properties, "TaskDefinition"))]
		if !ok {
			t.Errorf("%s: task definition not in the stack", id)
			continue
		}
		var main map[string]any
		for _, d := range asList(get(task.Properties, "ContainerDefinitions")) {
			if m, _ := d.(map[string]any); m["Name"] == "tts" {
				main = m
			}
		}
		if main == nil {
			continue // not a component of The Things Stack: the proxy
		}
		cmd, _ := main["Command"].([]any)
		if len(cmd) != 2 || cmd[0] != "start" || jsonText(main["EntryPoint"]) != `["ttn-lw-stack"]` {
			t.Errorf("%s runs %s %s, want ttn-lw-stack start <component>", id, jsonText(main["EntryPoint"]), jsonText(cmd))
			continue
		}
		c, _ := cmd[1].(string)
		if _, dup := out[c]; dup {
			t.Errorf("two services start %s", c)
		}
		out[c] = svcTask{id: id, service: svc, task: task, main: main}
	}
	return out
}

// wantServed is what each component serves: container ports, security
// group and the load balancer's target groups (server, protocol, port).
var wantServed = map[string]struct {
	ports   []int
	group   string
	targets []string
}{
	"gs":      {[]int{1700, 1881, 1882, 1884, 1885, 1887}, "Tasksgs", []string{"TargetgsTCP1881", "TargetgsTCP1882", "TargetgsTCP1887", "TargetgsUDP1700"}},
	"as":      {[]int{1883, 1884, 1885}, "Tasksas", []string{"TargetasTCP1883"}},
	"ns":      {[]int{1884, 1885}, "Tasksinternal", nil},
	"js":      {[]int{1884, 1885}, "Tasksinternal", nil},
	"console": {[]int{1884, 1885}, "Tasksinternal", nil},
	"gcs":     {[]int{1884, 1885}, "Tasksinternal", nil},
	"dcs":     {[]int{1884, 1885}, "Tasksinternal", nil},
	"dr":      {[]int{1884, 1885}, "Tasksinternal", nil},
}

func TestServicesOfEveryCombination(t *testing.T) {
	for _, c := range combos() {
		if !c.valid() {
			continue
		}
		t.Run(canonical(c.overrides()), func(t *testing.T) {
			a := synthOnce(t, c.overrides())
			tpl := a.Stack(t, "Services")
			svcs := servicesByComponent(t, tpl)
			if got := sortedKeys(svcs); len(got) != len(serviceComponents) {
				t.Errorf("services start %v, want one for each of %v", got, serviceComponents)
			}
			cookieFrom := map[string]string{} // cookie key variable -> where the first component gets it
			for _, comp := range serviceComponents {
				s, ok := svcs[comp]
				if !ok {
					t.Errorf("no service starts %s", comp)
					continue
				}
				p := s.service.Properties
				if n, _ := get(p, "DesiredCount").(float64); n != 2 {
					t.Errorf("%s: DesiredCount %v, want 2", comp, get(p, "DesiredCount"))
				}
				if get(p, "DeploymentConfiguration", "DeploymentCircuitBreaker", "Enable") != true ||
					get(p, "DeploymentConfiguration", "DeploymentCircuitBreaker", "Rollback") != true {
					t.Errorf("%s: no circuit breaker with rollback: %s", comp, jsonText(get(p, "DeploymentConfiguration")))
				}
				if cl := jsonText(get(p, "Cluster")); !hasAll(cl, "tts-IdentityServer", "Cluster") {
					t.Errorf("%s: cluster %s, want the IdentityServer stack's", comp, cl)
				}
				var aliases []string
				for _, sc := range asList(get(p, "ServiceConnectConfiguration", "Services")) {
					for _, al := range asList(get(sc, "ClientAliases")) {
						aliases = append(aliases, fmt.Sprintf("%v:%v", get(al, "DnsName"), get(al, "Port")))
					}
				}
				sort.Strings(aliases)
				if want := fmt.Sprintf("%[1]s.tts.local:1884 %[1]s.tts.local:1885", comp); strings.Join(aliases, " ") != want {
					t.Errorf("%s: Service Connect aliases %v, want %s", comp, aliases, want)
				}
				if ns := jsonText(get(p, "ServiceConnectConfiguration", "Namespace")); !strings.Contains(ns, "tts-IdentityServer") {
					t.Errorf("%s: Service Connect namespace %s, want the IdentityServer stack's", comp, ns)
				}

				want := wantServed[comp]
				if got := intsOf(s.main["PortMappings"], "ContainerPort"); fmt.Sprint(got) != fmt.Sprint(want.ports) {
					t.Errorf("%s: container ports %v, want %v", comp, got, want.ports)
				}
				if sg := jsonText(get(p, "NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups")); !strings.Contains(sg, want.group) || strings.Count(sg, "Tasks") != 1 {
					t.Errorf("%s: security groups %s, want only %s", comp, sg, want.group)
				}
				var targets []string
				for _, lb := range asList(get(p, "LoadBalancers")) {
					tg := jsonText(get(lb, "TargetGroupArn"))
					matched := ""
					for _, w := range wantServed[comp].targets {
						if strings.Contains(tg, w) && strings.HasSuffix(w, fmt.Sprint(get(lb, "ContainerPort"))) {
							matched = w
						}
					}
					if matched == "" {
						t.Errorf("%s: registers container port %v with %s, not one of its own target groups", comp, get(lb, "ContainerPort"), tg)
					}
					targets = append(targets, matched)
				}
				sort.Strings(targets)
				if fmt.Sprint(targets) != fmt.Sprint(want.targets) {
					t.Errorf("%s: target groups %v, want exactly %v", comp, targets, want.targets)
				}

				// Credentials only from Secrets Manager; every backend gets the
				// cluster keys and the Redis passwords.
				// Every component serves HTTP and gets the shared cookie keys.
				wantSecrets := []string{"TTN_LW_CLUSTER_KEYS", "TTN_LW_HTTP_COOKIE_HASH_KEY", "TTN_LW_HTTP_COOKIE_BLOCK_KEY", "TTN_LW_HTTP_METRICS_PASSWORD"}
				if comp != "console" {
					wantSecrets = append(wantSecrets, "TTN_LW_REDIS_PASSWORD", "TTN_LW_CACHE_REDIS_PASSWORD", "TTN_LW_EVENTS_REDIS_PASSWORD")
				} else {
					wantSecrets = append(wantSecrets, "TTN_LW_CONSOLE_OAUTH_CLIENT_SECRET")
				}
				checkCredentialsFrom(t, comp, s.main, wantSecrets...)
				secrets := namedValues(s.main["Secrets"], "ValueFrom")
				for _, k := range []string{"TTN_LW_HTTP_COOKIE_HASH_KEY", "TTN_LW_HTTP_COOKIE_BLOCK_KEY"} {
					from := jsonText(secrets[k])
					if first, ok := cookieFrom[k]; ok && first != from {
						t.Errorf("%s: %s from %s, another component from %s; every task must share the key", comp, k, from, first)
					}
					cookieFrom[k] = from
				}
				if digest, _ := namedValues(s.main["Environment"], "Value")["CONFIG_DIGEST"].(string); len(digest) < 16 {
					t.Errorf("%s: CONFIG_DIGEST %q, want the configuration's digest", comp, digest)
				}
			}
		})
	}
}

// The traffic carriers scale on CPU between their task count and four times
// it, and scale in slowly; the others do not scale.
func TestGatewayNetworkAndApplicationServersScaleOnCPU(t *testing.T) {
	a := synthOnce(t, map[string]string{"GatewayServerTasks": "3", "ServiceCpu": "1024", "ServiceMemory": "2048"})
	tpl := a.Stack(t, "Services")
	svcs := servicesByComponent(t, tpl)
	scaled := map[string]string{} // service logical id -> scalable target id
	for id, st := range tpl.OfType("AWS::ApplicationAutoScaling::ScalableTarget") {
		res := jsonText(get(st.Properties, "ResourceId"))
		for comp, s := range svcs {
			if strings.Contains(res, s.id) {
				scaled[comp] = id
				min, max := get(st.Properties, "MinCapacity"), get(st.Properties, "MaxCapacity")
				tasks := get(s.service.Properties, "DesiredCount").(float64)
				if min != tasks || max != 4*tasks {
					t.Errorf("%s: scales between %v and %v tasks, want %v and %v", comp, min, max, tasks, 4*tasks)
				}
			}
		}
	}
	if got := sortedKeys(scaled); strings.Join(got, " ") != "as gs ns" {
		t.Errorf("scaling services %v, want as, gs and ns", got)
	}
	if n := get(svcs["gs"].service.Properties, "DesiredCount"); n != 3.0 {
		t.Errorf("gs: DesiredCount %v, want GatewayServerTasks 3", n)
	}
	policies := 0
	for id, pol := range tpl.OfType("AWS::ApplicationAutoScaling::ScalingPolicy") {
		cfg := get(pol.Properties, "TargetTrackingScalingPolicyConfiguration")
		if get(cfg, "PredefinedMetricSpecification", "PredefinedMetricType") != "ECSServiceAverageCPUUtilization" {
			continue
		}
		policies++
		if in, _ := get(cfg, "ScaleInCooldown").(float64); in < 300 || get(cfg, "ScaleOutCooldown") == nil {
			t.Errorf("%s: cooldowns %s, want scale-in of at least 300 s and a scale-out cooldown", id, jsonText(cfg))
		}
	}
	if policies != 4 {
		t.Errorf("%d CPU target tracking policies, want 4 (gs, ns, as and the proxy)", policies)
	}
	for comp, s := range svcs {
		if got := jsonText([]any{get(s.task.Properties, "Cpu"), get(s.task.Properties, "Memory")}); got != `["1024","2048"]` {
			t.Errorf("%s: CPU and memory %s, want ServiceCpu and ServiceMemory", comp, got)
		}
	}
}

// taskRoleStatements returns the statements of the policies of a task's
// role.
func taskRoleStatements(tpl Template, task Resource) []any {
	role := refTo(get(task.Properties, "TaskRoleArn"))
	var out []any
	for _, r := range tpl.OfType("AWS::IAM::Policy") {
		if strings.Contains(jsonText(get(r.Properties, "Roles")), `"`+role+`"`) {
			out = append(out, withoutEcsExec(asList(get(r.Properties, "PolicyDocument", "Statement")))...)
		}
	}
	return out
}

// withoutEcsExec drops the statements of ECS Exec sessions (Sid EcsExec...),
// which TestOpsAccessOnEveryServiceOfTheThingsStack checks: the tests of a
// component's own permissions look at the rest.
func withoutEcsExec(statements []any) []any {
	var out []any
	for _, s := range statements {
		if sid, _ := get(s, "Sid").(string); !strings.HasPrefix(sid, "EcsExec") {
			out = append(out, s)
		}
	}
	return out
}

// Every component may read its rate limiting profiles; the Network and
// Application Server the whole interop repository, and nothing else.
func TestNetworkAndApplicationServerReadOnlyTheInteropRepository(t *testing.T) {
	a := synthOnce(t, nil)
	tpl := a.Stack(t, "Services")
	for comp, s := range servicesByComponent(t, tpl) {
		// The metrics collector's log writes are checked by
		// TestCollectorWritesOnlyItsLogGroup.
		statements := withoutCollectorLogs(taskRoleStatements(tpl, s.task))
		got := map[string]string{}
		for _, st := range statements {
			if get(st, "Effect") != "Allow" {
				continue
			}
			for _, act := range asList(get(st, "Action")) {
				got[act.(string)] = jsonText([]any{get(st, "Resource"), get(st, "Condition")})
			}
			if act := get(st, "Action"); act != nil && asList(act) == nil {
				got[act.(string)] = jsonText([]any{get(st, "Resource"), get(st, "Condition")})
			}
		}
		if comp != "ns" && comp != "as" {
			// The others read one object: their rate limiting profiles.
			if keys := sortedKeys(got); strings.Join(keys, " ") != "kms:Decrypt s3:GetObject" || len(statements) != 2 {
				t.Errorf("%s: task role may %s; want only s3:GetObject of the rate limiting profiles and kms:Decrypt through S3", comp, jsonText(statements))
			}
			if g := got["s3:GetObject"]; !hasAll(g, "InteropRepository", `/interop-repository/rate-limiting.yml`) || strings.Contains(g, "*") {
				t.Errorf("%s: s3:GetObject on %s, want interop-repository/rate-limiting.yml of the interop bucket alone", comp, g)
			}
			if k := got["kms:Decrypt"]; !hasAll(k, "DataKey", "s3.eu-west-1.amazonaws.com") {
				t.Errorf("%s: kms:Decrypt on %s, want the data key through S3", comp, k)
			}
			continue
		}
		if keys := sortedKeys(got); strings.Join(keys, " ") != "kms:Decrypt s3:GetObject s3:ListBucket" {
			t.Errorf("%s: task role actions %v, want kms:Decrypt, s3:GetObject and s3:ListBucket only", comp, keys)
		}
		if g := got["s3:GetObject"]; !hasAll(g, "InteropRepository", `/interop-repository/*`) || strings.Count(g, "*") != 1 {
			t.Errorf("%s: s3:GetObject on %s, want the objects under interop-repository/ of the interop bucket", comp, g)
		}
		if l := got["s3:ListBucket"]; !hasAll(l, "InteropRepository", `"s3:prefix":["interop-repository/*"]`) {
			t.Errorf("%s: s3:ListBucket on %s, want the interop bucket with the s3:prefix interop-repository/*", comp, l)
		}
		if k := got["kms:Decrypt"]; !hasAll(k, "DataKey", "s3.eu-west-1.amazonaws.com") {
			t.Errorf("%s: kms:Decrypt on %s, want the data key through S3", comp, k)
		}
	}
}

// NS and AS read the interop repository at start: its change restarts them,
// and only them.
func TestInteropRepositoryChangeRestartsOnlyNetworkAndApplicationServer(t *testing.T) {
	digests := func(overrides map[string]string) map[string]string {
		out := map[string]string{}
		for comp, s := range servicesByComponent(t, synthOnce(t, overrides).Stack(t, "Services")) {
			out[comp], _ = namedValues(s.main["Environment"], "Value")["CONFIG_DIGEST"].(string)
		}
		return out
	}
	with, without := digests(nil), digests(map[string]string{"InteropRepository": ""})
	for _, comp := range serviceComponents {
		changed := with[comp] != without[comp]
		if want := comp == "ns" || comp == "as"; changed != want || with[comp] == "" {
			t.Errorf("%s: CONFIG_DIGEST %q with the example repository and %q without; want a change: %v", comp, with[comp], without[comp], want)
		}
	}
}

func TestServicesStackDependsOnIdentityServer(t *testing.T) {
	a := synthOnce(t, nil)
	raw, err := os.ReadFile(filepath.Join(a.Dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Artifacts map[string]struct {
			Dependencies []string `json:"dependencies"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if deps := m.Artifacts["tts-Services"].Dependencies; !contains(deps, "tts-IdentityServer") {
		t.Errorf("tts-Services depends on %v, want tts-IdentityServer among them", deps)
	}
}
