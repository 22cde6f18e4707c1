package test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/testpki"
)

// proxyService finds the proxy's service in the Services stack by its nginx
// container.
func proxyService(t *testing.T, tpl Template) (string, Resource, Resource, map[string]any) {
	t.Helper()
	for id, svc := range tpl.OfType("AWS::ECS::Service") {
		task := tpl.Resources[refTo(get(svc.Properties, "TaskDefinition"))]
		for _, d := range asList(get(task.Properties, "ContainerDefinitions")) {
			if m, _ := d.(map[string]any); m["Name"] == "nginx" {
				return id, svc, task, m
			}
		}
	}
	t.Fatal("the Services stack has no service with an nginx container (the proxy)")
	return "", Resource{}, Resource{}, nil
}

// proxyTargetGroups returns the LoadBalancer stack's target groups of the
// proxy (logical id -> port).
func proxyTargetGroups(tpl Template) map[string]int {
	out := map[string]int{}
	for id, tg := range tpl.OfType("AWS::ElasticLoadBalancingV2::TargetGroup") {
		if strings.Contains(id, "Targetproxy") {
			port, _ := get(tg.Properties, "Port").(float64)
			out[id] = int(port)
		}
	}
	return out
}

func TestProxyServiceOfEveryCombination(t *testing.T) {
	for _, c := range combos() {
		if !c.valid() {
			continue
		}
		t.Run(canonical(c.overrides()), func(t *testing.T) {
			a := synthOnce(t, c.overrides())
			tpl := a.Stack(t, "Services")
			id, svc, task, main := proxyService(t, tpl)
			p := svc.Properties

			if n, _ := get(p, "DesiredCount").(float64); n < 2 {
				t.Errorf("proxy: DesiredCount %v, want at least 2", get(p, "DesiredCount"))
			}
			if get(p, "LaunchType") != "FARGATE" && get(p, "CapacityProviderStrategy") == nil {
				t.Errorf("proxy: not on Fargate: %s", jsonText(p))
			}
			if get(p, "DeploymentConfiguration", "DeploymentCircuitBreaker", "Rollback") != true {
				t.Errorf("proxy: no circuit breaker with rollback: %s", jsonText(get(p, "DeploymentConfiguration")))
			}
			if get(p, "HealthCheckGracePeriodSeconds") == nil {
				t.Error("proxy: no health check grace period")
			}
			if sg := jsonText(get(p, "NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups")); !strings.Contains(sg, "Tasksproxy") || strings.Count(sg, "Tasks") != 1 {
				t.Errorf("proxy: security groups %s, want only the proxy's task security group", sg)
			}
			if pub := get(p, "NetworkConfiguration", "AwsvpcConfiguration", "AssignPublicIp"); pub != "DISABLED" {
				t.Errorf("proxy: AssignPublicIp %v, want DISABLED (private subnets)", pub)
			}
			sc := get(p, "ServiceConnectConfiguration")
			if get(sc, "Enabled") != true || get(sc, "Services") != nil || !strings.Contains(jsonText(get(sc, "Namespace")), "tts-IdentityServer") {
				t.Errorf("proxy: Service Connect %s, want client only in the IdentityServer stack's namespace", jsonText(sc))
			}
			scales := 0
			for _, st := range tpl.OfType("AWS::ApplicationAutoScaling::ScalableTarget") {
				if strings.Contains(jsonText(get(st.Properties, "ResourceId")), id) {
					scales++
					if min, max := get(st.Properties, "MinCapacity"), get(st.Properties, "MaxCapacity"); min != get(p, "DesiredCount") || max != 4*min.(float64) {
						t.Errorf("proxy: scales between %v and %v tasks, want ProxyTasks and four times as many", min, max)
					}
				}
			}
			if scales != 1 {
				t.Errorf("proxy: %d scalable targets, want 1 (CPU scaling)", scales)
			}
			// The proxy starts after the components, so that their names
			// resolve when nginx starts.
			deps := jsonText(svc.DependsOn)
			for comp, s := range servicesByComponent(t, tpl) {
				if !strings.Contains(deps, s.id) {
					t.Errorf("proxy does not depend on the %s service %s (DependsOn %s)", comp, s.id, deps)
				}
			}

			// Exactly the proxy's target groups (in the Services stack).
			groups := proxyTargetGroups(a.Stack(t, "Services"))
			var wantPorts []int
			for _, port := range groups {
				wantPorts = append(wantPorts, port)
			}
			sort.Ints(wantPorts)
			want := []int{80, 1884, 1885}
			if c.proxyTLS {
				// 1885 stays: 443 forwards there in the other mode.
				want = []int{80, 443, 1884, 1885}
				if c.interop {
					want = []int{80, 443, 1884, 1885, 8886}
				}
			}
			if fmt.Sprint(wantPorts) != fmt.Sprint(want) {
				t.Errorf("the LoadBalancer stack's proxy target groups are on %v, want %v", wantPorts, want)
			}
			registered := map[string]bool{}
			for _, lb := range asList(get(p, "LoadBalancers")) {
				tg := jsonText(get(lb, "TargetGroupArn"))
				matched := ""
				for gid, port := range groups {
					if strings.Contains(tg, gid) && get(lb, "ContainerPort") == float64(port) && get(lb, "ContainerName") == "nginx" {
						matched = gid
					}
				}
				if matched == "" {
					t.Errorf("proxy: registers %s with %s, not one of the proxy's target groups on its port", jsonText(lb), tg)
					continue
				}
				if registered[matched] {
					t.Errorf("proxy: registers twice with %s", matched)
				}
				registered[matched] = true
			}
			if len(registered) != len(groups) {
				t.Errorf("proxy: registers with %v, want every one of %v", sortedKeys(registered), sortedKeys(groups))
			}
			if got, wantC := intsOf(main["PortMappings"], "ContainerPort"), append([]int{80, 1880}, want[1:]...); fmt.Sprint(sortedInts(got)) != fmt.Sprint(sortedInts(wantC)) {
				t.Errorf("proxy: container ports %v, want the target groups' %v and the health port 1880", got, wantC)
			}

			checkProxyImage(t, c.proxyTLS, main)
			if hc := jsonText(get(main, "HealthCheck", "Command")); !strings.Contains(hc, "http://127.0.0.1:1880/healthz") {
				t.Errorf("proxy: container health check %s, want the health port", hc)
			}
			checkProxyTaskRole(t, a, c.proxyTLS, taskRoleStatements(tpl, task))
			if lg := tpl.Resources[refTo(get(main, "LogConfiguration", "Options", "awslogs-group"))]; lg.Type != "AWS::Logs::LogGroup" || get(lg.Properties, "RetentionInDays") != float64(a.Params.LogRetentionDays) {
				t.Errorf("proxy: log group %s, want its own with LogRetentionDays", jsonText(get(main, "LogConfiguration")))
			}
			checkProxyExecutionRole(t, tpl, task, c.proxyTLS)

			conf, _ := namedValues(main["Environment"], "Value")["NGINX_CONF"].(string)
			checkProxyConfig(t, id, conf, c.proxyTLS, c.interop)
		})
	}
}

