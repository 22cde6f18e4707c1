// Package smoke is the scenario of the rehearsal (internal/tools/rehearse): the
// checks a new operator would make against a freshly deployed The Things
// Stack, run against the processes that the rehearsal started from the
// synthesized cloud assembly, and the local stand-ins of the outside world
// that the deployment talks to (Packet Broker's token issuer, external Join
// Servers).
package smoke

import (
	"context"
	"crypto/x509"
	"time"
)

// Target is the rehearsed deployment as its clients reach it. The rehearsal
// fills it from the cloud assembly after every process has started.
type Target struct {
	// Domain is the deployment's public host name (DomainName): the Host
	// header and TLS server name of requests to the proxy.
	Domain string
	// HTTPBaseURL is where a client of the load balancer's 443 lands, as
	// one host can reach it: in load-balancer TLS mode the load balancer
	// terminates TLS and forwards plain HTTP to the proxy, so this is e.g.
	// "http://127.0.0.10:1885"; in proxy TLS mode it is the proxy's own TLS
	// listener, e.g. "https://127.0.0.10:443".
	HTTPBaseURL string
	// PublicBaseURL is the URL the deployment believes it has, e.g.
	// "https://tts.example.com"; redirects and OAuth URLs use it, and a
	// client maps it to HTTPBaseURL.
	PublicBaseURL string
	// RootCAs trusts every certificate the rehearsal made (proxy, stand-ins).
	RootCAs *x509.CertPool
	// GRPCAddr is host:port of the proxy's plain gRPC listener (HTTP/2
	// without TLS: the load balancer terminates TLS on 8884 in both modes).
	GRPCAddr string
	// InteropURL is where a Backend Interfaces peer POSTs, as one host can
	// reach it: in load-balancer TLS mode the Identity Server's interop
	// listener (plain HTTP, the load balancer terminated TLS), in proxy TLS
	// mode the proxy's TLS listener 8886. Empty when interop is off.
	InteropURL string
	// InteropAudience is interop.public-tls-address as configured: the
	// audience a Packet Broker token must carry.
	InteropAudience string
	// PacketBroker is the stand-in token issuer; nil without Packet Broker.
	PacketBroker *PacketBrokerIssuer
	// NetID, TenantID and NSID are what a HomeNSAns must carry.
	NetID, TenantID, NSID string
	// GatewayUDPAddr is the Gateway Server's Semtech UDP host:port (1700).
	GatewayUDPAddr string
	// AppMQTTAddr is the Application Server's plain MQTT host:port (1883).
	AppMQTTAddr string
	// DeviceBrand is a brand of the Device Repository's index that the
	// rehearsal built for it; empty when the deployment runs no Device
	// Repository.
	DeviceBrand string
	// FrequencyPlanID for gateways and devices the scenario registers.
	FrequencyPlanID string
	// AdminUserID and AdminPassword: the administrator the bootstrap made.
	AdminUserID, AdminPassword string
	// ConsoleClientID, ConsoleClientSecret and ConsoleRedirectURI: the
	// Console's OAuth client as the bootstrap registered it.
	ConsoleClientID, ConsoleClientSecret, ConsoleRedirectURI string
	// JoinServers are the external Join Servers of the deployed interop
	// repository, each served by a stand-in.
	JoinServers []JoinServerCase
	// Mail is the stand-in of Amazon SES's SMTP endpoint that the Identity
	// Server sends to; nil when the deployment sends no e-mail. AdminEmail
	// is the administrator's address (the bootstrap's), MailSender the
	// configured From address.
	Mail                   *SMTPServer
	AdminEmail, MailSender string
	// Secrets are every secret value of the rehearsal (generated secrets,
	// materialised interop secrets): none may appear in a log.
	Secrets []string
	// Logs returns every log line written so far by every process.
	Logs func() []LogLine
	// PicturesURL is is.profile-picture.bucket-url: where the Identity
	// Server links pictures (the distribution's stand-in). Empty: uploads off.
	PicturesURL string
	// PBARequests returns what reached the Packet Broker Agent's address
	// ("port METHOD path"); nil when no agent runs.
	PBARequests func() []string
	// Exec runs a command as ECS Exec runs it in a running task of a
	// service (is, ns, ...): in the environment of the task's container of
	// The Things Stack (its environment and secrets); nil when no service
	// has ECS Exec (OpsAccess off).
	Exec func(ctx context.Context, service string, argv ...string) (ExecResult, error)
	// Metrics are the /metrics endpoints of The Things Stack's components,
	// each with the collector that scrapes it, if any.
	Metrics []MetricsEndpoint
	// Timeout bounds each check.
	Timeout time.Duration
}

// ExecResult is the outcome of Target.Exec.
type ExecResult struct {
	Code           int
	Stdout, Stderr string
}

// MetricsEndpoint is one component's /metrics and its collector as the task
// definition configures them.
type MetricsEndpoint struct {
	// Component is the component the task starts, e.g. gs.
	Component string
	// HTTPAddr is host:port of the component's HTTP listener; TaskHost is
	// the host that is localhost inside its task.
	HTTPAddr, TaskHost string
	// Password is http.metrics.password as the component reads it.
	Password string
	// CollectorConfig is the collector container's configuration as ECS
	// gives it (AOT_CONFIG_CONTENT), CollectorEnv the container's whole
	// environment, secrets included; "" and nil when the task has none.
	CollectorConfig string
	CollectorEnv    map[string]string
}

// LogLine is one line of one process's output.
type LogLine struct {
	Process string // e.g. "is", "ns", "proxy", "bootstrap"
	Text    string
}

// JoinServerCase is one Join Server of the deployed interop repository.
type JoinServerCase struct {
	// File is the Join Server file as deployed (secrets materialised, host
	// names substituted to the stand-in), relative to the repository root,
	// and Data its content: the expectations (path, headers, basic auth,
	// client certificate) are read from it.
	File string
	Data []byte
	// RepositoryDir is the folder of the deployed repository, for the
	// files that File names (root-ca, certificate).
	RepositoryDir string
	// JoinEUIPrefix is the prefix of config.yml that routes to this file,
	// e.g. "1122330000000000/24", and Components those that use it (empty:
	// ns and as).
	JoinEUIPrefix string
	Components    []string
	// Server is the stand-in serving the file's fqdn and port.
	Server *JoinServer
}

// Result is one line of the rehearsal's table.
type Result struct {
	Check  string
	OK     bool
	Detail string
}
