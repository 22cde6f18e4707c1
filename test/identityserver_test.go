package test

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// credentialEnv matches the TTN_LW_* variables that hold credentials.
var credentialEnv = regexp.MustCompile(`PASSWORD|SECRET|_KEYS?(_|$)|DATABASE_URI|TOKEN$`)

// isTask is what the tests see of the Identity Server's service and task.
type isTask struct {
	tpl        Template
	service    Resource
	task       Resource
	containers map[string]map[string]any
}

func identityServerTask(t *testing.T, a *Assembly) isTask {
	t.Helper()
	tpl := a.Stack(t, "IdentityServer")
	_, svc := only(t, tpl, "AWS::ECS::Service")
	task, ok := tpl.Resources[refTo(get(svc.Properties, "TaskDefinition"))]
	if !ok || task.Type != "AWS::ECS::TaskDefinition" {
		t.Fatalf("the service's task definition is not in the stack")
	}
	out := isTask{tpl: tpl, service: svc, task: task, containers: map[string]map[string]any{}}
	defs, _ := get(task.Properties, "ContainerDefinitions").([]any)
	for _, d := range defs {
		m, _ := d.(map[string]any)
		name, _ := m["Name"].(string)
		out.containers[name] = m
	}
	return out
}

// namedValues turns an Environment or Secrets list into name -> value (or
// ValueFrom).
func namedValues(v any, field string) map[string]any {
	out := map[string]any{}
	for _, item := range asList(v) {
		name, _ := get(item, "Name").(string)
		out[name] = get(item, field)
	}
	return out
}

func intsOf(v any, path ...string) []int {
	var out []int
	for _, item := range asList(v) {
		if n, ok := get(item, path...).(float64); ok {
			out = append(out, int(n))
		}
	}
	sort.Ints(out)
	return out
}

