package rehearse

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ttsmetrics"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/rehearse/smoke"
)

// target describes the rehearsed deployment to the scenario, from the
// configuration the templates deploy.
func (r *run) target() smoke.Target {
	t := smoke.Target{RootCAs: r.ca.Pool(), JoinServers: r.joinCases, Logs: r.logs.All, Timeout: 30 * time.Second, PacketBroker: r.pb}
	t.Secrets = append([]string(nil), r.secrets...)
	for _, s := range r.services {
		if s.exec {
			t.Exec = r.execIn
		}
	}
	env := map[string]string{}
	ctx := context.Background()
	for _, s := range r.services {
		for _, c := range s.containers {
			e, err := r.containerEnv(ctx, c, s.addr)
			if err != nil {
				continue
			}
			for k, v := range e {
				env[k] = v
			}
			for _, pm := range c.PortMappings {
				switch int(pm.ContainerPort) {
				case 1700:
					t.GatewayUDPAddr = s.addr + ":1700"
				case 1883:
					t.AppMQTTAddr = s.addr + ":1883"
				}
			}
			if r.isProxy(c) {
				t.GRPCAddr = s.addr + ":1884"
				t.HTTPBaseURL = "http://" + s.addr + ":1885"
				if r.domainCert {
					t.HTTPBaseURL = "https://" + s.addr + ":443"
					t.InteropURL = "https://" + s.addr + ":8886"
				}
			}
			if s.name == "is" && !r.domainCert && env["TTN_LW_INTEROP_LISTEN"] != "" {
				t.InteropURL = "http://" + env["TTN_LW_INTEROP_LISTEN"]
			}
		}
		for _, c := range s.task.containers {
			if !c.essential() {
				r.bootstrapTarget(ctx, &t, c, s.addr)
			}
		}
		if ep, ok := r.metricsEndpoint(ctx, s); ok {
			t.Metrics = append(t.Metrics, ep)
		}
	}
	// The Identity Server's bootstrap (a task run at deploy time) names the
	// administrator and registers the Console's OAuth client.
	for _, tr := range r.taskRuns {
		for _, c := range tr.task.containers {
			r.bootstrapTarget(ctx, &t, c, "")
		}
	}
	if u, err := url.Parse(env["TTN_LW_IS_OAUTH_UI_CANONICAL_URL"]); err == nil && u.Host != "" {
		t.Domain = u.Hostname()
		t.PublicBaseURL = u.Scheme + "://" + u.Host
	}
	t.InteropAudience = env["TTN_LW_INTEROP_PUBLIC_TLS_ADDRESS"]
	if r.smtp != nil {
		t.Mail = r.smtp
		t.MailSender = env["TTN_LW_IS_EMAIL_SENDER_ADDRESS"]
	}
	t.NetID = env["TTN_LW_IS_NETWORK_NET_ID"]
	t.TenantID = env["TTN_LW_IS_NETWORK_TENANT_ID"]
	t.NSID = env["TTN_LW_IS_NETWORK_NS_ID"]
	t.FrequencyPlanID = "EU_863_870_TTN"
	if r.deviceIndexBuilt {
		t.DeviceBrand = DeviceBrand
	}
	if env["TTN_LW_IS_PROFILE_PICTURE_DISABLE_UPLOAD"] == "false" {
		t.PicturesURL = env["TTN_LW_IS_PROFILE_PICTURE_BUCKET_URL"]
	}
	if r.stubAgents != nil {
		t.PBARequests = r.stubAgents.Requests
	}
	return t
}

var (
	adminIDFlag     = regexp.MustCompile(`create-admin-user --id (\S+)`)
	adminEmailFlag  = regexp.MustCompile(`create-admin-user --id \S+ --email (\S+)`)
	clientIDFlag    = regexp.MustCompile(`create-oauth-client (?:--log\.level \S+ )?--id (\S+)`)
	redirectURIFlag = regexp.MustCompile(`--redirect-uri '([^']+)'`)
)

// bootstrapTarget reads the administrator and the Console's OAuth client
// from a bootstrap container's command and secrets.
func (r *run) bootstrapTarget(ctx context.Context, t *smoke.Target, c container, addr string) {
	cmd := strings.Join(c.Command, " ")
	if !strings.Contains(cmd, "is-db") {
		return
	}
	if m := adminIDFlag.FindStringSubmatch(cmd); m != nil {
		t.AdminUserID = strings.Trim(m[1], `'"`)
	}
	if m := adminEmailFlag.FindStringSubmatch(cmd); m != nil {
		t.AdminEmail = strings.Trim(m[1], `'"`)
	}
	if m := clientIDFlag.FindStringSubmatch(cmd); m != nil {
		t.ConsoleClientID = strings.Trim(m[1], `'"`)
	}
	if m := redirectURIFlag.FindStringSubmatch(cmd); m != nil {
		t.ConsoleRedirectURI = m[1]
	}
	if e, err := r.containerEnv(ctx, c, addr); err == nil {
		t.AdminPassword = e["ADMIN_PASSWORD"]
		t.ConsoleClientSecret = e["CONSOLE_SECRET"]
	}
}

// metricsEndpoint describes the /metrics of a service that runs The Things
// Stack, and the collector of its task (a container that the rehearsal does
// not start: the image is not here; the scenario scrapes as its
// configuration says).
func (r *run) metricsEndpoint(ctx context.Context, s *service) (smoke.MetricsEndpoint, bool) {
	var ep smoke.MetricsEndpoint
	if s.stub {
		// A stand-in listens on its ports (stubAgent); there is no /metrics.
		r.note("metrics: %s is a stub of the shared build; its /metrics is not checked", s.name)
		return ep, false
	}
	found := false
	for _, c := range s.task.containers {
		if r.isTTS(c) && c.essential() {
			env, err := r.containerEnv(ctx, c, s.addr)
			if err != nil {
				continue
			}
			ep.Component, ep.HTTPAddr, ep.TaskHost, ep.Password = s.name, env["TTN_LW_HTTP_LISTEN"], s.addr, env["TTN_LW_HTTP_METRICS_PASSWORD"]
			found = ep.HTTPAddr != ""
		}
	}
	for _, c := range s.task.containers {
		for _, e := range c.Environment {
			if e.Name != ttsmetrics.ConfigVariable {
				continue
			}
			env, err := r.containerEnv(ctx, c, s.addr)
			if err != nil {
				continue
			}
			ep.CollectorConfig, ep.CollectorEnv = env[ttsmetrics.ConfigVariable], env
		}
	}
	return ep, found
}
