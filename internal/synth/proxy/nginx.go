package proxy

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// Image is the nginx container image the proxy runs in ECS: the official
// `nginx` image, stable line, Alpine variant, pinned to an exact version so
// ECS never re-pulls a moving tag. The tag was checked with the search tool:
// the official nginx/docker-nginx repository builds its stable alpine-otel
// and alpine-perl images `FROM nginx:1.28.0-alpine` (commit 7f1d49f,
// "Regenerated stable dockerfiles"). Render emits only syntax that nginx 1.22
// (Debian, used by the tests) and 1.28 both accept: `listen ... http2`
// instead of `http2 on;` (1.25.1+), which 1.28 still accepts with a
// deprecation warning.
const Image = "nginx:1.28.0-alpine"

// Defaults.
const (
	// DefaultCertDir is where the certificate sidecar writes fullchain.pem and
	// privkey.pem.
	DefaultCertDir = "/etc/nginx/tls"
	// CertFile and KeyFile are the file names inside the certificate directory.
	CertFile = "fullchain.pem"
	KeyFile  = "privkey.pem"
	// DefaultHealthPort is the proxy's own health port for the load balancer
	// health checks. It answers without any upstream. 1880 is not used by TTS.
	DefaultHealthPort = 1880
	// HealthPath is the health endpoint on the health port.
	HealthPath = "/healthz"
	// DefaultHTTPSPort and DefaultRedirectPort are the public web ports.
	DefaultHTTPSPort    = 443
	DefaultRedirectPort = 80
	// DefaultClientCertHeader carries the verified client certificate
	// (URL-encoded PEM, nginx's $ssl_client_escaped_cert) to the IS.
	DefaultClientCertHeader = "X-Client-Cert"
	// DefaultWorkerShutdownTimeout bounds how long a reload waits for
	// long-lived streams on old workers.
	DefaultWorkerShutdownTimeout = 60 * time.Second
	// DefaultStreamTimeout is the idle timeout of event streams, WebSockets and
	// gRPC streams.
	DefaultStreamTimeout = time.Hour
	// DefaultPIDFile is the pid file of the official nginx image.
	DefaultPIDFile = "/var/run/nginx.pid"
	// DefaultAccessLog and DefaultErrorLog send logs to the container's
	// stdout and stderr, where the ECS log driver picks them up.
	DefaultAccessLog = "/dev/stdout"
	DefaultErrorLog  = "stderr"
	// MaxBodySize matches the 16 MB request body limit of TTS's web server.
	MaxBodySize = "16m"
)

// ClientCertMode says whether the interop listener asks for TLS client
// certificates.
type ClientCertMode string

// Client certificate modes.
const (
	// ClientCertOff asks for no certificate.
	ClientCertOff ClientCertMode = "off"
	// ClientCertOptional asks for one; a peer without one (Packet Broker, which
	// authenticates with a bearer token) is let through, a peer with an
	// untrusted one is refused with 400.
	ClientCertOptional ClientCertMode = "optional"
	// ClientCertRequired refuses peers without a certificate from the CA
	// bundle. This also refuses Packet Broker unless it presents one.
	ClientCertRequired ClientCertMode = "required"
)

// ClientCert configures TLS client certificate verification on the interop
// listener (proxy TLS mode only).
type ClientCert struct {
	// Mode is off (default), optional or required.
	Mode ClientCertMode
	// CAFile is the absolute path of the PEM bundle of the CAs that issue BI
	// peers' client certificates. Required unless Mode is off.
	CAFile string
	// Header is the request header that carries the verified client
	// certificate to the IS, URL-encoded PEM. Default DefaultClientCertHeader.
	// The proxy removes this header from every incoming request first, so
	// clients cannot forge it.
	Header string
	// VerifyDepth is the maximum client certificate chain length. Default 2.
	VerifyDepth int
}

// Upstream is where one component listens inside the cluster, as host:port.
type Upstream struct {
	// HTTP is the component's plain HTTP address (port 1885).
	HTTP string
	// GRPC is the component's plain gRPC address (port 1884).
	GRPC string
	// Interop is the plain Backend Interfaces address (port 1886); only the
	// Identity Server's is used.
	Interop string
}