func sortedInts(in []int) []int {
	out := append([]int(nil), in...)
	sort.Ints(out)
	return out
}

// checkProxyExecutionRole: the execution role only writes the proxy's logs,
// and in proxy TLS mode pulls the proxy image.
func checkProxyExecutionRole(t *testing.T, tpl Template, task Resource, proxyTLS bool) {
	t.Helper()
	role := refTo(get(task.Properties, "ExecutionRoleArn"))
	for id, r := range tpl.OfType("AWS::IAM::Policy") {
		if !strings.Contains(jsonText(get(r.Properties, "Roles")), `"`+role+`"`) {
			continue
		}
		for _, st := range asList(get(r.Properties, "PolicyDocument", "Statement")) {
			for _, act := range append(asList(get(st, "Action")), get(st, "Action")) {
				s, ok := act.(string)
				if !ok || strings.HasPrefix(s, "logs:") || proxyTLS && strings.HasPrefix(s, "ecr:") {
					continue
				}
				t.Errorf("proxy: execution role policy %s allows %s; want only writing its logs (and pulling the image in proxy TLS mode)", id, s)
			}
		}
	}
}

// checkProxyConfig checks the nginx.conf of the task definition: it routes
// the Gateway Server's API to gs.tts.local, has the TLS listeners exactly in
// proxy TLS mode (8886 only with interop, forwarded to is.tts.local:1886),
// and real nginx accepts it with the cluster's host names mapped to
// 127.0.0.1 and a throw-away certificate in the certificate directory.
func checkProxyConfig(t *testing.T, id, conf string, proxyTLS, interop bool) {
	t.Helper()
	if len(conf) < 1000 {
		t.Fatalf("%s: NGINX_CONF holds %d bytes, want the rendered nginx.conf", id, len(conf))
	}
	// Compared with the whitespace collapsed.
	flat := strings.Join(strings.Fields(conf), " ")
	for _, want := range []string{
		"location /api/v3/gs/ { proxy_pass http://tts_gs_http; }",
		"upstream tts_gs_http { server gs.tts.local:1885;",
		"location /ttn.lorawan.v3.Gs/ { grpc_pass grpc://tts_gs_grpc; }",
		"upstream tts_qrg_http { server dcs.tts.local:1885;",
		"upstream tts_dtc_grpc { server dcs.tts.local:1884;",
		// The Device Repository has its own service now.
		"location /api/v3/dr/ { proxy_pass http://tts_dr_http; }",
		"location /ttn.lorawan.v3.DeviceRepository/ { grpc_pass grpc://tts_dr_grpc; }",
		"upstream tts_dr_http { server dr.tts.local:1885;",
		`add_header grpc-message "Packet Broker Agent (pba) is not deployed here" always;`,
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("%s: the nginx.conf lacks %q", id, want)
		}
	}
	tlsWant := map[string]bool{
		"listen 443 ssl http2;": proxyTLS,
		"listen 8886 ssl;":      proxyTLS && interop,
		"upstream tts_is_interop { server is.tts.local:1886;":   proxyTLS && interop,
		"ssl_certificate /etc/nginx/tls/fullchain.pem;":         proxyTLS,
		"ssl_certificate_key /etc/nginx/tls/privkey.pem;":       proxyTLS,
		"# Mode: SupportProxyTLS=" + fmt.Sprint(proxyTLS) + ",": true,
	}
	for want, on := range tlsWant {
		if strings.Contains(flat, want) != on {
			t.Errorf("%s: the nginx.conf has %q: %v, want %v (SupportProxyTLS %v, InteropEnabled %v)", id, want, !on, on, proxyTLS, interop)
		}
	}
	hosts := regexp.MustCompile(`server ([a-z]+)\.tts\.local:`).FindAllStringSubmatch(conf, -1)
	seen := map[string]bool{}
	for _, h := range hosts {
		seen[h[1]] = true
	}
	if got := strings.Join(sortedKeys(seen), " "); got != "as console dcs dr gcs gs is js ns" {
		t.Errorf("%s: upstream hosts %s.tts.local, want exactly the services is, gs, ns, as, js, console, gcs, dcs and dr", id, got)
	}
	nginxCheck(t, regexp.MustCompile(`server [a-z]+\.tts\.local:`).ReplaceAllString(conf, "server 127.0.0.1:"))
}

