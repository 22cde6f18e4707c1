package ttsconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// Folders of the TTS image (thethingsnetwork/lorawan-stack, /srv/ttn-lorawan)
// that the components read instead of fetching the same files from GitHub at
// run time. A run of the binary outside the image substitutes its own copies
// for these values.
const (
	// ImageFrequencyPlansDir holds the frequency plans the release pins
	// (TheThingsNetwork/lorawan-frequency-plans).
	ImageFrequencyPlansDir = "/srv/ttn-lorawan/lorawan-frequency-plans"
	// ImageWebhookTemplatesDir holds the Application Server's webhook
	// templates (TheThingsNetwork/lorawan-webhook-templates).
	ImageWebhookTemplatesDir = "/srv/ttn-lorawan/lorawan-webhook-templates"
	// ImageDeviceIndexDir holds the Device Repository's search index
	// (index.bleve), built from TheThingsNetwork/lorawan-devices when the
	// image was made (Dockerfile: COPY data/lorawan-devices-index).
	ImageDeviceIndexDir = "/srv/ttn-lorawan/lorawan-devices-index"
	// DeviceAssetsBaseURL is where browsers load the pictures of the
	// Device Repository's brands and models (dr.assets-base-url): the image
	// ships the index, not the pictures. It is TTS's default, set
	// explicitly so that the only GitHub URL of the configuration is a
	// visible choice; no component fetches it.
	DeviceAssetsBaseURL = "https://raw.githubusercontent.com/TheThingsNetwork/lorawan-devices/master"
)

// Ref names a value that exists only at deploy time (an attribute of a
// resource); the stack that turns the plan into resources supplies it.
type Ref string

// Deploy-time values.
const (
	RefRedisAddress   Ref = "redis-address"   // host:port of the Redis primary endpoint
	RefPicturesBucket Ref = "pictures-bucket" // name of the bucket of the IS's pictures
	RefInteropBucket  Ref = "interop-bucket"  // name of the interop repository bucket
	RefPicturesURL    Ref = "pictures-url"    // https:// URL of the pictures' distribution
)

// Secret names a Secrets Manager secret whose whole SecretString is the value.
type Secret string

// Secrets the configuration references.
const (
	SecretClusterKeys    Secret = "cluster-keys"
	SecretCookieHashKey  Secret = "http-cookie-hash-key"
	SecretCookieBlockKey Secret = "http-cookie-block-key"
	SecretConsoleOAuth   Secret = "console-oauth-client-secret"
	SecretRedisPassword  Secret = "redis-auth-token"
	SecretDatabaseURI    Secret = "database-uri"
	// SecretSMTPCredentials is a JSON object (deployres.SMTPCredentials);
	// settings name its member by SecretKey.
	SecretSMTPCredentials Secret = "smtp-credentials"
	// SecretPBAAPIKey is the operator's Packet Broker API key
	// (PacketBrokerApiKeySecret), a JSON object with the members
	// PBAKeyIDMember and PBAKeySecretMember; SecretPBATokenKey is the
	// generated forwarder token key.
	SecretPBAAPIKey   Secret = "pba-api-key"
	SecretPBATokenKey Secret = "pba-forwarder-token-key"
	// SecretMetricsPassword protects every component's /metrics.
	SecretMetricsPassword Secret = "http-metrics-password"
)

// The members of the Packet Broker API key secret.
const (
	PBAKeyIDMember     = "id"
	PBAKeySecretMember = "secret"
)

// Setting is one configuration key of one component. Exactly one of Value (a
// literal, possibly empty), Ref and Secret gives the value; SecretKey names
// a member of a JSON secret ("" for the whole SecretString).
type Setting struct {
	Key       string
	Value     string
	Ref       Ref
	Secret    Secret
	SecretKey string
}

// Env returns the environment variable TTS reads the setting from.
func (s Setting) Env() string { return EnvName(s.Key) }

// Kind tells where the value lives in the deployment.
func (s Setting) Kind() string {
	switch {
	case s.Secret != "":
		return "secret"
	case s.Ref != "":
		return "parameter"
	case s.Value == "":
		// Parameter Store cannot hold an empty string; these are constants.
		return "environment"
	}
	return "parameter"
}