// Listen holds the proxy's listen ports. Zero means the default from the port
// table (ports.Table) or the Default*Port constants.
type Listen struct {
	// HTTP is the plain HTTP port the NLB forwards decrypted 443 traffic to
	// (default: the "http" row's plain port, 1885).
	HTTP int
	// GRPC is the plain gRPC port (HTTP/2 without TLS) the NLB forwards
	// decrypted 8884 traffic to (default: the "grpc" row's plain port, 1884).
	GRPC int
	// HTTPS is the TLS web port in proxy TLS mode (default 443).
	HTTPS int
	// Interop is the TLS Backend Interfaces port in proxy TLS mode (default:
	// the "interop" row's TLS port, 8886).
	Interop int
	// Redirect is the plain port that redirects to https (default 80).
	Redirect int
	// Health is the health check port (default DefaultHealthPort).
	Health int
}

// Config is everything Render needs.
type Config struct {
	// SupportProxyTLS: the proxy terminates TLS on 443 and 8886 (true) or the
	// NLB does (false). The plain listeners are served in both modes so that
	// switching the mode needs no proxy redeployment.
	SupportProxyTLS bool
	// NoInterop leaves out the interop listener (8886) and its upstream in
	// proxy TLS mode, for deployments that serve no Backend Interfaces: the
	// Identity Server then has no interop port to forward to. Client
	// certificates need the interop listener.
	NoInterop bool
	// Upstreams gives the addresses of every component the route table uses
	// (see Routes.UsedComponents). Several components may share an address:
	// `ttn-lw-stack start dcs` also starts dtc and qrg, for example.
	Upstreams map[ports.Component]Upstream
	// Omitted are components of the route table that run nowhere in the
	// deployment (no service, and no service that also serves their APIs).
	// The proxy renders no upstream for them, so nginx does not need their
	// host names to resolve at start; their HTTP paths answer 404 with a
	// plain-text body that names the component, their gRPC services
	// UNIMPLEMENTED (12) with the same message. A component is either in
	// Upstreams or in Omitted, never in both.
	Omitted []ports.Component
	// Listen overrides listen ports.
	Listen Listen
	// ListenAddress is the IP address to listen on; empty means all. Tests
	// use 127.0.0.1.
	ListenAddress string
	// PublicHTTPSPort is the port browsers are redirected to from the
	// redirect port. Default 443.
	PublicHTTPSPort int
	// CertDir holds fullchain.pem and privkey.pem (proxy TLS mode). Default
	// DefaultCertDir.
	CertDir string
	// ClientCert configures client certificate checks on the interop port.
	ClientCert ClientCert
	// ProxyProtocol makes the TLS-passthrough and plain listeners expect a
	// PROXY protocol header (NLB target group attribute
	// proxy_protocol_v2.enabled) and take the client address from it. Leave
	// it off when the target groups preserve client IPs instead.
	ProxyProtocol bool
	// TrustedProxyCIDRs are the addresses allowed to send a PROXY protocol
	// header (the VPC CIDR). Required when ProxyProtocol is set.
	TrustedProxyCIDRs []string
	// AccessLog is the access log file (JSON lines). Default stdout.
	AccessLog string
	// ErrorLog is the error log. Default stderr.
	ErrorLog string
	// ErrorLogLevel is the error log level. Default "warn".
	ErrorLogLevel string
	// WorkerShutdownTimeout bounds graceful shutdown of old workers after a
	// reload. Default DefaultWorkerShutdownTimeout.
	WorkerShutdownTimeout time.Duration
	// StreamTimeout is the idle timeout for streams. Default
	// DefaultStreamTimeout.
	StreamTimeout time.Duration
	// PIDFile is the pid file. Default DefaultPIDFile.
	PIDFile string
	// TempDir, if set, holds nginx's temporary files (request bodies and
	// so on). It must exist; nginx creates the subdirectories. Set it when
	// nginx runs without root or outside the image.
	TempDir string
	// User, if set, is the user the workers run as (`user` directive). The
	// official image has the user "nginx".
	User string
	// WorkerConnections per worker. Default 4096.
	WorkerConnections int
}