func TestIdentityServerServiceOfEveryCombination(t *testing.T) {
	for _, c := range combos() {
		if !c.valid() {
			continue
		}
		t.Run(canonical(c.overrides()), func(t *testing.T) {
			a := synthOnce(t, c.overrides())
			is := identityServerTask(t, a)
			p := is.service.Properties

			if n, _ := get(p, "DesiredCount").(float64); n < 2 {
				t.Errorf("DesiredCount %v, want at least 2", get(p, "DesiredCount"))
			}
			if get(p, "DeploymentConfiguration", "DeploymentCircuitBreaker", "Enable") != true ||
				get(p, "DeploymentConfiguration", "DeploymentCircuitBreaker", "Rollback") != true {
				t.Errorf("no circuit breaker with rollback: %s", jsonText(get(p, "DeploymentConfiguration")))
			}
			if g, _ := get(p, "HealthCheckGracePeriodSeconds").(float64); g < 60 {
				t.Errorf("HealthCheckGracePeriodSeconds %v, want at least 60", get(p, "HealthCheckGracePeriodSeconds"))
			}
			if get(p, "LaunchType") != "FARGATE" || get(p, "NetworkConfiguration", "AwsvpcConfiguration", "AssignPublicIp") != "DISABLED" {
				t.Errorf("want Fargate tasks without public address: %s", jsonText(p))
			}
			subnets := jsonText(get(p, "NetworkConfiguration", "AwsvpcConfiguration", "Subnets"))
			if strings.Count(subnets, "privateSubnet") != 2 {
				t.Errorf("tasks not in the two private subnets: %s", subnets)
			}
			if sg := jsonText(get(p, "NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups")); !strings.Contains(sg, "Tasksis") {
				t.Errorf("tasks not in the Identity Server's security group: %s", sg)
			}

			// Service Connect: is.tts.local on 1884 and 1885, and on 1886
			// (discovery name is-interop) when interop is on, which the
			// proxy forwards its 8886 to in proxy TLS mode.
			var aliases []string
			for _, s := range asList(get(p, "ServiceConnectConfiguration", "Services")) {
				for _, al := range asList(get(s, "ClientAliases")) {
					aliases = append(aliases, fmt.Sprintf("%v=%v:%v", get(s, "DiscoveryName"), get(al, "DnsName"), get(al, "Port")))
				}
			}
			sort.Strings(aliases)
			wantAliases := "is-grpc=is.tts.local:1884 is-http=is.tts.local:1885"
			if c.interop {
				wantAliases += " is-interop=is.tts.local:1886"
			}
			if got := strings.Join(aliases, " "); got != wantAliases {
				t.Errorf("Service Connect aliases %s, want %s", got, wantAliases)
			}

			main, init := is.containers["tts"], is.containers["init"]
			if main == nil || init == nil {
				t.Fatalf("containers %v, want tts and init", sortedKeys(is.containers))
			}
			if got := jsonText([]any{main["EntryPoint"], main["Command"]}); got != `[["ttn-lw-stack"],["start","is"]]` {
				t.Errorf("main container runs %s, want ttn-lw-stack start is", got)
			}
			wantPorts := []int{1884, 1885}
			if c.interop {
				wantPorts = append(wantPorts, 1886)
			}
			if got := intsOf(main["PortMappings"], "ContainerPort"); fmt.Sprint(got) != fmt.Sprint(wantPorts) {
				t.Errorf("container ports %v, want %v", got, wantPorts)
			}
			if hc := jsonText(get(main, "HealthCheck", "Command")); !strings.Contains(hc, "http://localhost:1885/healthz") {
				t.Errorf("container health check %s, want /healthz on 1885", hc)
			}

			// Target groups: 8886 reaches the Identity Server only when the load
			// balancer terminates TLS; with the proxy, the proxy's target group
			// takes it.
			var wantTargets []int
			if c.interop && !c.proxyTLS {
				wantTargets = []int{1886}
			}
			lbs := get(p, "LoadBalancers")
			if got := intsOf(lbs, "ContainerPort"); fmt.Sprint(got) != fmt.Sprint(wantTargets) {
				t.Errorf("registered container ports %v, want %v", got, wantTargets)
			}
			for _, lb := range asList(lbs) {
				if tg := jsonText(get(lb, "TargetGroupArn")); !strings.Contains(tg, "TargetisTCP1886") {
					t.Errorf("registered with %s, want the Identity Server's 1886 target group", tg)
				}
			}

			checkCredentialsFromSecrets(t, "tts", main)
			checkCredentialsFromSecrets(t, "init", init)
			if digest, _ := namedValues(main["Environment"], "Value")["CONFIG_DIGEST"].(string); len(digest) < 16 {
				t.Errorf("CONFIG_DIGEST %q, want the configuration's digest", digest)
			}

			// The database bootstrap.
			script := jsonText(init["Command"])
			if init["Essential"] != false || !hasAll(script, "is-db migrate", "is-db create-admin-user --id admin", `--password \"$ADMIN_PASSWORD\"`,
				"is-db create-oauth-client --id console", `--secret \"$CONSOLE_SECRET\"`, "https://tts.example.com/console/oauth/callback") {
				t.Errorf("init container (essential %v) runs %s; want the migration, the admin and the Console client", init["Essential"], script)
			}
			initSecrets := namedValues(init["Secrets"], "ValueFrom")
			for _, name := range []string{"ADMIN_PASSWORD", "CONSOLE_SECRET", "TTN_LW_IS_DATABASE_URI"} {
				if initSecrets[name] == nil {
					t.Errorf("init container has no secret %s", name)
				}
			}
			if !strings.Contains(jsonText(initSecrets["ADMIN_PASSWORD"]), "adminpassword") {
				t.Errorf("ADMIN_PASSWORD from %s, want the Data stack's admin-password secret", jsonText(initSecrets["ADMIN_PASSWORD"]))
			}
			if deps := jsonText(main["DependsOn"]); deps != `[{"Condition":"SUCCESS","ContainerName":"init"}]` {
				t.Errorf("main container depends on %s, want init with SUCCESS", deps)
			}

			checkExecutionRole(t, is)
		})
	}
}

