package params

import (
	"fmt"
	"math"
	"net/mail"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/fargate"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/imageref"
)

// validate checks every value and the combinations of values. It runs before
// any construct exists.
func (l *loader) validate() {
	p := l.params
	l.match("StackPrefix", p.StackPrefix, `^[A-Za-z](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,23}$`,
		"use letters, digits and single hyphens, starting with a letter, at most 24 characters, e.g. tts-prod")
	l.match("Account", p.Account, `^[0-9]{12}$`, "an AWS account id has exactly 12 digits; quote it if it starts with 0")
	regionOK := l.match("Region", p.Region, `^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`, "use a region code like eu-west-1")
	if regionOK {
		l.checkZones()
	}
	if p.NatGateways < 1 || p.NatGateways > len(p.AvailabilityZones) {
		l.errorf("params.out-of-range", "NatGateways", "%d is out of range: use 1 to %d (the number of AvailabilityZones); tasks in private subnets reach the internet through them", p.NatGateways, max(len(p.AvailabilityZones), 1))
	}

	domainOK := l.hostName("DomainName", p.DomainName)
	l.match("HostedZoneId", p.HostedZoneId, `^Z[A-Z0-9]{1,31}$`, "a Route 53 hosted zone id looks like Z0123456789ABCDEFGHIJ (see the Route 53 console)")
	zone := strings.TrimSuffix(p.HostedZoneName, ".")
	zoneOK := l.hostName("HostedZoneName", zone)
	p.HostedZoneName = zone
	if domainOK && zoneOK && p.DomainName != zone && !strings.HasSuffix(p.DomainName, "."+zone) {
		l.errorf("params.domain-outside-zone", "DomainName", "%q is not in the hosted zone %q; use a name that ends with %q or the zone that holds it", p.DomainName, zone, zone)
	}

	l.checkImage()
	l.checkArchitecture()
	l.match("NetID", p.NetID, `^[0-9A-Fa-f]{6}$`, "a NetID is 6 hex digits, e.g. 000013; quote it so YAML keeps the leading zeros")
	if p.TenantID != "" {
		l.match("TenantID", p.TenantID, `^[a-z0-9](?:-?[a-z0-9]){1,35}$`, "use 2 to 36 lowercase letters, digits and single hyphens, or remove the line for none")
	}
	if p.NSID != "" {
		l.match("NSID", p.NSID, `^[0-9A-Fa-f]{16}$`, "an NSID is an EUI-64 of 16 hex digits, e.g. 70B3D57ED0000000; quote it")
	}

	if p.CertificateArn != "" {
		arn := fmt.Sprintf(`^arn:aws[a-z-]*:acm:%s:%s:certificate/[0-9a-f-]{36}$`, regexp.QuoteMeta(p.Region), regexp.QuoteMeta(p.Account))
		l.match("CertificateArn", p.CertificateArn, arn,
			fmt.Sprintf("use the ARN of an ACM certificate in account %s and region %s (the load balancer can only use certificates of its own region), or remove the line to let the stack create one", p.Account, p.Region))
	}
	if p.AcmeEmail != "" {
		if a, err := mail.ParseAddress(p.AcmeEmail); err != nil || a.Address != p.AcmeEmail {
			l.errorf("params.bad-email", "AcmeEmail", "%q is not a plain e-mail address; write it like ops@example.com", p.AcmeEmail)
		}
	} else if p.SupportProxyTLS {
		l.errorf("params.acme-email-missing", "AcmeEmail", "SupportProxyTLS is true, so Certbot needs the e-mail of the Let's Encrypt account: add 'AcmeEmail: ops@%s', or set SupportProxyTLS: false to let the load balancer terminate TLS", orDefault(p.HostedZoneName, "example.com"))
	}

	l.checkCertbot()

	// The default is derived from DomainName; an invalid DomainName is
	// reported once, above.
	if _, set := l.set["AdminEmail"]; set || domainOK {
		if a, err := mail.ParseAddress(p.AdminEmail); err != nil || a.Address != p.AdminEmail {
			l.errorf("params.bad-email", "AdminEmail", "%q is not a plain e-mail address; write it like admin@%s, or remove the line to use admin@<DomainName>", p.AdminEmail, orDefault(p.HostedZoneName, "example.com"))
		}
	}

	l.checkEmail()
	l.checkMailboxes()

	if p.InteropPacketBrokerEnabled && !p.InteropEnabled {
		l.errorf("params.packet-broker-needs-interop", "InteropPacketBrokerEnabled", "Packet Broker reaches the Identity Server over Backend Interfaces on port 8886, which is off: set InteropEnabled: true as well, or InteropPacketBrokerEnabled: false")
	}
	l.httpsURL("InteropPacketBrokerTokenIssuer", p.InteropPacketBrokerTokenIssuer, false)
	if p.InteropPublicTLSAddress == "" {
		if p.InteropPacketBrokerEnabled {
			l.errorf("params.public-tls-address-missing", "InteropPublicTLSAddress", "is empty, but Packet Broker interop needs the public TLS address (tokens name it in their audience, and The Things Stack refuses to start without it): remove the line to use https://%s:8886, or set InteropPacketBrokerEnabled: false", orDefault(p.DomainName, "<DomainName>"))
		}
	} else {
		l.httpsURL("InteropPublicTLSAddress", p.InteropPublicTLSAddress, true)
	}
	if p.InteropRepository != "" {
		clean := path.Clean(p.InteropRepository)
		if path.IsAbs(p.InteropRepository) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(p.InteropRepository, `\`) {
			l.errorf("params.repository-path", "InteropRepository", "%q must be a folder below the parameter file's folder, written with '/' (e.g. prod-interop)", p.InteropRepository)
		}
	}

	l.checkClientCert()
	l.checkRateLimiting()
	l.checkPacketBroker()

	for _, key := range []string{"GatewayIngressCidrs", "ApplicationIngressCidrs", "InteropIngressCidrs"} {
		l.cidrs(key)
	}
	l.intRange("IdentityServerTasks", p.IdentityServerTasks, 2, 10)
	if err := fargate.CheckSize(p.IdentityServerCpu, p.IdentityServerMemory); err != nil {
		l.errorf("params.task-size", "IdentityServerMemory", "with IdentityServerCpu %d: %v", p.IdentityServerCpu, err)
	}
	l.intRange("GatewayServerTasks", p.GatewayServerTasks, 2, 10)
	l.intRange("NetworkServerTasks", p.NetworkServerTasks, 2, 10)
	l.intRange("ApplicationServerTasks", p.ApplicationServerTasks, 2, 10)
	l.intRange("ProxyTasks", p.ProxyTasks, 2, 10)
	if err := fargate.CheckSize(p.ServiceCpu, p.ServiceMemory); err != nil {
		l.errorf("params.task-size", "ServiceMemory", "with ServiceCpu %d: %v", p.ServiceCpu, err)
	}
	l.capacity("DatabaseMinCapacity", p.DatabaseMinCapacity, 0.5)
	l.capacity("DatabaseMaxCapacity", p.DatabaseMaxCapacity, 1)
	if p.DatabaseMaxCapacity < p.DatabaseMinCapacity {
		l.errorf("params.capacity-order", "DatabaseMaxCapacity", "%g is below DatabaseMinCapacity %g; raise it or lower DatabaseMinCapacity", p.DatabaseMaxCapacity, p.DatabaseMinCapacity)
	}
	l.intRange("DatabaseReaders", p.DatabaseReaders, 0, MaxDatabaseReaders)
	if p.DatabaseReaders == 0 {
		l.warnf("params.no-standby", "DatabaseReaders", "is 0: the database has no standby in another availability zone, and a failure of the writer's zone stops the network until Aurora recreates the writer")
	}
	l.intRange("DatabaseBackupRetentionDays", p.DatabaseBackupRetentionDays, 1, 35)
	l.match("DatabasePasswordVersion", p.DatabasePasswordVersion, `^[A-Za-z0-9._-]{1,64}$`, "use a label of letters, digits, '.', '-' and '_', at most 64 characters, e.g. 2 or 2026-12-01")
	l.match("CacheNodeType", p.CacheNodeType, `^cache\.[a-z][a-z0-9]*\.[a-z0-9]+$`, "use an ElastiCache node type like cache.t4g.small or cache.r7g.large")
	l.intRange("CacheReplicas", p.CacheReplicas, 1, 5)
	if !p.DeletionProtection {
		if p.RetainData {
			l.warnf("params.deletion-unprotected", "DeletionProtection", "is false: the database can be deleted by an API call, and the stacks can be deleted (RetainData is true: the database and Redis end in final snapshots, the rest of the data stays)")
		} else {
			l.warnf("params.deletion-unprotected-no-retain", "DeletionProtection", "is false and RetainData is false: deleting the stacks now deletes every database, cache, bucket, key and secret of %q for good, with no snapshot", p.StackPrefix)
		}
	}
	l.checkRestore()
	l.checkAddresses()
	l.checkRetention()
}

// checkAddresses checks the Elastic IPs given to the load balancer.
func (l *loader) checkAddresses() {
	p := l.params
	if len(p.LoadBalancerAddresses) == 0 {
		return
	}
	if len(p.LoadBalancerAddresses) != len(p.AvailabilityZones) {
		l.errorf("params.address-count", "LoadBalancerAddresses", "has %d allocation ids for %d availability zones; give one per zone, in the order of AvailabilityZones, or remove the line to allocate new addresses", len(p.LoadBalancerAddresses), len(p.AvailabilityZones))
	}
	seen := map[string]bool{}
	for _, a := range p.LoadBalancerAddresses {
		if seen[a] {
			l.errorf("params.duplicate", "LoadBalancerAddresses", "%q is given twice; each zone needs an address of its own", a)
		}
		seen[a] = true
		l.match("LoadBalancerAddresses", a, `^eipalloc-[0-9a-f]{8,17}$`,
			"give allocation ids like eipalloc-0123456789abcdef0 (aws ec2 describe-addresses --filters Name=tag:Name,Values=<prefix>-* --query 'Addresses[].[AllocationId,PublicIp]')")
	}
}

// checkRestore checks the snapshots a new deployment is restored from. Their
// existence can only be checked in the account: CloudFormation fails the
// creation of the Data stack (and removes what it created) when one is missing.
func (l *loader) checkRestore() {
	p := l.params
	if p.DatabaseSnapshot != "" {
		// A name is what Aurora accepts as DBClusterSnapshotIdentifier; an
		// ARN names a snapshot of another account (shared) or a copy.
		l.match("DatabaseSnapshot", p.DatabaseSnapshot, `^(?:[A-Za-z](?:-?[A-Za-z0-9])*|arn:aws[a-z-]*:rds:[a-z0-9-]+:[0-9]{12}:cluster-snapshot:[A-Za-z][A-Za-z0-9:-]*)$`,
			"give the name of an Aurora cluster snapshot (aws rds describe-db-cluster-snapshots --query 'DBClusterSnapshots[].DBClusterSnapshotIdentifier'), or its ARN when it is shared from another account; remove the line to start with an empty database")
	}
	if p.CacheSnapshot != "" {
		l.match("CacheSnapshot", p.CacheSnapshot, `^[A-Za-z](?:-?[A-Za-z0-9])*$`,
			"give the name of an ElastiCache snapshot (aws elasticache describe-snapshots --query 'Snapshots[].SnapshotName'); remove the line to start with an empty cache")
	}
}

func (l *loader) match(key, value, pattern, fix string) bool {
	if regexp.MustCompile(pattern).MatchString(value) {
		return true
	}
	if value == "" {
		l.errorf("params.empty", key, "is empty; %s", fix)
	} else {
		l.errorf("params.invalid", key, "%q is not valid; %s", value, fix)
	}
	return false
}

func (l *loader) hostName(key, value string) bool {
	label := `[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?`
	if len(value) <= 253 && regexp.MustCompile(`^(?:`+label+`\.)+`+label+`$`).MatchString(value) {
		return true
	}
	l.errorf("params.bad-dns-name", key, "%q is not a lowercase DNS name with at least two labels, like tts.example.com", value)
	return false
}

func (l *loader) checkZones() {
	p := l.params
	if len(p.AvailabilityZones) < 2 {
		l.errorf("params.too-few-zones", "AvailabilityZones", "has %d zone(s); list at least 2 zones of %s, e.g. [%sa, %sb], so that the network survives the loss of one", len(p.AvailabilityZones), p.Region, p.Region, p.Region)
	}
	seen := map[string]bool{}
	for _, z := range p.AvailabilityZones {
		if !regexp.MustCompile(`^` + regexp.QuoteMeta(p.Region) + `[a-z]$`).MatchString(z) {
			l.errorf("params.bad-zone", "AvailabilityZones", "%q is not an availability zone of region %s; zones are named like %sa", z, p.Region, p.Region)
		}
		if seen[z] {
			l.errorf("params.duplicate", "AvailabilityZones", "%q is listed twice; list each zone once", z)
		}
		seen[z] = true
	}
}

func (l *loader) checkArchitecture() {
	if a := l.params.CpuArchitecture; a != "ARM64" && a != "X86_64" {
		l.errorf("params.bad-architecture", "CpuArchitecture", "%q is not a Fargate CPU architecture: use ARM64 (Graviton) or X86_64", a)
	}
}

func (l *loader) checkImage() {
	img := l.params.TTSImage
	const fix = "use a pinned image, e.g. thethingsnetwork/lorawan-stack:3.32.1"
	switch problem := imageref.Check(img); problem {
	case imageref.None:
	case imageref.Malformed:
		l.errorf("params.bad-image", "TTSImage", "%q %s; %s", img, problem.Reason(), fix)
	default:
		l.errorf("params.unpinned-image", "TTSImage", "%q %s; %s", img, problem.Reason(), fix)
	}
}

func (l *loader) httpsURL(key, value string, withPort bool) {
	u, err := url.Parse(value)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		example := "https://iam.packetbroker.net"
		if withPort {
			example = "https://tts.example.com:8886"
		}
		l.errorf("params.bad-url", key, "%q is not an https URL of a host; write it like %s", value, example)
		return
	}
	if withPort && u.Port() == "" {
		l.errorf("params.url-without-port", key, "%q has no port; Packet Broker compares the address exactly, write it with the port, like https://%s:8886", value, u.Hostname())
	}
}

func (l *loader) cidrs(key string) {
	f, _ := fieldByName(key)
	list, _ := l.value(f).Interface().([]string)
	if len(list) == 0 {
		l.errorf("params.empty-cidrs", key, "is empty, which would close these ports to everyone; list the allowed IPv4 CIDRs, e.g. [0.0.0.0/0] for the internet")
	}
	for _, c := range list {
		pfx, err := netip.ParsePrefix(c)
		if err != nil || !pfx.Addr().Is4() || pfx.Masked() != pfx {
			l.errorf("params.bad-cidr", key, "%q is not an IPv4 CIDR with no bits set past its length, like 203.0.113.0/24", c)
		}
	}
}

func (l *loader) capacity(key string, v, lo float64) {
	if v < lo || v > 256 || math.Mod(v*2, 1) != 0 {
		l.errorf("params.bad-capacity", key, "%g is not a valid Aurora Serverless v2 capacity: use %g to 256 ACUs in steps of 0.5", v, lo)
	}
}

func (l *loader) intRange(key string, v, lo, hi int) {
	if v < lo || v > hi {
		l.errorf("params.out-of-range", key, "%d is out of range: use %d to %d", v, lo, hi)
	}
}

func (l *loader) checkRetention() {
	v := l.params.LogRetentionDays
	for _, ok := range RetentionDays() {
		if v == ok {
			return
		}
	}
	var list []string
	for _, ok := range RetentionDays() {
		list = append(list, strconv.Itoa(ok))
	}
	l.errorf("params.bad-retention", "LogRetentionDays", "%d is not a retention CloudWatch Logs accepts; use one of %s", v, strings.Join(list, ", "))
}

// RetentionDays are the retention periods CloudWatch Logs accepts, ascending.
func RetentionDays() []int {
	return []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// checkCertbot checks the parameters of the Certbot task and its alarms.
// They are checked in both TLS modes, so that a flip of SupportProxyTLS never
// uncovers an old mistake.
func (l *loader) checkCertbot() {
	p := l.params
	switch p.AcmeDirectory {
	case "production", "staging":
	default:
		if u, err := url.Parse(p.AcmeDirectory); err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
			l.errorf("params.bad-acme-directory", "AcmeDirectory", "%q is not valid; use production, staging, or the https:// URL of an ACME directory like https://acme-staging-v02.api.letsencrypt.org/directory", p.AcmeDirectory)
		}
	}
	l.intRange("CertificateRenewDays", p.CertificateRenewDays, 7, 60)
	if err := CheckSchedule(p.CertificateRenewSchedule); err != nil {
		l.errorf("params.bad-schedule", "CertificateRenewSchedule", "%v", err)
	}
	if p.AlarmEmail != "" {
		if a, err := mail.ParseAddress(p.AlarmEmail); err != nil || a.Address != p.AlarmEmail {
			l.errorf("params.bad-email", "AlarmEmail", "%q is not a plain e-mail address; write it like ops@%s, or remove the line for no subscription", p.AlarmEmail, orDefault(p.HostedZoneName, "example.com"))
		}
	}
}

// CheckSchedule checks an EventBridge schedule expression of the Certbot
// task: rate(N minutes|hours|days) between 1 hour and 1 day, or cron(...)
// with the six fields EventBridge expects.
func CheckSchedule(expr string) error {
	if m := regexp.MustCompile(`^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)$`).FindStringSubmatch(expr); m != nil {
		n, _ := strconv.Atoi(m[1])
		if (n == 1) != !strings.HasSuffix(m[2], "s") {
			return fmt.Errorf("%q: EventBridge wants the singular unit for 1 and the plural otherwise, e.g. rate(1 hour) or rate(12 hours)", expr)
		}
		minutes := n
		switch strings.TrimSuffix(m[2], "s") {
		case "hour":
			minutes = n * 60
		case "day":
			minutes = n * 24 * 60
		}
		if minutes < 60 || minutes > 24*60 {
			return fmt.Errorf("%q runs the Certbot task every %d minutes; use 1 to 24 hours, e.g. rate(12 hours): more often only costs task runs, less often starves the daily DaysToExpiry alarm", expr, minutes)
		}
		return nil
	}
	if m := regexp.MustCompile(`^cron\(([^()]+)\)$`).FindStringSubmatch(expr); m != nil {
		if f := strings.Fields(m[1]); len(f) != 6 {
			return fmt.Errorf("%q has %d cron fields; EventBridge wants 6 (minutes hours day-of-month month day-of-week year), e.g. cron(17 3,15 * * ? *)", expr, len(f))
		}
		return nil
	}
	return fmt.Errorf("%q is not an EventBridge schedule; write rate(12 hours) or cron(17 3,15 * * ? *)", expr)
}

// checkMailboxes warns about e-mail addresses in a domain reserved for
// examples and tests: they synthesize, but nobody can receive mail there.
// Only valid addresses are checked; the others already have an error.
func (l *loader) checkMailboxes() {
	p := l.params
	for _, m := range []struct{ key, addr, consequence string }{
		{"AcmeEmail", p.AcmeEmail, "Let's Encrypt refuses to register an ACME account with it, so the proxy's certificate issuance fails when SupportProxyTLS is true"},
		{"AdminEmail", p.AdminEmail, "the administrator user cannot receive mail (e-mail validation, password reset, notifications)"},
		{"AlarmEmail", p.AlarmEmail, "the alarm subscription can never be confirmed, so alarms (services, target groups, data tier, certificates, proxy errors) go nowhere"},
		{"EmailSender", p.EmailSender, "Amazon SES cannot verify a domain nobody owns (its DKIM records go to the hosted zone), so the Identity Server's e-mail is never sent"},
	} {
		a, err := mail.ParseAddress(m.addr)
		if m.addr == "" || err != nil || a.Address != m.addr {
			continue
		}
		if domain, ok := ReservedMailDomain(m.addr); ok {
			fix := "set it to a real mailbox"
			if _, set := l.set[m.key]; !set && m.key == "AdminEmail" {
				fix = "it defaults to admin@<DomainName>; add 'AdminEmail: ...' with a real mailbox"
			}
			l.warnf("params.example-domain", m.key, "%q is in %s, a domain reserved for examples and tests (RFC 2606, RFC 6761): %s; %s", m.addr, domain, m.consequence, fix)
		}
	}
}

// ReservedMailDomain tells whether the domain of an e-mail address is
// reserved for documentation and testing (RFC 2606, RFC 6761) and can
// never receive mail: example.com, example.net, example.org and their
// subdomains, and every name under the top-level domains example, test,
// invalid and localhost. It returns the reserved domain that matched.
func ReservedMailDomain(addr string) (string, bool) {
	at := strings.LastIndex(addr, "@")
	if at < 0 {
		return "", false
	}
	domain := strings.TrimSuffix(strings.ToLower(addr[at+1:]), ".")
	for _, r := range []string{"example.com", "example.net", "example.org", "example", "test", "invalid", "localhost"} {
		if domain == r || strings.HasSuffix(domain, "."+r) {
			return r, true
		}
	}
	return "", false
}

// checkEmail checks the e-mail parameters. The sender's domain becomes an
// SES identity verified by DKIM records in the hosted zone, so it must be
// the zone or below it.
func (l *loader) checkEmail() {
	p := l.params
	l.match("EmailCredentialsVersion", p.EmailCredentialsVersion, `^[A-Za-z0-9._-]{1,64}$`, "use a label of letters, digits, '.', '-' and '_', at most 64 characters, e.g. 2 or 2026-12-01")
	if len(p.EmailSenderName) > 64 || strings.ContainsAny(p.EmailSenderName, "\r\n\t\x00") || strings.TrimSpace(p.EmailSenderName) == "" {
		l.errorf("params.bad-sender-name", "EmailSenderName", "%q is not a display name of one line and 1 to 64 characters; write it like 'The Things Stack of Example Corp', or remove the line for the default", p.EmailSenderName)
	}
	if p.EmailSender == "" {
		return
	}
	a, err := mail.ParseAddress(p.EmailSender)
	if err != nil || a.Address != p.EmailSender {
		l.errorf("params.bad-email", "EmailSender", "%q is not a plain e-mail address; write it like noreply@%s, or remove the line to send no e-mail", p.EmailSender, orDefault(p.DomainName, "tts.example.com"))
		return
	}
	zone := p.HostedZoneName
	domain := p.EmailDomain()
	if zone != "" && domain != zone && !strings.HasSuffix(domain, "."+zone) {
		l.errorf("params.email-sender-domain", "EmailSender", "%q is not in the hosted zone %q, where the stacks publish the DKIM records that verify the sender's domain in Amazon SES; use an address like noreply@%s, or remove the line to send no e-mail", p.EmailSender, zone, orDefault(p.DomainName, zone))
	}
}

// checkPacketBroker checks the Packet Broker Agent's parameters. They are
// checked also when the agent is off, so that turning it on uncovers no old
// mistake.
func (l *loader) checkPacketBroker() {
	p := l.params
	if p.PacketBrokerApiKeySecret == "" {
		if p.PacketBrokerEnabled {
			l.errorf("params.packet-broker-secret-missing", "PacketBrokerApiKeySecret", "PacketBrokerEnabled is true, so the agent needs its Packet Broker API key: store it as {\"id\": \"...\", \"secret\": \"...\"} in a Secrets Manager secret in %s (aws secretsmanager create-secret --name %s/packet-broker-api-key --secret-string file://key.json) and name it here, or set PacketBrokerEnabled: false", orDefault(p.Region, "Region"), orDefault(p.StackPrefix, "<prefix>"))
		}
	} else if strings.HasPrefix(p.PacketBrokerApiKeySecret, "arn:") {
		arn := fmt.Sprintf(`^arn:aws[a-z-]*:secretsmanager:%s:%s:secret:[A-Za-z0-9/_+=.@-]{1,512}-[A-Za-z0-9]{6}$`, regexp.QuoteMeta(p.Region), regexp.QuoteMeta(p.Account))
		l.match("PacketBrokerApiKeySecret", p.PacketBrokerApiKeySecret, arn,
			fmt.Sprintf("give the complete ARN of a secret in account %s and region %s as create-secret printed it (ending in -XXXXXX), or the secret's name", p.Account, p.Region))
	} else {
		// Secrets Manager names: letters, digits and /_+=.@-, at most 512.
		l.match("PacketBrokerApiKeySecret", p.PacketBrokerApiKeySecret, `^[A-Za-z0-9/_+=.@-]{1,512}$`,
			"give the name of the secret, letters, digits and /_+=.@- only, e.g. tts-prod/packet-broker-api-key, or its complete ARN")
		if regexp.MustCompile(`-[A-Za-z0-9]{6}$`).MatchString(p.PacketBrokerApiKeySecret) {
			l.warnf("params.secret-name-suffix", "PacketBrokerApiKeySecret", "%q ends like the 6 random characters Secrets Manager appends to ARNs; give the name as created, without that suffix, or the tasks cannot read it", p.PacketBrokerApiKeySecret)
		}
	}
	l.match("PacketBrokerDataPlaneAddress", p.PacketBrokerDataPlaneAddress, `^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?:[0-9]{1,5}$`,
		"give host:port of a Packet Broker router, e.g. eu.packetbroker.net:443")
	if p.PacketBrokerClusterID != "" {
		l.match("PacketBrokerClusterID", p.PacketBrokerClusterID, `^[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?$`,
			"use lowercase letters, digits, dots and hyphens, at most 63 characters, e.g. eu1 or tts.example.com, or remove the line for none")
	}
	for _, pfx := range p.PacketBrokerDevAddrPrefixes {
		if _, err := ParseDevAddrPrefix(pfx); err != nil {
			l.errorf("params.bad-devaddr-prefix", "PacketBrokerDevAddrPrefixes", "%q: %v", pfx, err)
		}
	}
	for _, key := range []string{"PacketBrokerAdministrativeContact", "PacketBrokerTechnicalContact"} {
		f, _ := fieldByName(key)
		v, _ := l.value(f).Interface().(string)
		if v == "" {
			continue
		}
		if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
			l.errorf("params.bad-email", key, "%q is not a plain e-mail address; write it like noc@%s, or remove the line", v, orDefault(p.HostedZoneName, "example.com"))
		}
	}
	if !p.PacketBrokerEnabled {
		return
	}
	if !p.PacketBrokerHomeNetwork && !p.PacketBrokerForwarder {
		l.errorf("params.packet-broker-no-role", "PacketBrokerEnabled", "is true but both roles are off: set PacketBrokerHomeNetwork or PacketBrokerForwarder to true, or PacketBrokerEnabled: false")
	}
	if p.PacketBrokerHomeNetwork && len(p.PacketBrokerDevAddrPrefixes) == 0 && (strings.EqualFold(p.NetID, "000000") || strings.EqualFold(p.NetID, "000001")) {
		pfx, _ := p.PacketBrokerPrefixes()
		l.warnf("params.packet-broker-shared-prefix", "PacketBrokerDevAddrPrefixes", "is empty, so the home network subscribes to %v, the prefix of the experimental NetID %s that every private network shares: set the DevAddr block Packet Broker assigned to you (e.g. for a tenant of a host NetID), or NetID to your own", pfx, p.NetID)
	}
}

// DevAddrPrefix is a DevAddr prefix: the first Length bits of DevAddr.
type DevAddrPrefix struct {
	DevAddr uint32
	Length  int
}

// String writes the prefix as The Things Stack reads it: 8 hex digits, a
// slash and the length, e.g. 26000000/7.
func (p DevAddrPrefix) String() string { return fmt.Sprintf("%08X/%d", p.DevAddr, p.Length) }

// ParseDevAddrPrefix parses a prefix written like 26000000/7, with no bit
// set past its length.
func ParseDevAddrPrefix(s string) (DevAddrPrefix, error) {
	m := regexp.MustCompile(`^([0-9A-Fa-f]{8})/([0-9]{1,2})$`).FindStringSubmatch(s)
	if m == nil {
		return DevAddrPrefix{}, fmt.Errorf("not a DevAddr prefix; write 8 hex digits, a slash and the prefix length, like 26000000/7")
	}
	addr, _ := strconv.ParseUint(m[1], 16, 32)
	n, _ := strconv.Atoi(m[2])
	if n > 32 {
		return DevAddrPrefix{}, fmt.Errorf("length %d is over 32 bits", n)
	}
	if n < 32 && uint32(addr)&(^uint32(0)>>n) != 0 {
		return DevAddrPrefix{}, fmt.Errorf("has bits set past its length %d; write %08X/%d", n, uint32(addr)&^(^uint32(0)>>n), n)
	}
	return DevAddrPrefix{DevAddr: uint32(addr), Length: n}, nil
}

// NetIDPrefix returns the DevAddr prefix of a NetID (6 hex digits), as the
// LoRaWAN Backend Interfaces specification (section 13) lays out a DevAddr
// and The Things Stack derives it when no prefix is configured
// (pkg/packetbrokeragent New: types.NewDevAddr(NetID, nil) with length 32 -
// NwkAddrBits): the type prefix (Type ones and a zero), then the NwkID (the
// NetID's low 6, 6, 9, 11, 12, 13, 15 or 17 bits for types 0 to 7).
func NetIDPrefix(netID string) (DevAddrPrefix, error) {
	v, err := strconv.ParseUint(netID, 16, 32)
	if err != nil || len(netID) != 6 {
		return DevAddrPrefix{}, fmt.Errorf("NetID %q is not 6 hex digits", netID)
	}
	typ := int(v >> 21)
	nwkIDBits := []int{6, 6, 9, 11, 12, 13, 15, 17}[typ]
	nwkID := uint32(v) & (1<<nwkIDBits - 1)
	typePrefix := uint32(1<<typ-1) << 1 // typ ones, then a zero
	prefixLen := typ + 1 + nwkIDBits
	addr := (typePrefix<<nwkIDBits | nwkID) << (32 - prefixLen)
	return DevAddrPrefix{DevAddr: addr, Length: prefixLen}, nil
}

// PacketBrokerPrefixes returns the DevAddr prefixes of the home network
// role: PacketBrokerDevAddrPrefixes, or the prefix of NetID.
func (p *Params) PacketBrokerPrefixes() ([]string, error) {
	if len(p.PacketBrokerDevAddrPrefixes) > 0 {
		return append([]string(nil), p.PacketBrokerDevAddrPrefixes...), nil
	}
	pfx, err := NetIDPrefix(p.NetID)
	if err != nil {
		return nil, err
	}
	return []string{pfx.String()}, nil
}