func (l Listen) withDefaults() Listen {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.HTTP, ports.HTTP().Plain)
	def(&l.GRPC, ports.GRPC().Plain)
	def(&l.HTTPS, DefaultHTTPSPort)
	def(&l.Interop, ports.Interop().TLS)
	def(&l.Redirect, DefaultRedirectPort)
	def(&l.Health, DefaultHealthPort)
	return l
}

// WithDefaults returns the configuration with every zero value replaced by
// its default.
func (c Config) WithDefaults() Config {
	c.Listen = c.Listen.withDefaults()
	if c.PublicHTTPSPort == 0 {
		c.PublicHTTPSPort = DefaultHTTPSPort
	}
	if c.CertDir == "" {
		c.CertDir = DefaultCertDir
	}
	if c.ClientCert.Mode == "" {
		c.ClientCert.Mode = ClientCertOff
	}
	if c.ClientCert.Header == "" {
		c.ClientCert.Header = DefaultClientCertHeader
	}
	if c.ClientCert.VerifyDepth == 0 {
		c.ClientCert.VerifyDepth = 2
	}
	if c.AccessLog == "" {
		c.AccessLog = DefaultAccessLog
	}
	if c.ErrorLog == "" {
		c.ErrorLog = DefaultErrorLog
	}
	if c.ErrorLogLevel == "" {
		c.ErrorLogLevel = "warn"
	}
	if c.WorkerShutdownTimeout == 0 {
		c.WorkerShutdownTimeout = DefaultWorkerShutdownTimeout
	}
	if c.StreamTimeout == 0 {
		c.StreamTimeout = DefaultStreamTimeout
	}
	if c.PIDFile == "" {
		c.PIDFile = DefaultPIDFile
	}
	if c.WorkerConnections == 0 {
		c.WorkerConnections = 4096
	}
	return c
}

// ServiceConnectUpstreams returns upstreams named "<component>.<namespace>"
// on the plain ports of the port table, e.g. "is.tts.local:1885", which is
// how ECS Service Connect names the services when each component's discovery
// name is its `ttn-lw-stack start` argument.
func ServiceConnectUpstreams(namespace string) map[ports.Component]Upstream {
	out := make(map[ports.Component]Upstream)
	for _, c := range ports.Components() {
		host := string(c) + "." + namespace
		u := Upstream{
			HTTP: net.JoinHostPort(host, strconv.Itoa(ports.HTTP().Plain)),
			GRPC: net.JoinHostPort(host, strconv.Itoa(ports.GRPC().Plain)),
		}
		if c == ports.IdentityServer {
			u.Interop = net.JoinHostPort(host, strconv.Itoa(ports.Interop().Plain))
		}
		out[c] = u
	}
	return out
}

var (
	headerNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)
	hostRE       = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)
	userRE       = regexp.MustCompile(`^[a-z_][a-z0-9_-]*$`)
	logLevels    = []string{"debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"}
)