// Inputs are what the plan is made from: parameters of the deployment.
type Inputs struct {
	// DomainName is the public host name.
	DomainName string
	// Region of the deployment (blob.aws.region).
	Region string
	// ServiceDomain is the internal name space of the services, e.g.
	// "tts.local": component c is reachable at c.<ServiceDomain>.
	ServiceDomain string
	// NetID, TenantID and NSID identify the network in Backend Interfaces
	// answers (TenantID and NSID may be empty).
	NetID, TenantID, NSID string
	// InteropEnabled: the IS serves Backend Interfaces on the interop row's plain port.
	InteropEnabled bool
	// PacketBroker: the IS accepts Packet Broker tokens.
	PacketBroker            bool
	PacketBrokerTokenIssuer string
	PublicTLSAddress        string
	// InteropPrefix is the folder of the interop repository in its bucket.
	InteropPrefix string
	// ConsoleClientID is the OAuth client id of the Console.
	ConsoleClientID string
	// RateLimitingDigest is the digest of the rate-limiting.yml deployed in
	// the interop repository's folder (ratelimit.Digest); every component
	// reads it at start, so it is part of every component's Digest.
	RateLimitingDigest string
	// EmailSender is the From address of the Identity Server's e-mail,
	// sent through the Amazon SES SMTP endpoint of Region; "" sends none.
	// EmailSenderName is its display name and the network's name in the
	// e-mail texts.
	EmailSender, EmailSenderName string
	// PBA runs the Packet Broker Agent; nil: it runs nowhere.
	PBA *PacketBrokerAgent
	// Pictures: the IS accepts picture uploads and links them under the
	// distribution's URL (RefPicturesURL).
	Pictures bool
}

// SMTPAddress is the Amazon SES SMTP endpoint of a region, on the STARTTLS
// port 587.
func SMTPAddress(region string) string {
	return net.JoinHostPort("email-smtp."+region+".amazonaws.com", "587")
}

// PacketBrokerAgent is the configuration of the Packet Broker Agent (pba).
// Its NetID and tenant id are the network's (Inputs.NetID, TenantID).
type PacketBrokerAgent struct {
	// DataPlaneAddress is host:port of the regional Packet Broker router.
	DataPlaneAddress string
	// ClusterID identifies this deployment within the NetID and tenant.
	ClusterID string
	// HomeNetwork subscribes to DevAddrPrefixes (not empty when on).
	HomeNetwork     bool
	DevAddrPrefixes []string
	// Forwarder: the GS forwards its gateways' uplinks to Packet Broker.
	Forwarder bool
	// Registration.
	Name, AdministrativeContact, TechnicalContact string
	Listed                                        bool
}

// Components returns the components the deployment runs: ports.Deployed,
// and the Packet Broker Agent when it is on.
func (in Inputs) Components() []ports.Component {
	out := ports.Deployed()
	if in.PBA != nil {
		out = append(out, ports.PacketBrokerAgent)
	}
	return out
}

// Plan is the configuration of every component.
type Plan struct {
	byComponent map[ports.Component][]Setting
	// extraDigest is mixed into every component's Digest.
	extraDigest string
}

// Settings returns the settings of a component, sorted by key.
func (p *Plan) Settings(c ports.Component) []Setting {
	out := append([]Setting(nil), p.byComponent[c]...)
	return out
}