// checkCredentialsFromSecrets: every credential comes from Secrets Manager
// (ValueFrom), none is in the plain environment, and the plain environment
// holds only empty TTN_LW_* values (Parameter Store cannot hold them).
func checkCredentialsFromSecrets(t *testing.T, name string, container map[string]any) {
	t.Helper()
	checkCredentialsFrom(t, name, container, "TTN_LW_IS_DATABASE_URI", "TTN_LW_CLUSTER_KEYS", "TTN_LW_HTTP_COOKIE_HASH_KEY", "TTN_LW_HTTP_COOKIE_BLOCK_KEY",
		"TTN_LW_REDIS_PASSWORD", "TTN_LW_CACHE_REDIS_PASSWORD", "TTN_LW_EVENTS_REDIS_PASSWORD")
}

// checkCredentialsFrom is checkCredentialsFromSecrets for a container that
// must get the credentials named in want; every other secret variable that
// looks like a credential must come from Secrets Manager as well.
func checkCredentialsFrom(t *testing.T, name string, container map[string]any, want ...string) {
	t.Helper()
	env := namedValues(container["Environment"], "Value")
	secrets := namedValues(container["Secrets"], "ValueFrom")
	for k, v := range env {
		if credentialEnv.MatchString(k) {
			t.Errorf("%s: credential %s in the plain environment", name, k)
		}
		if strings.HasPrefix(k, "TTN_LW_") && v != "" {
			t.Errorf("%s: %s=%v in the plain environment; only empty values belong there", name, k, v)
		}
	}
	for k := range secrets {
		if credentialEnv.MatchString(k) && !contains(want, k) {
			want = append(want, k)
		}
	}
	for _, k := range want {
		from := jsonText(secrets[k])
		if secrets[k] == nil || strings.Contains(from, "arn:aws:ssm") || !strings.Contains(from, "tts-Data") {
			t.Errorf("%s: %s from %s; want a Secrets Manager secret of the Data stack", name, k, from)
		}
	}
	for k := range secrets {
		if _, dup := env[k]; dup {
			t.Errorf("%s: %s both in Environment and Secrets", name, k)
		}
	}
}

// checkExecutionRole: the execution role reads named secrets and parameters,
// never "*", and decrypts only through Secrets Manager.
func checkExecutionRole(t *testing.T, is isTask) {
	t.Helper()
	role := refTo(get(is.task.Properties, "ExecutionRoleArn"))
	found := false
	for id, r := range is.tpl.OfType("AWS::IAM::Policy") {
		if !strings.Contains(jsonText(get(r.Properties, "Roles")), role) {
			continue
		}
		found = true
		for _, s := range asList(get(r.Properties, "PolicyDocument", "Statement")) {
			actions := jsonText(get(s, "Action"))
			res := jsonText(get(s, "Resource"))
			if strings.Contains(res, `"*"`) || strings.Contains(res, `/*"`) {
				t.Errorf("%s: %s on %s; want named resources", id, actions, res)
			}
			if strings.Contains(actions, "kms:") && !strings.Contains(jsonText(get(s, "Condition")), "secretsmanager.eu-west-1.amazonaws.com") {
				t.Errorf("%s: %s without the kms:ViaService condition", id, actions)
			}
			if strings.Contains(actions, "secretsmanager:GetSecretValue") {
				if n := len(asList(get(s, "Resource"))); n != 7 {
					t.Errorf("%s: reads %d secrets, want the 7 of the Identity Server and its bootstrap: %s", id, n, res)
				}
			}
		}
	}
	if !found {
		t.Errorf("no policy of the execution role %s", role)
	}
}