// Validate checks the configuration (after WithDefaults) and returns all
// problems at once.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs diag.List
	errs.Add(diag.FromError(Table().Check())...)

	listens := []struct {
		name string
		port int
		used bool
	}{
		{"Listen.HTTP", c.Listen.HTTP, true},
		{"Listen.GRPC", c.Listen.GRPC, true},
		{"Listen.Redirect", c.Listen.Redirect, true},
		{"Listen.Health", c.Listen.Health, true},
		{"Listen.HTTPS", c.Listen.HTTPS, c.SupportProxyTLS},
		{"Listen.Interop", c.Listen.Interop, c.interop()},
	}
	byPort := make(map[int]string)
	for _, l := range listens {
		if l.port < 1 || l.port > 65535 {
			errs.Errorf("proxy.bad-port", l.name, "is %d; use a port between 1 and 65535", l.port)
			continue
		}
		if !l.used {
			continue
		}
		if other, ok := byPort[l.port]; ok {
			errs.Errorf("proxy.port-conflict", l.name, "%s and %s both use port %d; give each listener its own port", other, l.name, l.port)
		}
		byPort[l.port] = l.name
	}
	if c.PublicHTTPSPort < 1 || c.PublicHTTPSPort > 65535 {
		errs.Errorf("proxy.bad-port", "PublicHTTPSPort", "is %d; use a port between 1 and 65535", c.PublicHTTPSPort)
	}
	if c.ListenAddress != "" && net.ParseIP(c.ListenAddress) == nil {
		errs.Errorf("proxy.bad-listen-address", "ListenAddress", "%q is not an IP address; leave it empty to listen on all addresses", c.ListenAddress)
	}

	for _, comp := range c.Omitted {
		switch {
		case !slices.Contains(ports.Components(), comp):
			errs.Errorf("proxy.unknown-component", "Omitted", "names unknown component %q; known components: %v", comp, ports.Components())
		case c.Upstreams[comp] != (Upstream{}):
			errs.Errorf("proxy.omitted-and-upstream", "Omitted", "%q (%s) is both in Upstreams and in Omitted; keep it in one of them", comp, comp.Title())
		case comp == ports.IdentityServer && c.SupportProxyTLS:
			errs.Errorf("proxy.identity-server-omitted", "Omitted", "the Identity Server cannot be omitted with SupportProxyTLS: the interop listener forwards to it")
		}
	}
	for _, comp := range Table().UsedComponents() {
		if c.isOmitted(comp) {
			continue
		}
		u, ok := c.Upstreams[comp]
		if !ok {
			errs.Errorf("proxy.missing-upstream", "Upstreams", "has no entry for %q (%s); add one (it may point at the service that runs it, e.g. `start dcs` also runs dtc and qrg), or list it in Omitted when nothing runs it", comp, comp.Title())
			continue
		}
		checkAddr(&errs, fmt.Sprintf("Upstreams[%q].HTTP", comp), u.HTTP)
		checkAddr(&errs, fmt.Sprintf("Upstreams[%q].GRPC", comp), u.GRPC)
	}
	for comp := range c.Upstreams {
		if !slices.Contains(ports.Components(), comp) {
			errs.Errorf("proxy.unknown-component", "Upstreams", "has an entry for unknown component %q; known components: %v", comp, ports.Components())
		}
	}
	if c.interop() {
		checkAddr(&errs, fmt.Sprintf("Upstreams[%q].Interop", ports.IdentityServer), c.Upstreams[ports.IdentityServer].Interop)
	}
	if c.SupportProxyTLS {
		if !filepath.IsAbs(c.CertDir) || strings.ContainsAny(c.CertDir, " ;{}\"'") {
			errs.Errorf("proxy.bad-path", "CertDir", "%q must be an absolute path without spaces or quotes (default %s)", c.CertDir, DefaultCertDir)
		}
	}

	switch c.ClientCert.Mode {
	case ClientCertOff:
	case ClientCertOptional, ClientCertRequired:
		if !c.SupportProxyTLS {
			errs.Errorf("proxy.client-cert-needs-proxy-tls", "ClientCert.Mode", "%q needs SupportProxyTLS: the load balancer cannot check client certificates; set SupportProxyTLS or ClientCert.Mode %q", c.ClientCert.Mode, ClientCertOff)
		}
		if c.SupportProxyTLS && c.NoInterop {
			errs.Errorf("proxy.client-cert-needs-interop", "ClientCert.Mode", "%q needs the interop listener, which NoInterop leaves out; unset NoInterop or set ClientCert.Mode %q", c.ClientCert.Mode, ClientCertOff)
		}
		if !filepath.IsAbs(c.ClientCert.CAFile) || strings.ContainsAny(c.ClientCert.CAFile, " ;{}\"'") {
			errs.Errorf("proxy.bad-path", "ClientCert.CAFile", "%q must be the absolute path of the PEM CA bundle for mode %q", c.ClientCert.CAFile, c.ClientCert.Mode)
		}
	default:
		errs.Errorf("proxy.unknown-client-cert-mode", "ClientCert.Mode", "%q is unknown; use %q, %q or %q", c.ClientCert.Mode, ClientCertOff, ClientCertOptional, ClientCertRequired)
	}
	if !headerNameRE.MatchString(c.ClientCert.Header) {
		errs.Errorf("proxy.bad-header-name", "ClientCert.Header", "%q is not a valid header name (letters, digits and '-')", c.ClientCert.Header)
	}
	if c.ClientCert.VerifyDepth < 1 || c.ClientCert.VerifyDepth > 10 {
		errs.Errorf("proxy.out-of-range", "ClientCert.VerifyDepth", "is %d; use 1 to 10", c.ClientCert.VerifyDepth)
	}

	if c.ProxyProtocol && len(c.TrustedProxyCIDRs) == 0 {
		errs.Errorf("proxy.missing-trusted-cidrs", "TrustedProxyCIDRs", "ProxyProtocol needs TrustedProxyCIDRs (the VPC CIDR of the load balancer)")
	}
	for _, cidr := range c.TrustedProxyCIDRs {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			errs.Errorf("proxy.bad-cidr", "TrustedProxyCIDRs", "entry %q is not a CIDR like 10.0.0.0/16", cidr)
		}
	}

	for name, v := range map[string]string{"AccessLog": c.AccessLog, "ErrorLog": c.ErrorLog, "PIDFile": c.PIDFile, "TempDir": c.TempDir} {
		if strings.ContainsAny(v, " ;{}\"'\n") {
			errs.Errorf("proxy.bad-path", name, "%q must not contain spaces, quotes, braces or semicolons", v)
		}
	}
	if !slices.Contains(logLevels, c.ErrorLogLevel) {
		errs.Errorf("proxy.unknown-log-level", "ErrorLogLevel", "%q is unknown; use one of %v", c.ErrorLogLevel, logLevels)
	}
	if c.TempDir != "" && !filepath.IsAbs(c.TempDir) {
		errs.Errorf("proxy.bad-path", "TempDir", "%q must be an absolute path", c.TempDir)
	}
	if c.User != "" && !userRE.MatchString(c.User) {
		errs.Errorf("proxy.bad-user", "User", "%q is not a user name", c.User)
	}
	if c.WorkerShutdownTimeout < time.Second {
		errs.Errorf("proxy.out-of-range", "WorkerShutdownTimeout", "%v is too short; use at least 1s", c.WorkerShutdownTimeout)
	}
	if c.StreamTimeout < time.Second {
		errs.Errorf("proxy.out-of-range", "StreamTimeout", "%v is too short; use at least 1s", c.StreamTimeout)
	}
	if c.WorkerConnections < 16 {
		errs.Errorf("proxy.out-of-range", "WorkerConnections", "%d is too small; use at least 16", c.WorkerConnections)
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("proxy:\n%w", err)
	}
	return nil
}

