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

			main := is.containers["tts"]
			if main == nil || len(is.containers) != 1 {
				t.Fatalf("containers %v, want tts only (the database bootstrap is a task of its own)", sortedKeys(is.containers))
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

			// Target groups: the Identity Server registers in its 1886 target
			// group whenever it serves Backend Interfaces, in both TLS modes
			// (8886 forwards there when the load balancer terminates TLS, and
			// must find it registered when the mode switches back).
			var wantTargets []int
			if c.interop {
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
			if digest, _ := namedValues(main["Environment"], "Value")["CONFIG_DIGEST"].(string); len(digest) < 16 {
				t.Errorf("CONFIG_DIGEST %q, want the configuration's digest", digest)
			}

			// The SMTP credentials are the sixth (EmailSender is set in the
			// example), the metrics password the seventh.
			checkExecutionRole(t, is.tpl, is.task, 7)
			checkDatabaseBootstrap(t, is)
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

// checkExecutionRole: the execution role of task reads named secrets (want
// of them) and parameters, never "*", and decrypts only through Secrets
// Manager.
func checkExecutionRole(t *testing.T, tpl Template, task Resource, want int) {
	t.Helper()
	role := refTo(get(task.Properties, "ExecutionRoleArn"))
	found := false
	for id, r := range tpl.OfType("AWS::IAM::Policy") {
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
				if n := len(asList(get(s, "Resource"))); n != want {
					t.Errorf("%s: reads %d secrets, want %d: %s", id, n, want, res)
				}
			}
		}
	}
	if !found {
		t.Errorf("no policy of the execution role %s", role)
	}
}

// checkDatabaseBootstrap: the bootstrap task runs with the image and exactly
// the configuration of the Identity Server's container plus the admin
// password and the Console secret; a custom resource runs it with the
// current revision's ARN, the service waits for it, and the function that
// runs it may run only that family and pass only its roles.
func checkDatabaseBootstrap(t *testing.T, is isTask) {
	t.Helper()
	runID, run := only(t, is.tpl, "Custom::TaskRun")
	taskID := refTo(get(run.Properties, "TaskDefinition"))
	task, ok := is.tpl.Resources[taskID]
	if !ok || task.Type != "AWS::ECS::TaskDefinition" {
		t.Fatalf("the bootstrap run names %s, not a task definition of the stack", jsonText(get(run.Properties, "TaskDefinition")))
	}
	defs := asList(get(task.Properties, "ContainerDefinitions"))
	if len(defs) != 1 {
		t.Fatalf("bootstrap task has %d containers, want 1", len(defs))
	}
	job, _ := defs[0].(map[string]any)
	main := is.containers["tts"]
	if job["Name"] != get(run.Properties, "Container") || job["Essential"] != true || jsonText(job["Image"]) != jsonText(main["Image"]) {
		t.Errorf("bootstrap container %v (essential %v, image %s); want the run's container %v with the Identity Server's image %s",
			job["Name"], job["Essential"], jsonText(job["Image"]), get(run.Properties, "Container"), jsonText(main["Image"]))
	}
	if got := jsonText(job["EntryPoint"]); got != `["/bin/sh","-c"]` {
		t.Errorf("bootstrap entry point %s, want /bin/sh -c", got)
	}
	if a, b := jsonText(job["Environment"]), jsonText(main["Environment"]); a != b {
		t.Errorf("bootstrap environment %s differs from the Identity Server's %s", a, b)
	}
	jobSecrets, mainSecrets := namedValues(job["Secrets"], "ValueFrom"), namedValues(main["Secrets"], "ValueFrom")
	for k, v := range mainSecrets {
		if jsonText(jobSecrets[k]) != jsonText(v) {
			t.Errorf("bootstrap secret %s from %s, the Identity Server's from %s", k, jsonText(jobSecrets[k]), jsonText(v))
		}
	}
	for k := range jobSecrets {
		if _, ok := mainSecrets[k]; !ok && k != "ADMIN_PASSWORD" && k != "CONSOLE_SECRET" {
			t.Errorf("bootstrap has a secret %s the Identity Server has not", k)
		}
	}
	if !strings.Contains(jsonText(jobSecrets["ADMIN_PASSWORD"]), "adminpassword") || !strings.Contains(jsonText(jobSecrets["CONSOLE_SECRET"]), "consoleoauthclientsecret") {
		t.Errorf("ADMIN_PASSWORD from %s, CONSOLE_SECRET from %s; want the Data stack's admin-password and console-oauth-client-secret",
			jsonText(jobSecrets["ADMIN_PASSWORD"]), jsonText(jobSecrets["CONSOLE_SECRET"]))
	}
	checkCredentialsFromSecrets(t, "bootstrap", job)
	checkExecutionRole(t, is.tpl, task, 9) // the service's seven, the administrator's password and the Console's secret
	if deps := jsonText(is.service.DependsOn); !strings.Contains(deps, `"`+runID+`"`) {
		t.Errorf("the service depends on %s, want the bootstrap run %s", deps, runID)
	}
	if jsonText(get(run.Properties, "SecurityGroups")) != jsonText(get(is.service.Properties, "NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups")) {
		t.Errorf("bootstrap runs in %s, want the Identity Server's security group (the database admits it)", jsonText(get(run.Properties, "SecurityGroups")))
	}

	fn := is.tpl.Resources[refTo(get(run.Properties, "ServiceToken"))]
	fnRole := refTo(get(fn.Properties, "Role"))
	family, _ := get(task.Properties, "Family").(string)
	var actions []string
	for id, r := range is.tpl.OfType("AWS::IAM::Policy") {
		if !strings.Contains(jsonText(get(r.Properties, "Roles")), fnRole) {
			continue
		}
		for _, s := range asList(get(r.Properties, "PolicyDocument", "Statement")) {
			res := jsonText(get(s, "Resource"))
			acts := asList(get(s, "Action"))
			if one, ok := get(s, "Action").(string); ok {
				acts = []any{one}
			}
			for _, a := range acts {
				actions = append(actions, a.(string))
				switch a {
				case "ecs:RunTask":
					if family == "" || !strings.HasSuffix(res, ":task-definition/"+family+`:*"`) {
						t.Errorf("%s: ecs:RunTask on %s, want the bootstrap family %q only", id, res, family)
					}
				case "iam:PassRole":
					want := jsonText([]string{refTo(get(task.Properties, "ExecutionRoleArn")), refTo(get(task.Properties, "TaskRoleArn"))})
					var got []string
					for _, r := range asList(get(s, "Resource")) {
						got = append(got, refTo(r))
					}
					sort.Strings(got)
					if jsonText(got) != want {
						t.Errorf("%s: iam:PassRole on %v, want the bootstrap's roles %s", id, got, want)
					}
				}
			}
		}
	}
	sort.Strings(actions)
	if got := strings.Join(actions, " "); got != "ecs:DescribeTasks ecs:RunTask iam:PassRole logs:CreateLogStream logs:PutLogEvents" {
		t.Errorf("the bootstrap runner may %s; want RunTask, DescribeTasks, PassRole and its own logs", got)
	}
}