// Keys returns every key the plan sets, sorted, each once.
func (p *Plan) Keys() []string {
	seen := map[string]bool{}
	var out []string
	for _, ss := range p.byComponent {
		for _, s := range ss {
			if !seen[s.Key] {
				seen[s.Key] = true
				out = append(out, s.Key)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Parameters returns the settings whose value lives in Parameter Store, by
// key across components, sorted by key. The plan never gives such a key two
// values, so one parameter per key serves every component that reads it.
func (p *Plan) Parameters() []Setting {
	by := map[string]Setting{}
	for _, ss := range p.byComponent {
		for _, s := range ss {
			if s.Kind() == "parameter" {
				by[s.Key] = s
			}
		}
	}
	out := make([]Setting, 0, len(by))
	for _, s := range by {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Digest summarises a component's settings (keys and literal values, and the
// names of references and secrets). A task definition that carries it is
// replaced, and its tasks restarted, when the configuration changes: TTS reads
// its configuration only at start.
func (p *Plan) Digest(c ports.Component) string {
	h := sha256.New()
	if p.extraDigest != "" {
		fmt.Fprintf(h, "rate-limiting.yml\x00%s\n", p.extraDigest)
	}
	for _, s := range p.byComponent[c] {
		if s.SecretKey != "" {
			fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\n", s.Key, s.Value, s.Ref, s.Secret, s.SecretKey)
			continue
		}
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\n", s.Key, s.Value, s.Ref, s.Secret)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// builder collects settings and refuses contradictions.
type builder struct {
	byComponent map[ports.Component][]Setting
}

func (b *builder) set(s Setting, cs ...ports.Component) {
	for _, c := range cs {
		b.byComponent[c] = append(b.byComponent[c], s)
	}
}

func (b *builder) lit(key, value string, cs ...ports.Component) {
	b.set(Setting{Key: key, Value: value}, cs...)
}
func (b *builder) ref(key string, r Ref, cs ...ports.Component) {
	b.set(Setting{Key: key, Ref: r}, cs...)
}
func (b *builder) secret(key string, s Secret, cs ...ports.Component) {
	b.set(Setting{Key: key, Secret: s}, cs...)
}
func (b *builder) secretKey(key string, s Secret, jsonKey string, cs ...ports.Component) {
	b.set(Setting{Key: key, Secret: s, SecretKey: jsonKey}, cs...)
}

// New makes the plan and checks every key against the TTS configuration
// reference (KnownKeys): TTS silently ignores a key it does not know.
//
// Where a value comes from: TTS documentation, "Configuration" reference
// pages, and the configuration structs of TTS (see SOURCES.md); the choices
// for this deployment are explained beside each group.
func New(in Inputs) (*Plan, error) {
	switch {
	case in.DomainName == "" || in.Region == "" || in.ServiceDomain == "":
		return nil, fmt.Errorf("ttsconfig: DomainName, Region and ServiceDomain are required")
	case in.InteropPrefix == "" || in.ConsoleClientID == "" || in.RateLimitingDigest == "":
		return nil, fmt.Errorf("ttsconfig: InteropPrefix, ConsoleClientID and RateLimitingDigest are required")
	case in.PBA != nil && in.PBA.HomeNetwork && len(in.PBA.DevAddrPrefixes) == 0:
		return nil, fmt.Errorf("ttsconfig: the Packet Broker home network role needs DevAddr prefixes")
	case in.PBA != nil && in.PBA.DataPlaneAddress == "":
		return nil, fmt.Errorf("ttsconfig: the Packet Broker Agent needs the data plane address")
	case in.PacketBroker && !in.InteropEnabled:
		return nil, fmt.Errorf("ttsconfig: Packet Broker interop needs interop enabled")
	case in.PacketBroker && in.PublicTLSAddress == "":
		return nil, fmt.Errorf("ttsconfig: Packet Broker interop needs a public TLS address (TTS refuses to start without)")
	case in.EmailSender != "" && in.EmailSenderName == "":
		return nil, fmt.Errorf("ttsconfig: EmailSenderName is required with EmailSender")
	}
	b := &builder{byComponent: map[ports.Component][]Setting{}}
	all := in.Components()
	// Components that keep state in Redis, publish events or share rate
	// limits there: all but the Console, which only serves the web
	// application.
	backend := []ports.Component{ports.IdentityServer, ports.GatewayServer, ports.NetworkServer, ports.ApplicationServer, ports.JoinServer, ports.GatewayConfigurationServer, ports.DeviceClaimingServer, ports.DeviceRepository}
	if in.PBA != nil {
		backend = append(backend, ports.PacketBrokerAgent)
	}
	addr := func(c ports.Component, port int) string {
		return net.JoinHostPort(string(c)+"."+in.ServiceDomain, strconv.Itoa(port))
	}
	base := "https://" + in.DomainName

	// Cluster: peers by their internal names, authenticated by the shared
	// cluster keys; gRPC between them is plain inside the VPC.
	b.secret("cluster.keys", SecretClusterKeys, all...)
	b.lit("cluster.identity-server", addr(ports.IdentityServer, ports.GRPC().Plain), all...)
	b.lit("cluster.gateway-server", addr(ports.GatewayServer, ports.GRPC().Plain), all...)
	b.lit("cluster.network-server", addr(ports.NetworkServer, ports.GRPC().Plain), all...)
	b.lit("cluster.application-server", addr(ports.ApplicationServer, ports.GRPC().Plain), all...)
	b.lit("cluster.join-server", addr(ports.JoinServer, ports.GRPC().Plain), all...)
	// The Device Repository is a peer too: the Application Server's
	// "repository" payload formatters and the Device Template Converter
	// (started by dcs) ask it for codecs and profiles
	// (pkg/messageprocessors/devicerepository, pkg/devicetemplateconverter).
	b.lit("cluster.device-repository", addr(ports.DeviceRepository, ports.GRPC().Plain), all...)
	b.lit("grpc.allow-insecure-for-credentials", "true", all...)

	// TLS is terminated by the load balancer or the proxy: every TLS
	// listener is off (an empty address), or TTS fails at start looking for
	// its certificate.
	b.lit("grpc.listen-tls", "", all...)
	b.lit("http.listen-tls", "", all...)
	b.lit("interop.listen-tls", "", all...)
	b.lit("gs.mqtt.listen-tls", "", ports.GatewayServer)
	b.lit("gs.mqtt-v2.listen-tls", "", ports.GatewayServer)
	b.lit("gs.basic-station.listen-tls", "", ports.GatewayServer)
	b.lit("as.mqtt.listen-tls", "", ports.ApplicationServer)
	// The Things Industries gateway protocol (gs.ttigw, v3.32.0) listens on
	// :1889 and :8889 by default. Neither port is in the port table (no
	// load balancer listener reaches it), and the TLS one logs a failing
	// task forever without a certificate: both off.
	b.lit("gs.ttigw.listen", "", ports.GatewayServer)
	b.lit("gs.ttigw.listen-tls", "", ports.GatewayServer)

	// State, caches and events, all in the one Redis replication group.
	// The cache (NS deduplication, AS traffic, IS telemetry) and the events
	// backend have their own Redis settings, which default to localhost.
	for _, prefix := range []string{"redis.", "cache.redis.", "events.redis."} {
		b.ref(prefix+"address", RefRedisAddress, backend...)
		b.secret(prefix+"password", SecretRedisPassword, backend...)
		b.lit(prefix+"tls.require", "true", backend...)
	}
	b.lit("cache.service", "redis", backend...)
	b.lit("events.backend", "redis", backend...)
	// Blobs in S3: the Identity Server's pictures, the interop repository
	// of the Network and Application Server, and every component's rate
	// limiting profiles.
	b.lit("blob.provider", "aws", all...)
	b.lit("blob.aws.region", in.Region, all...)

	// Rate limiting (pkg/ratelimit): the profiles are a list, which only a
	// configuration file can hold (pkg/config skips []RateLimitingProfile
	// for flags and the environment), so every component fetches
	// rate-limiting.yml from the interop repository's folder of the interop
	// bucket at start (RateLimiting.Fetcher, config-source blob; a missing
	// file stops the component). The components with Redis share their
	// counters there (namespace rate-limiting of cache.redis, start.go
	// NewRateLimitingRedis), so a limit holds across tasks; the Console,
	// which has no Redis, counts in memory per task.
	b.lit("rate-limiting.config-source", "blob", all...)
	b.ref("rate-limiting.blob.bucket", RefInteropBucket, all...)
	b.lit("rate-limiting.blob.path", in.InteropPrefix, all...)
	b.lit("rate-limiting.provider", "redis", backend...)

	// Every component serves HTTP (pkg/web), and its cookies (web sessions
	// of the Console and the account application, OAuth state) must be
	// readable by every task behind the proxy: the keys are shared secrets,
	// not the random keys TTS makes at each start when they are unset.
	b.secret("http.cookie.hash-key", SecretCookieHashKey, all...)
	b.secret("http.cookie.block-key", SecretCookieBlockKey, all...)
	// Metrics (pkg/component/web.go): /metrics is on by default and open;
	// a password makes it basic auth with the user "metrics". The collector
	// in each task (package ttsmetrics) scrapes it with the same secret.
	b.lit("http.metrics.enable", "true", all...)
	b.secret("http.metrics.password", SecretMetricsPassword, all...)

	// Frequency plans: every component builds its frequency plan store at
	// start (pkg/component). Read them from the image, never from GitHub:
	// an explicit source, so that a missing folder is an error and not a
	// silent fallback to the URL (pkg/config FrequencyPlansConfig.Fetcher).
	b.lit("frequency-plans.config-source", "directory", all...)
	b.lit("frequency-plans.directory", ImageFrequencyPlansDir, all...)
	// Nor does any component ask thethingsindustries.com for a newer
	// release at every start (cmd/ttn-lw-stack root.go CheckUpdate): the
	// image is pinned, and the check only logs a warning without internet.
	b.lit("skip-version-check", "true", all...)

	// Device Repository: the bleve index of the image, and nothing else
	// (the default search paths also try ./lorawan-devices-index relative
	// to the working directory). dr.source and dr.directory only matter to
	// `ttn-lw-stack dr-db init`, which builds an index; the service never
	// runs it. The Console has no Device Repository URL of its own
	// (pkg/console StackConfig has none): its JavaScript SDK sends /dr/
	// requests to the Identity Server's base URL, /api/v3, which the proxy
	// routes to dr.
	b.lit("dr.store.bleve.search-paths", ImageDeviceIndexDir, ports.DeviceRepository)
	b.lit("dr.assets-base-url", DeviceAssetsBaseURL, ports.DeviceRepository)

	// Identity Server.
	b.secret("is.database-uri", SecretDatabaseURI, ports.IdentityServer)
	b.lit("is.oauth.ui.canonical-url", base+"/oauth", ports.IdentityServer)
	b.lit("is.oauth.ui.is.base-url", base+"/api/v3", ports.IdentityServer)
	b.lit("is.oauth.ui.console-url", base+"/console", ports.IdentityServer)
	b.lit("is.email.network.console-url", base+"/console", ports.IdentityServer)
	b.lit("is.email.network.identity-server-url", base+"/oauth", ports.IdentityServer)
	// E-mail through Amazon SES's SMTP interface (pkg/email/smtp, the
	// gopkg.in/mail.v2 dialer): on port 587 it upgrades with STARTTLS
	// whenever the server offers it, which SES always does, verifying the
	// certificate for the host name with Go's defaults (TLS 1.2 at least),
	// and net/smtp's PLAIN auth refuses to send credentials over an
	// unencrypted connection to a host other than localhost. The images of
	// the e-mail come from the Console's assets (the TTS default is
	// localhost).
	b.lit("is.email.network.assets-base-url", base+"/assets", ports.IdentityServer)
	if in.EmailSender != "" {
		b.lit("is.email.provider", "smtp", ports.IdentityServer)
		b.lit("is.email.smtp.address", SMTPAddress(in.Region), ports.IdentityServer)
		b.secretKey("is.email.smtp.username", SecretSMTPCredentials, "username", ports.IdentityServer)
		b.secretKey("is.email.smtp.password", SecretSMTPCredentials, "password", ports.IdentityServer)
		b.lit("is.email.sender-address", in.EmailSender, ports.IdentityServer)
		b.lit("is.email.sender-name", in.EmailSenderName, ports.IdentityServer)
		b.lit("is.email.network.name", in.EmailSenderName, ports.IdentityServer)
	}
	// Pictures: the IS stores uploads in the pictures bucket, at keys
	// <id>.<ULID>/<size>.<ext> (pkg/identityserver picture.go and
	// picture/picture.go: no folder), and links each as bucket-url + "/" +
	// key (setFullProfilePictureURL). With Pictures a CloudFront
	// distribution, the only reader of those keys, serves the bucket at
	// RefPicturesURL. Without, uploads are off (the IS refuses them with
	// "uploads are disabled") and no URL is advertised; profile pictures
	// fall back to Gravatar (is.profile-picture.use-gravatar).
	b.ref("is.profile-picture.bucket", RefPicturesBucket, ports.IdentityServer)
	b.ref("is.end-device-picture.bucket", RefPicturesBucket, ports.IdentityServer)
	if in.Pictures {
		b.lit("is.profile-picture.disable-upload", "false", ports.IdentityServer)
		b.ref("is.profile-picture.bucket-url", RefPicturesURL, ports.IdentityServer)
		b.lit("is.end-device-picture.disable-upload", "false", ports.IdentityServer)
		b.ref("is.end-device-picture.bucket-url", RefPicturesURL, ports.IdentityServer)
	} else {
		b.lit("is.profile-picture.disable-upload", "true", ports.IdentityServer)
		b.lit("is.profile-picture.bucket-url", "", ports.IdentityServer)
		b.lit("is.end-device-picture.disable-upload", "true", ports.IdentityServer)
		b.lit("is.end-device-picture.bucket-url", "", ports.IdentityServer)
	}

	// Backend Interfaces on the IS.
	if in.InteropEnabled {
		b.lit("interop.listen", ":"+strconv.Itoa(ports.Interop().Plain), ports.IdentityServer)
		if in.PublicTLSAddress != "" {
			b.lit("interop.public-tls-address", in.PublicTLSAddress, ports.IdentityServer)
		}
		b.lit("is.network.net-id", in.NetID, ports.IdentityServer)
		if in.TenantID != "" {
			b.lit("is.network.tenant-id", in.TenantID, ports.IdentityServer)
		}
		if in.NSID != "" {
			b.lit("is.network.ns-id", in.NSID, ports.IdentityServer)
		}
	} else {
		b.lit("interop.listen", "", ports.IdentityServer)
	}
	if in.PacketBroker {
		b.lit("interop.packet-broker.enabled", "true", ports.IdentityServer)
		b.lit("interop.packet-broker.token-issuer", in.PacketBrokerTokenIssuer, ports.IdentityServer)
	}
	if pb := in.PBA; pb != nil {
		b.packetBrokerAgent(in, pb, all, addr(ports.PacketBrokerAgent, ports.GRPC().Plain))
	}
	// No other component serves Backend Interfaces here.
	b.lit("interop.listen", "", others(all, ports.IdentityServer)...)

	// Network Server and Application Server: external Join Servers from the
	// interop repository in the bucket.
	b.lit("ns.net-id", in.NetID, ports.NetworkServer)
	if in.NSID != "" {
		b.lit("ns.interop.id", in.NSID, ports.NetworkServer)
	}
	for _, c := range []ports.Component{ports.NetworkServer, ports.ApplicationServer} {
		p := string(c) + ".interop."
		b.lit(p+"config-source", "blob", c)
		b.ref(p+"blob.bucket", RefInteropBucket, c)
		b.lit(p+"blob.path", in.InteropPrefix, c)
	}

	// Application Server webhooks: the downlink URLs given to webhook
	// receivers (X-Downlink-Push/-Replace: <address>/as/applications/...,
	// pkg/applicationserver/io/web) are public, through the proxy, which
	// routes /api/v3/as/ to the AS. Templates come from the image; an
	// empty URL leaves no fallback to GitHub (TemplatesConfig).
	b.lit("as.webhooks.downlink.public-address", base+"/api/v3", ports.ApplicationServer)
	b.lit("as.webhooks.templates.directory", ImageWebhookTemplatesDir, ports.ApplicationServer)
	b.lit("as.webhooks.templates.url", "", ports.ApplicationServer)

	// Console: public URLs for the browser, the token exchange inside.
	b.lit("console.ui.canonical-url", base+"/console", ports.Console)
	b.lit("console.ui.account-url", base+"/oauth", ports.Console)
	for _, api := range []string{"is", "gs", "ns", "as", "js", "edtc", "qrg", "gcs", "dcs"} {
		b.lit("console.ui."+api+".base-url", base+"/api/v3", ports.Console)
	}
	b.lit("console.oauth.authorize-url", base+"/oauth/authorize", ports.Console)
	b.lit("console.oauth.logout-url", base+"/oauth/logout", ports.Console)
	b.lit("console.oauth.token-url", "http://"+addr(ports.IdentityServer, ports.HTTP().Plain)+"/oauth/token", ports.Console)
	b.lit("console.oauth.client-id", in.ConsoleClientID, ports.Console)
	b.secret("console.oauth.client-secret", SecretConsoleOAuth, ports.Console)

	plan, err := b.finish()
	if err != nil {
		return nil, err
	}
	plan.extraDigest = in.RateLimitingDigest
	return plan, nil
}

// packetBrokerAgent configures the Packet Broker Agent (pkg/packetbrokeragent
// Config; defaults in cmd/internal/shared/packetbrokeragent) and tells the
// others where it is: the Gateway Server forwards uplinks to it (the
// "packetbroker" upstream of gs.forward, which reaches the agent through
// cluster.packet-broker-agent, pkg/gatewayserver New), the Network Server
// sends downlinks for Packet Broker gateways to it (NsPba), and the agent
// delivers uplinks for this network to the Network Server and downlinks to
// the Gateway Server through the cluster.
func (b *builder) packetBrokerAgent(in Inputs, pb *PacketBrokerAgent, all []ports.Component, address string) {
	pba := ports.PacketBrokerAgent
	b.lit("cluster.packet-broker-agent", address, all...)
	b.lit("pba.net-id", in.NetID, pba)
	if in.TenantID != "" {
		b.lit("pba.tenant-id", in.TenantID, pba)
	}
	if pb.ClusterID != "" {
		b.lit("pba.cluster-id", pb.ClusterID, pba)
	}
	b.lit("pba.data-plane-address", pb.DataPlaneAddress, pba)
	// IAM, control plane and mapper: TTS's defaults (*.packetbroker.net);
	// OAuth2 client credentials: the API key.
	b.lit("pba.authentication-mode", "oauth2", pba)
	b.secretKey("pba.oauth2.client-id", SecretPBAAPIKey, PBAKeyIDMember, pba)
	b.secretKey("pba.oauth2.client-secret", SecretPBAAPIKey, PBAKeySecretMember, pba)
	if pb.Name != "" {
		b.lit("pba.registration.name", pb.Name, pba)
	}
	if pb.AdministrativeContact != "" {
		b.lit("pba.registration.administrative-contact.email", pb.AdministrativeContact, pba)
	}
	if pb.TechnicalContact != "" {
		b.lit("pba.registration.technical-contact.email", pb.TechnicalContact, pba)
	}
	b.lit("pba.registration.listed", strconv.FormatBool(pb.Listed), pba)
	b.lit("pba.home-network.enable", strconv.FormatBool(pb.HomeNetwork), pba)
	if pb.HomeNetwork {
		// TTS's default is 00000000/0 (every DevAddr), not the NetID's
		// prefix: always explicit. A list is read from the environment
		// as space-separated values.
		b.lit("pba.home-network.dev-addr-prefixes", strings.Join(pb.DevAddrPrefixes, " "), pba)
	}
	b.lit("pba.forwarder.enable", strconv.FormatBool(pb.Forwarder), pba)
	if pb.Forwarder {
		// Without a key the agent makes a random one per task and logs it:
		// tokens of one task would not decrypt in another.
		b.secret("pba.forwarder.token-key", SecretPBATokenKey, pba)
		// The default forwards every uplink to the cluster's Network
		// Server (the "" upstream); Packet Broker gets them as well.
		// key=value pairs, space-separated (pkg/config hooks).
		b.lit("gs.forward", "=00000000/0 packetbroker=00000000/0", ports.GatewayServer)
	}
}

// others returns the components of all but the excluded ones.
func others(all []ports.Component, excluded ...ports.Component) []ports.Component {
	var out []ports.Component
	for _, c := range all {
		if !slices.Contains(excluded, c) {
			out = append(out, c)
		}
	}
	return out
}

func (b *builder) finish() (*Plan, error) {
	byKey := map[string]Setting{}
	var errs diag.List
	for c, ss := range b.byComponent {
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].Key < ss[j].Key })
		for i, s := range ss {
			if i > 0 && ss[i-1].Key == s.Key {
				errs.Errorf("ttsconfig.duplicate-setting", s.Key, "is set twice for %s", c)
			}
			if prev, ok := byKey[s.Key]; ok && prev != s && prev.Kind() != "environment" && s.Kind() != "environment" {
				errs.Errorf("ttsconfig.conflicting-values", s.Key, "has two different values (%+v and %+v)", prev, s)
			}
			byKey[s.Key] = s
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// The components are a map: sort the problems so that the error is the
	// same on every run.
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].String() < errs[j].String() })
	errs.Add(diag.FromError(Check(keys...))...)
	if err := errs.Err(); err != nil {
		return nil, fmt.Errorf("ttsconfig:\n%w", err)
	}
	return &Plan{byComponent: b.byComponent}, nil
}

// SecretLogFields returns the log fields in which component c writes a
// credential at INFO level, as its own code does: the Identity Server logs
// every temporary password it creates (pkg/identityserver/user_registry.go,
// createTemporaryPassword: "Created temporary password" with the field
// temporary_password), valid for an hour and good for a password change. The
// service's log group masks these fields (fargateservice.TaskProps
// MaskedLogFields), so that reading the logs is not a way into accounts.
func SecretLogFields(c ports.Component) []string {
	if c == ports.IdentityServer {
		return []string{"temporary_password"}
	}
	return nil
}

// componentsWithSettings returns the components the plan configures, sorted.
func (p *Plan) componentsWithSettings() []ports.Component {
	out := make([]ports.Component, 0, len(p.byComponent))
	for c := range p.byComponent {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