// checkProxyImage: the stock nginx image, or in proxy TLS mode the image of
// internal/run/certsync/Dockerfile (a CDK asset) with certsync supervising nginx.
func checkProxyImage(t *testing.T, proxyTLS bool, main map[string]any) {
	t.Helper()
	img, script := jsonText(main["Image"]), jsonText(main["Command"])
	if !proxyTLS {
		if main["Image"] != "nginx:1.28.0-alpine" {
			t.Errorf("proxy: image %s, want the pinned nginx:1.28.0-alpine", img)
		}
		return
	}
	if !strings.Contains(img, "cdk-hnb659fds-container-assets") {
		t.Errorf("proxy: image %s, want the CDK asset built from internal/run/certsync/Dockerfile", img)
	}
	if !strings.Contains(script, "exec /usr/local/bin/certsync -- nginx -g 'daemon off;'") {
		t.Errorf("proxy: start script %s, want certsync supervising nginx", script)
	}
	env := namedValues(main["Environment"], "Value")
	for k, want := range map[string]string{
		"CERT_SECRET_ID": "tts/tts/proxy-certificate", "CERT_DOMAIN": "tts.example.com", "CERTSYNC_DIR": "/etc/nginx/tls",
		"CERT_METRIC_NAMESPACE": "TTS/Certificates", "CERT_METRIC_DIMENSIONS": "Domain=tts.example.com", "AWS_REGION": "eu-west-1",
	} {
		if env[k] != want {
			t.Errorf("proxy: %s = %v, want %s", k, env[k], want)
		}
	}
}

