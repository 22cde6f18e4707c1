// Package params is the one typed parameter model of the app.
//
// An environment is a YAML file (params/NAME.yaml) whose top-level keys are the
// fields of Params. Every field is documented here, in its struct tags, and the
// README's parameter reference is generated from these tags (see Reference).
//
// Tags:
//
//	yaml:"Name"      the key in the file and in `-c Name=value`
//	default:"..."    the value when the key is absent ("" when there is none)
//	required:"true"  the key must be given
//	doc:"..."        one sentence or two for the reference
package params

import (
	"io/fs"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/imageref"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ratelimit"
)

// Params is the whole configuration of one environment. Constructs never read
// it from context or the environment: stacks hand the fields they need down as
// typed props.
type Params struct {
	// Identity and placement.
	StackPrefix       string   `yaml:"StackPrefix" required:"true" doc:"Prefix of every stack name (<prefix>-Network, ...) and of named resources. Letters, digits and hyphens, starting with a letter, at most 24 characters. Changing it creates a new, separate deployment."`
	Account           string   `yaml:"Account" required:"true" doc:"AWS account id (12 digits) the stacks are deployed to."`
	Region            string   `yaml:"Region" required:"true" doc:"AWS region, e.g. eu-west-1."`
	AvailabilityZones []string `yaml:"AvailabilityZones" default:"<Region>a,<Region>b" doc:"Availability zones used by the VPC, the load balancer and the data tier; at least 2, all in Region. Set explicitly so that synthesis needs no AWS lookup."`
	NatGateways       int      `yaml:"NatGateways" default:"2" doc:"Number of NAT gateways, 1 to the number of availability zones. One per zone survives the loss of a zone; 1 is cheaper."`

	// DNS.
	DomainName     string `yaml:"DomainName" required:"true" doc:"Public host name of the deployment (Console, APIs, gateways, Backend Interfaces). Records for it and for *.DomainName are created in the hosted zone."`
	HostedZoneId   string `yaml:"HostedZoneId" required:"true" doc:"Id of the existing Route 53 public hosted zone that holds DomainName (imported, no lookup)."`
	HostedZoneName string `yaml:"HostedZoneName" required:"true" doc:"Name of that hosted zone; DomainName must be the zone name or below it."`

	// The Things Stack.
	TTSImage string `yaml:"TTSImage" default:"thethingsnetwork/lorawan-stack:3.32.1" doc:"Container image of The Things Stack, with a pinned tag or digest. The tag latest is refused: ECS re-pulls moving tags and tasks would run different versions."`
	NetID    string `yaml:"NetID" default:"000000" doc:"LoRaWAN NetID of the network, 6 hex digits (is.network.net-id and ns.net-id). 000000 and 000001 are the experimental NetIDs."`
	TenantID string `yaml:"TenantID" default:"" doc:"Tenant id announced in Backend Interfaces answers (is.network.tenant-id). Lowercase letters, digits and hyphens; empty for none."`
	NSID     string `yaml:"NSID" default:"" doc:"EUI-64 of the Network Server, 16 hex digits (is.network.ns-id, sent as HNSID in Backend Interfaces 1.1 answers). Empty for none."`
	// AdminEmail is read by the Identity Server's database bootstrap.
	AdminEmail string `yaml:"AdminEmail" default:"admin@<DomainName>" doc:"E-mail address of the administrator user admin, which the Identity Server's start-up creates (or updates) in the database; its password is generated into Secrets Manager (<prefix>/tts/admin-password)."`

	// TLS and interoperability.
	SupportProxyTLS                bool     `yaml:"SupportProxyTLS" default:"false" doc:"false: the Network Load Balancer terminates TLS on 443 and 8886 with an ACM certificate. true: the reverse proxy terminates TLS with a Let's Encrypt certificate from Certbot, which is needed to authenticate Backend Interfaces peers by TLS client certificate."`
	CertificateArn                 string   `yaml:"CertificateArn" default:"" doc:"ARN of an existing ACM certificate for DomainName and *.DomainName, in Region. Empty: the stack creates one and validates it by DNS in the hosted zone."`
	AcmeEmail                      string   `yaml:"AcmeEmail" default:"" doc:"E-mail address of the Let's Encrypt (ACME) account. Required when SupportProxyTLS is true. Let's Encrypt refuses addresses in domains reserved for examples (example.com, .test, ...); synth warns about them."`
	AcmeDirectory                  string   `yaml:"AcmeDirectory" default:"production" doc:"ACME directory Certbot uses when SupportProxyTLS is true: production (Let's Encrypt), staging (Let's Encrypt's test CA, untrusted certificates, generous rate limits: try it first), or the https:// URL of another ACME directory."`
	CertificateRenewDays           int      `yaml:"CertificateRenewDays" default:"30" doc:"With SupportProxyTLS: the Certbot task issues a new certificate when fewer days than this are left (7 to 60; Let's Encrypt certificates last 90 days)."`
	CertificateRenewSchedule       string   `yaml:"CertificateRenewSchedule" default:"rate(12 hours)" doc:"With SupportProxyTLS: EventBridge schedule of the Certbot task, rate(...) of 1 to 24 hours or cron(...). A run that finds the certificate not due exits at once; at least one run a day keeps the DaysToExpiry alarm fed."`
	AlarmEmail                     string   `yaml:"AlarmEmail" default:"" doc:"E-mail address subscribed to the alarm topic, which every alarm of the deployment notifies in both TLS modes (services below their task count, target groups without healthy targets, database and Redis, certificates, proxy errors, Lambda errors). Empty: no subscription, subscribe to the topic yourself. The address must confirm the subscription."`
	InteropEnabled                 bool     `yaml:"InteropEnabled" default:"false" doc:"Serve LoRaWAN Backend Interfaces on port 8886: the Identity Server answers HomeNSReq for Packet Broker and other networks. The Identity Server's own interop switch is derived from it."`
	InteropPacketBrokerEnabled     bool     `yaml:"InteropPacketBrokerEnabled" default:"false" doc:"Accept Backend Interfaces requests from Packet Broker, authenticated by an OAuth2 bearer token. Needs InteropEnabled."`
	InteropPacketBrokerTokenIssuer string   `yaml:"InteropPacketBrokerTokenIssuer" default:"https://iam.packetbroker.net" doc:"Issuer that Packet Broker tokens must carry, exactly (interop.packet-broker.token-issuer)."`
	InteropPublicTLSAddress        string   `yaml:"InteropPublicTLSAddress" default:"https://<DomainName>:8886" doc:"Public address of the Backend Interfaces endpoint (interop.public-tls-address). Packet Broker tokens must name it in their audience, exactly. Set it to an empty string only if there is no public endpoint; Packet Broker interop then cannot work."`
	GatewayIngressCidrs            []string `yaml:"GatewayIngressCidrs" default:"0.0.0.0/0" doc:"IPv4 CIDRs allowed to reach the gateway ports (UDP 1700, MQTT 8881 and 8882, LoRa Basics Station 8887). Default: the internet."`
	ApplicationIngressCidrs        []string `yaml:"ApplicationIngressCidrs" default:"0.0.0.0/0" doc:"IPv4 CIDRs allowed to reach the Console, the APIs and application data (80, 443, gRPC 8884, MQTT 8883). Default: the internet."`
	InteropIngressCidrs            []string `yaml:"InteropIngressCidrs" default:"0.0.0.0/0" doc:"IPv4 CIDRs allowed to reach Backend Interfaces on 8886 (Packet Broker and peer networks). Default: the internet."`
	PlainPortsEnabled              bool     `yaml:"PlainPortsEnabled" default:"false" doc:"Also expose the plain (unencrypted) ports 1881 to 1887 on the load balancer, for old gateways and tests. Off by default: everything public is TLS."`
	InteropRepository              string   `yaml:"InteropRepository" default:"" doc:"Folder of the interop repository (config.yml and one file per Join Server), relative to the parameter file. Empty: no Join Server is configured and an empty config.yml is deployed."`
	InteropClientCertMode          string   `yaml:"InteropClientCertMode" default:"off" doc:"TLS client certificates of Backend Interfaces peers on 8886, checked by the proxy (needs SupportProxyTLS and InteropEnabled): off, optional (a peer without a certificate passes, so Packet Broker's bearer token still works; one with a certificate not from InteropClientCAFile is refused), or required (every peer needs a certificate from InteropClientCAFile; this shuts out Packet Broker)."`
	InteropClientCAFile            string   `yaml:"InteropClientCAFile" default:"" doc:"PEM file of the CA certificates that issue the client certificates of Backend Interfaces peers, relative to the parameter file (e.g. prod-interop/client-ca.pem). Required when InteropClientCertMode is optional or required; checked at synth (CA certificates only, none expired)."`
	RateLimitingFile               string   `yaml:"RateLimitingFile" default:"" doc:"Rate limiting profiles of every component (The Things Stack's rate-limiting.yml format: a profiles list of name, max-per-min, max-burst, associations), relative to the parameter file (e.g. prod-rate-limiting.yml). It replaces the default profiles (see Rate limiting); profiles: [] turns rate limiting off. Checked at synth: unknown keys, rates, known classes, a class in two profiles."`

	// Packet Broker peering (the Packet Broker Agent) and pictures.
	PacketBrokerEnabled               bool     `yaml:"PacketBrokerEnabled" default:"false" doc:"Run the Packet Broker Agent (pba, two tasks) to exchange traffic with other LoRaWAN networks through Packet Broker. Needs a Packet Broker API key (PacketBrokerApiKeySecret). Independent of InteropPacketBrokerEnabled, which only lets Packet Broker ask the Identity Server for a device's home network."`
	PacketBrokerApiKeySecret          string   `yaml:"PacketBrokerApiKeySecret" default:"" doc:"Complete ARN (safest: AWS documents complete ARNs for ECS secrets) or name of an existing Secrets Manager secret in Region, encrypted with the aws/secretsmanager key, whose value is the JSON {\"id\": \"<API key id>\", \"secret\": \"<API key secret>\"} of the Packet Broker API key (pba.oauth2.client-id and client-secret). Required when PacketBrokerEnabled; never written into a template."`
	PacketBrokerDataPlaneAddress      string   `yaml:"PacketBrokerDataPlaneAddress" default:"eu.packetbroker.net:443" doc:"host:port of the regional Packet Broker router (data plane) the agent publishes and subscribes to (pba.data-plane-address), e.g. eu.packetbroker.net:443, nam.packetbroker.net:443 or apac.packetbroker.net:443."`
	PacketBrokerClusterID             string   `yaml:"PacketBrokerClusterID" default:"" doc:"Cluster id of this deployment within its NetID and TenantID (pba.cluster-id): the forwarder id that downlinks are routed back to and the shared subscription group. Letters, digits, dots and hyphens; empty for none."`
	PacketBrokerHomeNetwork           bool     `yaml:"PacketBrokerHomeNetwork" default:"true" doc:"Home network role: subscribe to the uplinks of this network's devices that other networks' gateways receive, and send their downlinks back through Packet Broker."`
	PacketBrokerDevAddrPrefixes       []string `yaml:"PacketBrokerDevAddrPrefixes" default:"" doc:"DevAddr prefixes (8 hex digits/length, e.g. 26000000/7) that the home network role subscribes to. Empty: the prefix of NetID (the one The Things Stack derives: type prefix and NwkID)."`
	PacketBrokerForwarder             bool     `yaml:"PacketBrokerForwarder" default:"true" doc:"Forwarder role: the Gateway Server also sends this network's gateways' uplinks to Packet Broker for other networks, and their downlinks come back. The token key that protects forwarded uplinks is generated into Secrets Manager (<prefix>/tts/pba-forwarder-token-key)."`
	PacketBrokerName                  string   `yaml:"PacketBrokerName" default:"" doc:"Friendly name of the network in the Packet Broker registration (pba.registration.name)."`
	PacketBrokerAdministrativeContact string   `yaml:"PacketBrokerAdministrativeContact" default:"" doc:"E-mail address of the administrative contact in the Packet Broker registration."`
	PacketBrokerTechnicalContact      string   `yaml:"PacketBrokerTechnicalContact" default:"" doc:"E-mail address of the technical contact in the Packet Broker registration."`
	PacketBrokerListed                bool     `yaml:"PacketBrokerListed" default:"true" doc:"List the network in the Packet Broker catalog, so that other networks can find it and set routing policies for it (pba.registration.listed)."`
	PicturesEnabled                   bool     `yaml:"PicturesEnabled" default:"true" doc:"Let users upload profile and end device pictures. They are stored in the private pictures bucket and served by a CloudFront distribution that alone may read them (origin access control); the Identity Server links them at its https://<id>.cloudfront.net address. false: uploads are refused, no URL is advertised, and the distribution stays but may read nothing (so that switching never deletes what a deployed stack refers to)."`

	// Services.
	IdentityServerTasks  int `yaml:"IdentityServerTasks" default:"2" doc:"Number of Identity Server tasks (2 to 10), spread over the availability zones. Two or more keep the Console and the APIs up while a task or a zone fails."`
	IdentityServerCpu    int `yaml:"IdentityServerCpu" default:"512" doc:"CPU units of one Identity Server task (1024 is one vCPU): 256, 512, 1024, 2048, 4096, 8192 or 16384."`
	IdentityServerMemory int `yaml:"IdentityServerMemory" default:"1024" doc:"Memory of one Identity Server task in MiB; a size Fargate accepts for IdentityServerCpu (512: 1024 to 4096 in steps of 1024)."`
	// The other components: the traffic carriers (GS, NS, AS) scale on CPU
	// from their task count up to four times it; JS, Console, GCS and DCS
	// run two tasks each. All share one task size.
	GatewayServerTasks     int `yaml:"GatewayServerTasks" default:"2" doc:"Number of Gateway Server tasks (2 to 10), spread over the availability zones. It is the minimum: the service scales out on CPU up to four times as many tasks."`
	NetworkServerTasks     int `yaml:"NetworkServerTasks" default:"2" doc:"Number of Network Server tasks (2 to 10); the minimum of its CPU scaling, which goes up to four times as many."`
	ApplicationServerTasks int `yaml:"ApplicationServerTasks" default:"2" doc:"Number of Application Server tasks (2 to 10); the minimum of its CPU scaling, which goes up to four times as many."`
	ServiceCpu             int `yaml:"ServiceCpu" default:"512" doc:"CPU units of one task of each component other than the Identity Server (Gateway, Network, Application and Join Server, Console, Gateway Configuration Server, Device Claiming Server): 256, 512, 1024, 2048, 4096, 8192 or 16384."`
	ServiceMemory          int `yaml:"ServiceMemory" default:"1024" doc:"Memory of one such task in MiB; a size Fargate accepts for ServiceCpu (512: 1024 to 4096 in steps of 1024)."`
	// The reverse proxy (nginx) in front of the HTTP and gRPC APIs.
	CpuArchitecture string `yaml:"CpuArchitecture" default:"ARM64" doc:"CPU architecture of every task (The Things Stack, the proxy, Certbot): ARM64 (AWS Graviton, about 20% cheaper on Fargate; every image the deployment runs is published for it, and the images the app builds are built for it) or X86_64. A change replaces every task definition and rolls every service, like a new image."`
	ProxyTasks      int    `yaml:"ProxyTasks" default:"2" doc:"Number of reverse proxy (nginx) tasks (2 to 10), spread over the availability zones; the minimum of its CPU scaling, which goes up to four times as many. Every HTTP and gRPC request and the Console pass through it."`
	// Ops access: ECS Exec into the tasks of The Things Stack.
	OpsAccess bool `yaml:"OpsAccess" default:"true" doc:"Turn on ECS Exec for every service of The Things Stack (not the proxy), so that an operator can open a shell or run ttn-lw-cli and ttn-lw-stack in a running task (make exec, see Ops access). On by default: it grants nobody anything by itself (only those who attach the deployment's OpsAccessPolicy may run a command), every session is logged to an encrypted log group, and when it is needed (an incident) it is there without first rolling every service. false: no service accepts a command, and a deploy rolls every service of The Things Stack; the session log group and its key stay (retained), as do the logs of earlier sessions."`

	// E-mail through Amazon SES (Identity Server).
	EmailSender             string `yaml:"EmailSender" default:"" doc:"From address of the Identity Server's e-mail (registration, e-mail validation, password reset, invitations, notifications), e.g. noreply@<DomainName>. Its domain must be HostedZoneName or below it: the stacks create an Amazon SES domain identity for it with Easy DKIM records in the hosted zone, and SMTP credentials in Secrets Manager. Empty: no e-mail is sent (README: E-mail (Amazon SES))."`
	EmailSenderName         string `yaml:"EmailSenderName" default:"The Things Stack for LoRaWAN" doc:"Display name of EmailSender, also the network name the e-mail texts use (is.email.sender-name and is.email.network.name). At most 64 characters, one line."`
	EmailCredentialsVersion string `yaml:"EmailCredentialsVersion" default:"1" doc:"Label of the SMTP credentials' generation: letters, digits, dots, hyphens and underscores, at most 64. A new value and a deploy create a new access key of the e-mail IAM user, store its SMTP password and restart the Identity Server; the old key is deleted at the end of the deploy."`

	// Data tier.
	DatabaseMinCapacity         float64  `yaml:"DatabaseMinCapacity" default:"0.5" doc:"Minimum Aurora Serverless v2 capacity in ACUs (0.5 to 256, in steps of 0.5)."`
	DatabaseMaxCapacity         float64  `yaml:"DatabaseMaxCapacity" default:"4" doc:"Maximum Aurora Serverless v2 capacity in ACUs (1 to 256, in steps of 0.5, at least DatabaseMinCapacity)."`
	DatabaseReaders             int      `yaml:"DatabaseReaders" default:"1" doc:"Number of Aurora reader instances (0 to 3). Readers are spread over the other availability zones and take over when the writer fails; 0 leaves no standby."`
	DatabaseBackupRetentionDays int      `yaml:"DatabaseBackupRetentionDays" default:"7" doc:"Days of automated Aurora backups (1 to 35)."`
	DatabasePasswordVersion     string   `yaml:"DatabasePasswordVersion" default:"1" doc:"Label of the database password's generation: letters, digits, dots, hyphens and underscores, at most 64 (e.g. 2 or 2026-12-01). After changing the password (see Rotating the database password), set a new value and deploy: the Configuration stack composes <prefix>/tts/database-uri again and the Identity Server's tasks restart with it."`
	CacheNodeType               string   `yaml:"CacheNodeType" default:"cache.t4g.small" doc:"ElastiCache node type of the Redis replication group."`
	CacheReplicas               int      `yaml:"CacheReplicas" default:"1" doc:"Redis replicas beside the primary (1 to 5), spread over the availability zones; at least 1 for Multi-AZ automatic failover."`
	DeletionProtection          bool     `yaml:"DeletionProtection" default:"true" doc:"Turn on deletion protection of the database and termination protection of the Data stack. Set it to false and deploy before deleting the stacks (see Tearing down); what a deletion keeps is RetainData's choice."`
	LoadBalancerAddresses       []string `yaml:"LoadBalancerAddresses" default:"" doc:"Allocation ids (eipalloc-...) of existing Elastic IPs for the load balancer, one per availability zone in the order of AvailabilityZones, e.g. the addresses a torn-down deployment kept, which gateways are configured with. Empty: the Network stack allocates new ones. Set it only when the Network stack is created (a change later moves the load balancer to other addresses); the stacks never release these addresses."`
	RetainData                  bool     `yaml:"RetainData" default:"true" doc:"What deleting the stacks does with the data. true: the database and Redis end in final snapshots, and buckets, KMS keys, secrets, log groups and the load balancer's addresses stay in the account (see Tearing down). false: everything is deleted, bucket contents included, with no snapshot. Either way a failed first deploy leaves nothing in the way of a retry (one exception with DeletionProtection: see Deploy to an AWS account)."`
	DatabaseSnapshot            string   `yaml:"DatabaseSnapshot" default:"" doc:"Aurora cluster snapshot (name, or ARN for a shared one) that the database is restored from when the Data stack is created, e.g. the final snapshot of an earlier deployment. Keep the line for as long as this deployment lives: CloudFormation restores only at creation, and removing or changing it later replaces the cluster with a new one (make diff refuses that)."`
	CacheSnapshot               string   `yaml:"CacheSnapshot" default:"" doc:"ElastiCache snapshot name that Redis is restored from when the Data stack is created, e.g. the final snapshot of an earlier deployment. Like DatabaseSnapshot: keep the line, changing or removing it later replaces the replication group."`
	LogRetentionDays            int      `yaml:"LogRetentionDays" default:"365" doc:"Retention of CloudWatch log groups in days; one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."`

	// Where the parameters came from; not parameters themselves.
	source Source
	// interopClientCA is the checked content of InteropClientCAFile.
	interopClientCA []byte
	// rateLimiting is the checked content of RateLimitingFile (nil: the
	// defaults).
	rateLimiting []ratelimit.Profile
}