func TestIdentityServerTaskRoleReachesOnlyTheBlobBucket(t *testing.T) {
	a := synthOnce(t, nil)
	is := identityServerTask(t, a)
	role := refTo(get(is.task.Properties, "TaskRoleArn"))
	var got []string
	for _, r := range is.tpl.OfType("AWS::IAM::Policy") {
		if !strings.Contains(jsonText(get(r.Properties, "Roles")), role) {
			continue
		}
		for _, s := range asList(get(r.Properties, "PolicyDocument", "Statement")) {
			res := jsonText(get(s, "Resource"))
			for _, act := range asList(get(s, "Action")) {
				got = append(got, act.(string))
				if strings.HasPrefix(act.(string), "s3:") && !strings.Contains(res, "Blobs") {
					t.Errorf("%s on %s; want the blob bucket only", act, res)
				}
			}
		}
	}
	sort.Strings(got)
	want := "kms:Decrypt kms:GenerateDataKey s3:DeleteObject s3:GetObject s3:PutObject"
	if strings.Join(got, " ") != want {
		t.Errorf("task role actions %v, want %s", got, want)
	}
}

func TestClusterHasInsightsAndServiceConnectNamespace(t *testing.T) {
	a := synthOnce(t, nil)
	tpl := a.Stack(t, "IdentityServer")
	_, cluster := only(t, tpl, "AWS::ECS::Cluster")
	if s := jsonText(get(cluster.Properties, "ClusterSettings")); !strings.Contains(s, `"containerInsights"`) ||
		!(strings.Contains(s, `"enhanced"`) || strings.Contains(s, `"enabled"`)) {
		t.Errorf("cluster settings %s, want Container Insights", s)
	}
	nsID, ns := only(t, tpl, "AWS::ServiceDiscovery::HttpNamespace")
	if get(ns.Properties, "Name") != "tts.local" {
		t.Errorf("namespace %v, want tts.local", get(ns.Properties, "Name"))
	}
	if refTo(get(cluster.Properties, "ServiceConnectDefaults", "Namespace")) != nsID {
		t.Errorf("the cluster's Service Connect default is not %s", nsID)
	}
	if n := len(tpl.OfType("AWS::CloudFormation::WaitConditionHandle")); n != 0 {
		t.Errorf("the IdentityServer stack still has %d placeholder(s)", n)
	}
}

func TestIdentityServerLogsAreRetainedForLogRetentionDays(t *testing.T) {
	a := synthOnce(t, nil)
	_, lg := only(t, a.Stack(t, "IdentityServer"), "AWS::Logs::LogGroup")
	if got, _ := get(lg.Properties, "RetentionInDays").(float64); int(got) != a.Params.LogRetentionDays {
		t.Errorf("RetentionInDays %v, want %d", get(lg.Properties, "RetentionInDays"), a.Params.LogRetentionDays)
	}
}

// A change of the configuration changes the task definition, so that tasks
// restart with it.
func TestConfigDigestFollowsTheConfiguration(t *testing.T) {
	digest := func(overrides map[string]string) string {
		is := identityServerTask(t, synthOnce(t, overrides))
		d, _ := namedValues(is.containers["tts"]["Environment"], "Value")["CONFIG_DIGEST"].(string)
		return d
	}
	off := digest(combo{interop: false}.overrides())
	on := digest(combo{interop: true}.overrides())
	if off == "" || off == on {
		t.Errorf("CONFIG_DIGEST %q without interop and %q with it; want two different digests", off, on)
	}
}

func TestIdentityServerScalesWithItsParameters(t *testing.T) {
	a := synthOnce(t, map[string]string{"IdentityServerTasks": "3", "IdentityServerCpu": "1024", "IdentityServerMemory": "4096"})
	is := identityServerTask(t, a)
	if got := jsonText([]any{get(is.service.Properties, "DesiredCount"), get(is.task.Properties, "Cpu"), get(is.task.Properties, "Memory")}); got != `[3,"1024","4096"]` {
		t.Errorf("desired count, CPU, memory %s, want [3,\"1024\",\"4096\"]", got)
	}
}