// interop tells whether the interop listener is rendered.
func (c Config) interop() bool { return c.SupportProxyTLS && !c.NoInterop }

// isOmitted tells whether comp is listed in Omitted.
func (c Config) isOmitted(comp ports.Component) bool {
	return slices.Contains(c.Omitted, comp)
}

// omittedMessage is the body (HTTP) and grpc-message (gRPC) of the routes of
// an omitted component.
func omittedMessage(comp ports.Component) string {
	return fmt.Sprintf("%s (%s) is not deployed here", comp.Title(), comp)
}

func checkAddr(errs *diag.List, name, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		errs.Errorf("proxy.bad-address", name, "%q is not host:port; give e.g. \"is.tts.local:1885\"", addr)
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		errs.Errorf("proxy.bad-address", name, "%q has an invalid port", addr)
	}
	if net.ParseIP(host) == nil && !hostRE.MatchString(host) {
		errs.Errorf("proxy.bad-address", name, "%q has an invalid host name", addr)
	}
}

// Render validates cfg and returns the complete nginx.conf.
func Render(cfg Config) (string, error) {
	if err := cfg.Validate(); err != nil {
		return "", err
	}
	c := cfg.WithDefaults()
	routes := Table()
	w := &confWriter{}

	w.line("# Generated by github.com/lorawan-stack-aws/tts-ecs/proxy (TTS %s routes). Do not edit.", TTSVersion)
	w.line("# Mode: SupportProxyTLS=%v, client certificates: %s.", c.SupportProxyTLS, c.ClientCert.Mode)
	if len(c.Omitted) > 0 {
		names := make([]string, len(c.Omitted))
		for i, comp := range c.Omitted {
			names[i] = string(comp)
		}
		w.line("# Not deployed (HTTP 404, gRPC UNIMPLEMENTED): %s.", strings.Join(names, ", "))
	}
	if c.User != "" {
		w.line("user %s;", c.User)
	}
	w.line("worker_processes auto;")
	w.line("pid %s;", c.PIDFile)
	w.line("error_log %s %s;", c.ErrorLog, c.ErrorLogLevel)
	w.line("worker_shutdown_timeout %s;", seconds(c.WorkerShutdownTimeout))
	w.line("")
	w.open("events")
	w.line("worker_connections %d;", c.WorkerConnections)
	w.close()
	w.line("")
	w.open("http")
	w.line("server_tokens off;")
	w.line("default_type application/octet-stream;")
	w.line("log_format tts_json escape=json '{'")
	for i, f := range logFields {
		sep := ","
		if i == len(logFields)-1 {
			sep = ""
		}
		w.line("  '\"%s\":\"%s\"%s'", f[0], f[1], sep)
	}
	w.line("  '}';")
	w.line("access_log %s tts_json;", c.AccessLog)
	if c.TempDir != "" {
		for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
			w.line("%s_temp_path %s;", t, filepath.Join(c.TempDir, t))
		}
	}
	w.line("client_max_body_size %s;", MaxBodySize)
	w.line("keepalive_timeout 75s;")
	w.line("http2_max_concurrent_streams 256;")
	w.line("# Stream responses as they come (events, storage integration, gRPC).")
	w.line("proxy_buffering off;")
	w.line("proxy_http_version 1.1;")
	w.line("proxy_connect_timeout 10s;")
	w.line("proxy_read_timeout 120s;")
	w.line("proxy_send_timeout 120s;")
	w.line("grpc_connect_timeout 10s;")
	w.line("grpc_read_timeout %s;", seconds(c.StreamTimeout))
	w.line("grpc_send_timeout %s;", seconds(c.StreamTimeout))
	w.line("ssl_protocols TLSv1.2 TLSv1.3;")
	w.line("ssl_ciphers %s;", strings.Join(tlsCiphers, ":"))
	w.line("ssl_prefer_server_ciphers off;")
	w.line("ssl_session_cache shared:tts_tls:10m;")
	w.line("ssl_session_timeout 1d;")
	w.line("ssl_session_tickets off;")
	if c.ProxyProtocol {
		for _, cidr := range c.TrustedProxyCIDRs {
			w.line("set_real_ip_from %s;", cidr)
		}
		w.line("real_ip_header proxy_protocol;")
	}
	w.line("")
	w.line("# WebSocket upgrades pass through; other requests keep upstream connections alive.")
	w.open("map $http_upgrade $connection_upgrade")
	w.line("default upgrade;")
	w.line("'' '';")
	w.close()
	w.line("")

	// Upstreams.
	for _, comp := range routes.UsedComponents() {
		if c.isOmitted(comp) {
			continue
		}
		u := c.Upstreams[comp]
		w.upstream(upstreamName(comp, "http"), u.HTTP)
		w.upstream(upstreamName(comp, "grpc"), u.GRPC)
	}
	if c.interop() {
		w.upstream(upstreamName(ports.IdentityServer, "interop"), c.Upstreams[ports.IdentityServer].Interop)
	}

	pp := ""
	if c.ProxyProtocol {
		pp = " proxy_protocol"
	}

	// Health.
	w.line("# Health check for the load balancer; independent of upstreams.")
	w.open("server")
	w.line("listen %s;", c.addr(c.Listen.Health))
	w.line("access_log off;")
	w.open("location = %s", HealthPath)
	w.line("default_type text/plain;")
	w.line("return 200 \"ok\\n\";")
	w.close()
	w.open("location /")
	w.line("return 404;")
	w.close()
	w.close()
	w.line("")

	// Redirect.
	w.line("# Plain HTTP: redirect to https.")
	w.open("server")
	w.line("listen %s%s;", c.addr(c.Listen.Redirect), pp)
	w.open("location /")
	if c.PublicHTTPSPort == DefaultHTTPSPort {
		w.line("return 301 https://$host$request_uri;")
	} else {
		w.line("return 301 https://$host:%d$request_uri;", c.PublicHTTPSPort)
	}
	w.close()
	w.close()
	w.line("")

	// Plain HTTP behind the NLB's TLS listener on 443.
	w.line("# HTTP API, Console, OAuth: plain, behind the load balancer's TLS listener.")
	w.open("server")
	w.line("listen %s%s;", c.addr(c.Listen.HTTP), pp)
	w.httpLocations(c, routes, "https")
	w.close()
	w.line("")

	// Plain gRPC (h2c) behind the NLB's TLS listener on 8884.
	w.line("# gRPC: HTTP/2 without TLS, behind the load balancer's TLS listener.")
	w.open("server")
	w.line("listen %s http2%s;", c.addr(c.Listen.GRPC), pp)
	w.grpcLocations(c, routes)
	w.close()

	if c.SupportProxyTLS {
		w.line("")
		w.line("# HTTPS: TLS terminated here; HTTP/2 and HTTP/1.1.")
		w.open("server")
		w.line("listen %s ssl http2%s;", c.addr(c.Listen.HTTPS), pp)
		w.tlsCert(c)
		w.httpLocations(c, routes, "https")
		w.close()
	}
	if c.interop() {
		w.line("")
		w.line("# Backend Interfaces: TLS terminated here, forwarded to the IS unchanged.")
		w.open("server")
		w.line("listen %s ssl%s;", c.addr(c.Listen.Interop), pp)
		w.tlsCert(c)
		switch c.ClientCert.Mode {
		case ClientCertOptional:
			w.line("ssl_verify_client optional;")
		case ClientCertRequired:
			w.line("ssl_verify_client on;")
		}
		if c.ClientCert.Mode != ClientCertOff {
			w.line("ssl_client_certificate %s;", c.ClientCert.CAFile)
			w.line("ssl_verify_depth %d;", c.ClientCert.VerifyDepth)
		}
		cert := ""
		if c.ClientCert.Mode != ClientCertOff {
			cert = "$ssl_client_escaped_cert"
		}
		w.proxyHeaders(c, "https", cert)
		w.open("location /")
		w.line("proxy_pass http://%s;", upstreamName(ports.IdentityServer, "interop"))
		w.close()
		w.close()
	}
	w.close()
	return w.String(), nil
}