// checkProxyTaskRole: no permission with the load balancer terminating TLS;
// in proxy TLS mode reading the certificate secret only, decrypting it only
// through Secrets Manager, and publishing metrics in one namespace.
func checkProxyTaskRole(t *testing.T, a *Assembly, proxyTLS bool, statements []any) {
	t.Helper()
	if !proxyTLS {
		if len(statements) != 0 {
			t.Errorf("proxy: task role may %s; want nothing", jsonText(statements))
		}
		return
	}
	secret := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s/tts/proxy-certificate-??????", a.Params.Region, a.Params.Account, a.Params.StackPrefix)
	want := map[string]string{
		"secretsmanager:GetSecretValue": `"` + secret + `"`,
		"kms:Decrypt":                   "DataKey",
		"cloudwatch:PutMetricData":      `"*"`,
	}
	got := map[string]bool{}
	for _, st := range statements {
		acts := asList(get(st, "Action"))
		if s, ok := get(st, "Action").(string); ok {
			acts = []any{s}
		}
		for _, act := range acts {
			name, _ := act.(string)
			res, ok := want[name]
			if !ok || get(st, "Effect") != "Allow" {
				t.Errorf("proxy: task role allows %s; want only %v", jsonText(st), sortedKeys(want))
				continue
			}
			got[name] = true
			if r := jsonText(get(st, "Resource")); !strings.Contains(r, res) {
				t.Errorf("proxy: %s on %s, want %s", name, r, res)
			}
			cond := jsonText(get(st, "Condition"))
			switch name {
			case "kms:Decrypt":
				if !strings.Contains(cond, `"kms:ViaService":"secretsmanager.`+a.Params.Region+`.amazonaws.com"`) {
					t.Errorf("proxy: kms:Decrypt condition %s, want through Secrets Manager only", cond)
				}
			case "cloudwatch:PutMetricData":
				if !strings.Contains(cond, `"cloudwatch:namespace":"TTS/Certificates"`) {
					t.Errorf("proxy: cloudwatch:PutMetricData condition %s, want the namespace TTS/Certificates", cond)
				}
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("proxy: task role grants %v, want %v", sortedKeys(got), sortedKeys(want))
	}
}

// nginxCheck runs real `nginx -t` on a configuration. A missing nginx
// skips loudly, and fails under CI=true. The certificate directory of proxy
// TLS mode (proxy.DefaultCertDir) and the client CA bundle
// (proxyservice.ClientCAPath) are moved to a temporary folder, which gets a
// throw-away certificate and CA: nginx -t loads them.
func nginxCheck(t *testing.T, conf string) {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		msg := "NGINX NOT FOUND: install nginx to check the proxy's configuration with nginx -t"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: a missing tool is a failure)")
		}
		t.Log("!!!!!!!! " + msg + " !!!!!!!!")
		t.Skip(msg)
	}
	dir := t.TempDir()
	if strings.Contains(conf, "/etc/nginx/tls/") || strings.Contains(conf, "/etc/nginx/bi/") {
		ca := testpki.New(t)
		leaf := ca.IssueDays(t, []string{"tts.example.com", "*.tts.example.com"}, 90)
		for name, data := range map[string][]byte{
			"tls/fullchain.pem": append(append([]byte{}, leaf.CertPEM...), ca.InterPEM...),
			"tls/privkey.pem":   leaf.KeyPEM,
			"bi/client-ca.pem":  ca.RootPEM,
		} {
			file := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		conf = strings.NewReplacer("/etc/nginx/tls/", filepath.Join(dir, "tls")+"/", "/etc/nginx/bi/", filepath.Join(dir, "bi")+"/").Replace(conf)
	}
	// The image's user nginx may not exist here, and nginx -t as non-root
	// cannot switch users; the directive is the image's concern.
	user := "root"
	if os.Geteuid() != 0 {
		user = ""
	}
	conf = strings.Replace(conf, "user nginx;\n", map[bool]string{true: "user " + user + ";\n", false: ""}[user != ""], 1)
	file := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-t", "-p", dir, "-c", file, "-e", "stderr").CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t rejected the proxy's configuration: %v\n%s", err, out)
	}
	if bytes.Contains(out, []byte("[emerg]")) {
		t.Errorf("nginx -t: %s", out)
	}
}