func TestIdentityServerTaskRoleReachesOnlyThePictures(t *testing.T) {
	a := synthOnce(t, nil)
	is := identityServerTask(t, a)
	role := refTo(get(is.task.Properties, "TaskRoleArn"))
	var got []string
	for _, r := range is.tpl.OfType("AWS::IAM::Policy") {
		if !strings.Contains(jsonText(get(r.Properties, "Roles")), role) {
			continue
		}
		for _, s := range withoutEcsExec(asList(get(r.Properties, "PolicyDocument", "Statement"))) {
			res := jsonText(get(s, "Resource"))
			for _, act := range asList(get(s, "Action")) {
				got = append(got, act.(string))
				if strings.HasPrefix(act.(string), "s3:") && (!strings.Contains(res, "Pictures") || !strings.Contains(res, `"/*.??????????????????????????/*"`)) {
					t.Errorf("%s on %s; want the picture objects of the pictures bucket only", act, res)
				}
			}
		}
	}
	sort.Strings(got)
	want := "s3:DeleteObject s3:GetObject s3:PutObject"
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
}

func TestIdentityServerLogsAreRetainedForLogRetentionDays(t *testing.T) {
	a := synthOnce(t, nil)
	groups := a.Stack(t, "IdentityServer").OfType("AWS::Logs::LogGroup")
	if len(groups) != 4 {
		t.Errorf("%d log groups, want 4: the service's, the database bootstrap's, its runner's and the SMTP credentials function's", len(groups))
	}
	for id, lg := range groups {
		if got, _ := get(lg.Properties, "RetentionInDays").(float64); int(got) != a.Params.LogRetentionDays {
			t.Errorf("%s: RetentionInDays %v, want %d", id, get(lg.Properties, "RetentionInDays"), a.Params.LogRetentionDays)
		}
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