// CloudWatch Logs filter patterns over the proxy's log (its container's
// stdout and stderr): AccessLogFilter matches every access log line (the
// JSON lines of logFields, which have a status; nginx's error log lines are
// not JSON), ServerErrorFilter those answered with a 5xx status. The proxy's
// metric filters count them (stacks.ProxyMetricNamespace).
const (
	AccessLogFilter   = `{ $.status = "*" }`
	ServerErrorFilter = `{ $.status = "5*" }`
)

// logFields are the JSON access log fields.
var logFields = [][2]string{
	{"time", "$time_iso8601"},
	{"remote_addr", "$remote_addr"},
	{"server_port", "$server_port"},
	{"host", "$host"},
	{"method", "$request_method"},
	{"uri", "$request_uri"},
	{"protocol", "$server_protocol"},
	{"status", "$status"},
	{"bytes_sent", "$body_bytes_sent"},
	{"request_time", "$request_time"},
	{"upstream", "$upstream_addr"},
	{"upstream_status", "$upstream_status"},
	{"upstream_time", "$upstream_response_time"},
	{"grpc_status", "$upstream_trailer_grpc_status"},
	{"tls", "$ssl_protocol"},
	{"client_verify", "$ssl_client_verify"},
	{"user_agent", "$http_user_agent"},
	{"request_id", "$request_id"},
}