// Source tells where a parameter set was loaded from, so that files named in it
// (the interop repository) are found relative to it.
type Source struct {
	// File is the parameter file's path as shown in messages.
	File string
	// FS holds the parameter file's folder; Dir is that folder within FS.
	FS  fs.FS
	Dir string
}

// Source returns where the parameters were loaded from.
func (p *Params) Source() Source { return p.source }

// InteropClientCA returns the PEM bundle of InteropClientCAFile as loaded and
// checked with the parameters (CheckCABundle); nil when no file is named.
func (p *Params) InteropClientCA() []byte { return p.interopClientCA }

// RateLimitingProfiles returns the rate limiting profiles of every component:
// those of RateLimitingFile as loaded and checked with the parameters, or the
// defaults (ratelimit.Defaults) without one.
func (p *Params) RateLimitingProfiles() []ratelimit.Profile {
	if p.RateLimitingFile == "" || p.rateLimiting == nil {
		return ratelimit.Defaults()
	}
	return p.rateLimiting
}

// InteropEnabledIS tells whether the Identity Server serves Backend Interfaces.
// The reference templates asked for it separately; here it is derived.
func (p *Params) InteropEnabledIS() bool { return p.InteropEnabled }

// ProxyTerminatesTLS tells whether the reverse proxy terminates TLS on 443 and
// 8886 (true) or the load balancer does (false).
func (p *Params) ProxyTerminatesTLS() bool { return p.SupportProxyTLS }

// MaxDatabaseReaders is the largest DatabaseReaders.
const MaxDatabaseReaders = 3

// CreatesCertificate tells whether the stacks create the ACM certificate.
func (p *Params) CreatesCertificate() bool { return p.CertificateArn == "" }

// EmailEnabled tells whether the Identity Server sends e-mail through SES.
func (p *Params) EmailEnabled() bool { return p.EmailSender != "" }

// EmailDomain is the domain of EmailSender: the SES identity the stacks
// create ("" when e-mail is off).
func (p *Params) EmailDomain() string {
	if i := strings.LastIndex(p.EmailSender, "@"); i >= 0 {
		return strings.ToLower(p.EmailSender[i+1:])
	}
	return ""
}

// StackName returns the stable name of one of the app's stacks.
func (p *Params) StackName(stack string) string { return p.StackPrefix + "-" + stack }

// ImageTag returns the tag of TTSImage (or its digest).
func (p *Params) ImageTag() string { return imageref.Tag(p.TTSImage) }