// tlsCiphers is the TLS 1.2 cipher list of Mozilla's "intermediate" profile
// (TLS 1.3 suites are not configurable this way and are all modern).
var tlsCiphers = []string{
	"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
	"DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384",
}

func upstreamName(c ports.Component, kind string) string {
	return "tts_" + string(c) + "_" + kind
}

func seconds(d time.Duration) string {
	s := int64(d / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10) + "s"
}

func (c Config) addr(port int) string {
	if c.ListenAddress == "" {
		return strconv.Itoa(port)
	}
	return net.JoinHostPort(c.ListenAddress, strconv.Itoa(port))
}

type confWriter struct {
	b     strings.Builder
	depth int
}

func (w *confWriter) line(format string, args ...any) {
	s := format
	if len(args) > 0 {
		s = fmt.Sprintf(format, args...)
	}
	if s == "" {
		w.b.WriteString("\n")
		return
	}
	w.b.WriteString(strings.Repeat("    ", w.depth))
	w.b.WriteString(s)
	w.b.WriteString("\n")
}

func (w *confWriter) open(format string, args ...any) {
	w.line("%s {", fmt.Sprintf(format, args...))
	w.depth++
}

func (w *confWriter) close() {
	w.depth--
	w.line("}")
}

func (w *confWriter) String() string { return w.b.String() }

func (w *confWriter) upstream(name, addr string) {
	w.open("upstream %s", name)
	w.line("server %s;", addr)
	w.line("keepalive 16;")
	w.close()
}

func (w *confWriter) tlsCert(c Config) {
	w.line("ssl_certificate %s;", filepath.Join(c.CertDir, CertFile))
	w.line("ssl_certificate_key %s;", filepath.Join(c.CertDir, KeyFile))
}

// proxyHeaders sets the headers TTS reads from trusted proxies
// (http.trusted-proxies): X-Real-IP for the client address, X-Forwarded-Proto
// and X-Forwarded-Host for the public URL. The Host header and everything else
// the client sent pass through unchanged.
func (w *confWriter) proxyHeaders(c Config, scheme, clientCert string) {
	w.line("proxy_set_header Host $http_host;")
	w.line("proxy_set_header X-Real-IP $remote_addr;")
	w.line("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
	w.line("proxy_set_header X-Forwarded-Proto %s;", scheme)
	w.line("proxy_set_header X-Forwarded-Host $http_host;")
	w.line("proxy_set_header Upgrade $http_upgrade;")
	w.line("proxy_set_header Connection $connection_upgrade;")
	if clientCert == "" {
		w.line("# Clients must not forge the verified client certificate.")
		clientCert = `""`
	}
	w.line("proxy_set_header %s %s;", c.ClientCert.Header, clientCert)
}

func (w *confWriter) httpLocations(c Config, routes Routes, scheme string) {
	w.proxyHeaders(c, scheme, "")
	for _, d := range routes.Deny {
		w.open("location %s", d)
		w.line("return 404;")
		w.close()
	}
	for _, h := range routes.sortedHTTP() {
		if h.Exact {
			w.open("location = %s", h.Prefix)
		} else {
			w.open("location %s", h.Prefix)
		}
		if c.isOmitted(h.Component) {
			w.line("default_type text/plain;")
			w.line("return 404 \"%s\\n\";", omittedMessage(h.Component))
			w.close()
			continue
		}
		if h.Stream {
			w.line("proxy_read_timeout %s;", seconds(c.StreamTimeout))
			w.line("proxy_send_timeout %s;", seconds(c.StreamTimeout))
		}
		w.line("proxy_pass http://%s;", upstreamName(h.Component, "http"))
		w.close()
	}
}

func (w *confWriter) grpcLocations(c Config, routes Routes) {
	w.line("grpc_set_header X-Real-IP $remote_addr;")
	w.line("grpc_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
	w.line("grpc_set_header %s \"\";", c.ClientCert.Header)
	grpcs := slices.Clone(routes.GRPC)
	slices.SortStableFunc(grpcs, func(a, b GRPCRoute) int { return strings.Compare(a.Service, b.Service) })
	for _, g := range grpcs {
		w.open("location /%s/", g.Service)
		if c.isOmitted(g.Component) {
			w.line("default_type application/grpc;")
			w.line("add_header grpc-status 12 always;")
			w.line("add_header grpc-message \"%s\" always;", omittedMessage(g.Component))
			w.line("return 200;")
		} else {
			w.line("grpc_pass grpc://%s;", upstreamName(g.Component, "grpc"))
		}
		w.close()
	}
	w.line("# Unknown and inter-component services: gRPC status UNIMPLEMENTED (12).")
	w.open("location /")
	w.line("default_type application/grpc;")
	w.line("add_header grpc-status 12 always;")
	w.line("add_header grpc-message \"service not routed by the proxy\" always;")
	w.line("return 200;")
	w.close()
}
