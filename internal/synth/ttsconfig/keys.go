// Package ttsconfig lists the configuration keys of The Things Stack (TTS)
// open-source ttn-lw-stack binary, so that the keys this project sets as
// TTN_LW_* environment variables can be checked before deployment. TTS
// silently ignores environment variables whose name does not match a known
// key, so a typo would otherwise go unnoticed.
//
// The list was compiled by reading the configuration structs (their `name`
// struct tags) of TheThingsNetwork/lorawan-stack; see SOURCES.md in this
// directory for the files, commits and caveats. The target release is
// v3.32.1, but that exact tag was not available to the research (see
// SOURCES.md): the keys were taken from the newest upstream file versions that
// could be read, cross-checked against a v3.28-era copy of the same code, and
// keys that the upstream CHANGELOG dates after v3.32.1 were left out.
//
// The package only depends on the standard library and holds no mutable
// package-level state: every call to KnownKeys builds a fresh map.
package ttsconfig

// TargetVersion is the TTS release the key list is meant for.
const TargetVersion = "v3.32.1"

// Kind is the kind of value a configuration key takes.
type Kind int

// The kinds of configuration values. The textual forms accepted in
// environment variables are described in the comment of Initialize in
// pkg/config/config.go of TTS: lists are separated by whitespace, maps are
// written as "k=v q=r", and byte values are hex encoded.
const (
	// KindString is a plain string. Identifiers such as a NetID, an EUI or a
	// DevAddr prefix are also given as strings; the key's Note says which.
	KindString Kind = iota + 1
	// KindBool is a boolean ("true" or "false").
	KindBool
	// KindInt is a signed integer.
	KindInt
	// KindUint is an unsigned integer.
	KindUint
	// KindFloat is a floating point number.
	KindFloat
	// KindDuration is a Go duration such as "30s" or "24h".
	KindDuration
	// KindStringList is a list of strings, separated by whitespace in an
	// environment variable.
	KindStringList
	// KindStringMap is a map of strings, written as "k=v q=r".
	KindStringMap
	// KindStringListMap is a map of string lists, written as "k=v1 k=v2 q=r"
	// (keys repeat).
	KindStringListMap
	// KindBytes is a byte string, hex encoded.
	KindBytes
	// KindBytesMap is a map of byte strings, written as "k=0x01 q=0x02".
	KindBytesMap
	// KindFileOnly is a structured value that can only be set in a
	// configuration file, not in an environment variable.
	KindFileOnly
)

// String returns a short name of the kind.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindBool:
		return "bool"
	case KindInt:
		return "int"
	case KindUint:
		return "uint"
	case KindFloat:
		return "float"
	case KindDuration:
		return "duration"
	case KindStringList:
		return "string list"
	case KindStringMap:
		return "string map"
	case KindStringListMap:
		return "string list map"
	case KindBytes:
		return "hex bytes"
	case KindBytesMap:
		return "hex bytes map"
	case KindFileOnly:
		return "file only"
	default:
		return "unknown"
	}
}

// Source names the file a key was taken from.
type Source struct {
	// Repo is the GitHub repository, as owner/name.
	Repo string
	// Path is the file path inside the repository.
	Path string
	// Commit is the commit of the file version that was read. It is empty
	// when the research index served the file without naming its commit;
	// Version then says how the version was identified.
	Commit string
	// Version says which TTS release the file version corresponds to, as far
	// as it could be determined, and what it was cross-checked against.
	Version string
}

// String returns the source as repo/path@commit.
func (s Source) String() string {
	out := s.Repo + "/" + s.Path
	if s.Commit != "" {
		out += "@" + s.Commit
	}
	return out
}

// KeyInfo describes one configuration key.
type KeyInfo struct {
	// Kind is the kind of value the key takes.
	Kind Kind
	// Source is the file the key was taken from.
	Source Source
	// Note holds details such as the format of an identifier, a deprecation
	// or a restriction on setting the key from the environment.
	Note string
}

// KnownKeys returns the fully qualified configuration keys of ttn-lw-stack,
// exactly as TTS names them (for example "interop.public-tls-address"), with
// the kind of value each takes and where it was found. The map is built on
// every call and may be modified by the caller.
func KnownKeys() map[string]KeyInfo {
	entries := keyEntries()
	out := make(map[string]KeyInfo, len(entries))
	for _, e := range entries {
		out[e.key] = e.info
	}
	return out
}

// Repositories and file versions the keys were read from. The commits are
// the ones the research index named for the file version that was read.
const (
	repoTTS  = "TheThingsNetwork/lorawan-stack"
	repoFork = "dev-ansh-r/dcalpwan-server-stack"

	// commitFork is the snapshot of a third-party copy of the TTS source
	// tree; its package.json says 3.27.2, its code already contains the
	// v3.28.0 changes (is.network.ns-id, grpc.correlation-ids-ignore-methods).
	commitFork  = "802c01528f0c865323ee4cee6f102f850677d9a9"
	commitFork2 = "dcb4814fb630cde5ebe3a6375c94a1398a789fe7"

	versionFork = "fork snapshot of TTS v3.27.2/v3.28.0-dev; no config change for this section in the v3.28–v3.32.1 CHANGELOG"

	// commitV3321 is the commit of TheThingsNetwork/lorawan-stack tag
	// v3.32.1, the target release.
	commitV3321 = "f8d312d3e8e12cc17707d7323d29bc877d49cd02"

	versionUpstreamNew = "upstream, newest version found (after v3.32.1); keys that the CHANGELOG dates after v3.32.1 left out"
)

// fork returns a source in the v3.28-era copy of the TTS tree.
func fork(path, commit, version string) Source {
	if version == "" {
		version = versionFork
	}
	return Source{Repo: repoFork, Path: path, Commit: commit, Version: version}
}

// upstream returns a source in TheThingsNetwork/lorawan-stack.
func upstream(path, commit, version string) Source {
	return Source{Repo: repoTTS, Path: path, Commit: commit, Version: version}
}

// entry is one key of the table.
type entry struct {
	key  string
	info KeyInfo
}

// table collects entries in the order they are added.
type table struct {
	entries []entry
}

// add adds keys of one kind and source.
func (t *table) add(src Source, kind Kind, keys ...string) {
	t.addNote(src, kind, "", keys...)
}

// addNote adds keys of one kind and source, with a note.
func (t *table) addNote(src Source, kind Kind, note string, keys ...string) {
	for _, k := range keys {
		t.entries = append(t.entries, entry{key: k, info: KeyInfo{Kind: kind, Source: src, Note: note}})
	}
}

// prefixed returns the keys with prefix and a dot put in front of them.
func prefixed(prefix string, keys ...string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = prefix + "." + k
	}
	return out
}

// Sources of structs that appear under several prefixes.
func srcShared() Source {
	return upstream("pkg/config/shared.go", "00c6176d5a014e5c19db90a0c81b2027c143be76",
		"upstream, at or after v3.29.1 (has rate-limiting.provider); same structs as the fork snapshot "+commitFork)
}

func srcRedis() Source {
	return fork("pkg/redis/redis.go", commitFork,
		"fork snapshot; the identical Config struct is in upstream pkg/redis/redis.go (index file id 3461529456, commit not shown)")
}

func srcTLSConfig() Source {
	return upstream("pkg/config/tlsconfig/config.go", "0b840a6004231e91decf5c57fadf3bd85a469663",
		"upstream, before v3.34.0 (no ACME client certificate yet)")
}

func srcTemplateData() Source {
	return fork("pkg/webui/template.go", commitFork, "")
}

func srcAPIConfig() Source {
	return fork("pkg/webui/config.go", commitFork, "")
}

// redisKeys adds the keys of pkg/redis Config under prefix.
func (t *table) redisKeys(prefix string) {
	src := srcRedis()
	t.add(src, KindString, prefixed(prefix, "address", "password", "failover.master-name")...)
	t.add(src, KindInt, prefixed(prefix, "database", "pool-size")...)
	t.add(src, KindStringList, prefixed(prefix, "namespace", "failover.addresses")...)
	t.add(src, KindDuration, prefixed(prefix, "idle-timeout", "conn-max-lifetime")...)
	t.add(src, KindBool, prefixed(prefix, "failover.enable", "tls.require")...)
	t.tlsClientKeys(prefix + ".tls")
}

// tlsClientKeys adds the keys of tlsconfig.Client under prefix.
func (t *table) tlsClientKeys(prefix string) {
	src := srcTLSConfig()
	t.addNote(src, KindString, "path of a PEM file", prefix+".root-ca")
	t.add(src, KindBool, prefix+".insecure-skip-verify")
}

// blobPathKeys adds the keys of config.BlobPathConfig under prefix.
func (t *table) blobPathKeys(prefix string, note string) {
	src := srcShared()
	t.addNote(src, KindString, "blob bucket; the provider and credentials come from blob.*", prefix+".bucket")
	t.addNote(src, KindString, note, prefix+".path")
}

// mqttKeys adds the keys of config.MQTT under prefix.
func (t *table) mqttKeys(prefix string) {
	t.addNote(srcShared(), KindString, "host:port; empty disables the listener",
		prefixed(prefix, "listen", "listen-tls")...)
	t.addNote(srcShared(), KindString, "host:port advertised to clients",
		prefixed(prefix, "public-address", "public-tls-address")...)
}

// interopClientKeys adds the keys of config.InteropClient under prefix.
func (t *table) interopClientKeys(prefix string) {
	src := srcShared()
	t.addNote(src, KindString, `"directory", "url" or "blob"; empty means detect from the other keys`,
		prefix+".config-source")
	t.addNote(src, KindString, "directory holding config.yml", prefix+".directory")
	t.addNote(src, KindString, "URL of the directory holding config.yml", prefix+".url")
	t.blobPathKeys(prefix+".blob", "path (key prefix) in the bucket of the folder holding config.yml")
}

// templateDataKeys adds the keys of webui.TemplateData under prefix.
func (t *table) templateDataKeys(prefix string) {
	src := srcTemplateData()
	t.add(src, KindString, prefixed(prefix,
		"site-name", "title", "sub-title", "descriptions", "language", "theme-color",
		"assets-base-url", "branding-base-url", "icon-prefix", "sentry-dsn")...)
	t.addNote(src, KindString, "full public URL of the web UI; its path is the mount path", prefix+".canonical-url")
	t.add(src, KindStringList, prefixed(prefix, "css-file", "js-file")...)
}

// apiConfigKeys adds the keys of webui.APIConfig under prefix.
func (t *table) apiConfigKeys(prefix string) {
	t.add(srcAPIConfig(), KindBool, prefix+".enabled")
	t.addNote(srcAPIConfig(), KindString, "public base URL of the HTTP API, such as https://host/api/v3", prefix+".base-url")
}

// keyEntries returns the table of known keys, in source order.
func keyEntries() []entry {
	var t table

	// cmd/ttn-lw-stack/commands/config.go (fork snapshot 802c015; the same
	// struct with the is/gs/ns/as/js/console/gcs/dtc/qrg/pba/dr/dcs prefixes
	// is in upstream, index file id 6583308798): top-level keys of the
	// binary. The component sections follow below.
	t.add(fork("cmd/ttn-lw-stack/commands/config.go", commitFork, ""), KindString, "output-format")

	// pkg/config/shared.go (upstream 00c6176d, at or after v3.29.1;
	// cross-checked with the fork snapshot 802c015): Base, ServiceBase.
	shared := srcShared()
	t.addNote(shared, KindStringList, "configuration file locations (flag -c)", "config")
	t.addNote(shared, KindString, `"console" or "json"`, "log.format")
	t.addNote(shared, KindString, `"debug", "info", "warn", "error" or "fatal"`, "log.level")
	t.add(shared, KindString, "sentry.dsn", "sentry.environment")

	t.add(shared, KindBool, "grpc.allow-insecure-for-credentials")
	t.addNote(shared, KindString, "host:port; empty disables the listener", "grpc.listen", "grpc.listen-tls")
	t.add(shared, KindStringList, "grpc.trusted-proxies", "grpc.log-ignore-methods", "grpc.correlation-ids-ignore-methods")

	t.addNote(shared, KindString, "host:port; empty disables the listener", "http.listen", "http.listen-tls")
	t.add(shared, KindStringList, "http.trusted-proxies", "http.log-ignore-paths", "http.static.search-path")
	t.add(shared, KindString, "http.redirect-to-host", "http.static.mount")
	t.add(shared, KindBool, "http.redirect-to-tls")
	t.addNote(shared, KindBytes, "32 or 64 bytes, hex", "http.cookie.hash-key")
	t.addNote(shared, KindBytes, "16, 24 or 32 bytes, hex", "http.cookie.block-key")
	t.add(shared, KindBool, "http.pprof.enable", "http.metrics.enable", "http.health.enable")
	t.add(shared, KindString, "http.pprof.password", "http.metrics.password", "http.health.password")

	t.addNote(shared, KindString, `"redis" or empty`, "cache.service")
	t.redisKeys("cache.redis")

	t.redisKeys("redis")

	t.addNote(shared, KindString, `"internal", "redis" or "cloud"`, "events.backend")
	t.redisKeys("events.redis")
	t.add(shared, KindBool, "events.redis.store.enable", "events.batch.enable")
	t.add(shared, KindDuration, "events.redis.store.ttl", "events.redis.store.entity-ttl", "events.batch.delay")
	t.add(shared, KindInt,
		"events.redis.store.entity-count", "events.redis.store.correlation-id-count",
		"events.redis.store.stream-partition-size", "events.redis.workers",
		"events.redis.publish.queue-size", "events.redis.publish.max-workers", "events.batch.target-size")
	t.add(shared, KindString, "events.cloud.publish-url", "events.cloud.subscribe-url")

	t.addNote(shared, KindString, "host:port of the LoRaWAN Backend Interfaces server; empty disables the listener",
		"interop.listen", "interop.listen-tls")
	t.addNote(shared, KindString, "public address; Packet Broker token audience is checked against it",
		"interop.public-tls-address")
	t.addNote(shared, KindString, `deprecated; "static", "directory", "url" or "blob"`, "interop.sender-client-ca.source")
	t.addNote(shared, KindString, "deprecated", "interop.sender-client-ca.directory", "interop.sender-client-ca.url")
	t.blobPathKeys("interop.sender-client-ca.blob", "deprecated")
	t.addNote(shared, KindStringMap, "deprecated", "interop.sender-client-cas")
	t.add(shared, KindBool, "interop.packet-broker.enabled")
	t.add(shared, KindString, "interop.packet-broker.token-issuer")

	t.addNote(shared, KindString, `"local", "aws", "gcp" or "azure"`, "blob.provider")
	t.add(shared, KindString,
		"blob.local.directory",
		"blob.aws.endpoint", "blob.aws.region", "blob.aws.access-key-id", "blob.aws.secret-access-key",
		"blob.aws.session-token",
		"blob.gcp.credentials-file", "blob.gcp.credentials", "blob.azure.account-name")
	t.add(shared, KindBool, "blob.aws.s3-force-path-style")

	t.addNote(shared, KindString, `"static", "directory", "url" or "blob"; empty means detect`, "frequency-plans.config-source")
	t.add(shared, KindString, "frequency-plans.directory", "frequency-plans.url")
	t.blobPathKeys("frequency-plans.blob", "path in the bucket")

	t.add(shared, KindDuration, "rights.ttl")

	t.addNote(shared, KindString, `"static"`, "key-vault.provider")
	t.add(shared, KindInt, "key-vault.cache.size")
	t.add(shared, KindDuration, "key-vault.cache.ttl", "key-vault.cache.error-ttl")
	t.addNote(shared, KindBytesMap, "KEK label=hex key", "key-vault.static")

	t.addNote(shared, KindString, `"directory", "url" or "blob"`, "rate-limiting.config-source")
	t.add(shared, KindString, "rate-limiting.directory", "rate-limiting.url")
	t.blobPathKeys("rate-limiting.blob", "path in the bucket")
	t.addNote(shared, KindString, `"memory" or "redis"; added in v3.29.1`, "rate-limiting.provider")
	t.add(shared, KindUint, "rate-limiting.memory.max-size")
	t.addNote(shared, KindFileOnly, "list of profiles; config file only", "rate-limiting.profiles")

	t.add(shared, KindBool, "skip-version-check")

	// pkg/config/tlsconfig/config.go (upstream 0b840a6, before v3.34.0):
	// tls.* (Client and ServerAuth squashed).
	tlsSrc := srcTLSConfig()
	t.tlsClientKeys("tls")
	t.addNote(tlsSrc, KindString, `"file", "acme" or "key-vault"`, "tls.source")
	t.addNote(tlsSrc, KindString, "path of a PEM file", "tls.certificate", "tls.key")
	t.addNote(tlsSrc, KindBool, "deprecated; set tls.source to acme", "tls.acme.enable")
	t.add(tlsSrc, KindString, "tls.acme.endpoint", "tls.acme.dir", "tls.acme.email", "tls.acme.default-host", "tls.key-vault.id")
	t.add(tlsSrc, KindStringList, "tls.acme.hosts")
	t.addNote(tlsSrc, KindStringList, "deprecated", "tls.cipher-suites")

	// pkg/cluster/config.go (upstream 0931434).
	cluster := upstream("pkg/cluster/config.go", "09314345106cebbb8113a6eb77d9b6d4ca260333",
		"upstream, newest version found; identical struct in the fork snapshot")
	t.add(cluster, KindStringList, "cluster.join")
	t.addNote(cluster, KindStringList, "hex keys; the first identifies this cluster", "cluster.keys")
	t.add(cluster, KindString,
		"cluster.name", "cluster.address", "cluster.tls-server-name",
		"cluster.identity-server", "cluster.gateway-server", "cluster.network-server",
		"cluster.application-server", "cluster.join-server", "cluster.crypto-server",
		"cluster.packet-broker-agent", "cluster.device-repository",
		"cluster.gateway-configuration-server", "cluster.device-claiming-server")
	t.add(cluster, KindBool, "cluster.tls")

	// pkg/experimental/config.go (upstream 914f733).
	t.add(upstream("pkg/experimental/config.go", "914f7331df4cf6077e4eb18d73b82085359f7451", "upstream"),
		KindStringList, "experimental.features")

	// pkg/telemetry/tracing/config.go (upstream bf9c632).
	tracing := upstream("pkg/telemetry/tracing/config.go", "bf9c6324b5fc12f561f51166ce73f889554c699b", "upstream")
	t.add(tracing, KindBool, "tracing.enable", "tracing.collector-config.insecure",
		"tracing.writer-config.timestamps", "tracing.writer-config.pretty")
	t.addNote(tracing, KindString, `"otlp" or "writer"`, "tracing.exporter")
	t.add(tracing, KindString, "tracing.collector-config.endpoint-url")
	t.addNote(tracing, KindString, `"stdout" or "stderr"`, "tracing.writer-config.destination")
	t.add(tracing, KindFloat, "tracing.sample-probability")
	t.tlsClientKeys("tracing.collector-config.tls")

	// pkg/telemetry/exporter/config.go (upstream 6538704).
	telemetry := upstream("pkg/telemetry/exporter/config.go", "6538704cdd7ae293d9e91c6150ba0155f27c7303", "upstream")
	t.add(telemetry, KindBool, "telemetry.enable", "telemetry.entity-count-telemetry.enable")
	t.add(telemetry, KindString, "telemetry.target")
	t.add(telemetry, KindUint, "telemetry.num-consumers")
	t.add(telemetry, KindDuration, "telemetry.entity-count-telemetry.interval")

	// Identity Server: pkg/identityserver/config.go (fork snapshot 802c015,
	// v3.28.0-dev; the v3.28–v3.32.1 CHANGELOG adds no IS key, and
	// is.user-login.session-ttl only came in v3.36.1).
	is := fork("pkg/identityserver/config.go", commitFork, "")
	t.addNote(is, KindString, "PostgreSQL connection URI", "is.database-uri")
	t.add(is, KindBool,
		"is.user-registration.enabled",
		"is.user-registration.invitation.required",
		"is.user-registration.contact-info-validation.required",
		"is.user-registration.admin-approval.required",
		"is.user-registration.password-requirements.reject-user-id",
		"is.user-registration.password-requirements.reject-common",
		"is.profile-picture.disable-upload", "is.profile-picture.use-gravatar",
		"is.end-device-picture.disable-upload",
		"is.user-rights.create-applications", "is.user-rights.create-clients",
		"is.user-rights.create-gateways", "is.user-rights.create-organizations",
		"is.admin-rights.all",
		"is.collaborator-rights.set-others-as-contacts",
		"is.login-tokens.enabled",
		"is.dev-eui-block.enabled")
	t.add(is, KindDuration,
		"is.user-registration.invitation.token-ttl",
		"is.user-registration.contact-info-validation.token-ttl",
		"is.user-registration.contact-info-validation.retry-interval",
		"is.auth-cache.membership-ttl",
		"is.login-tokens.token-ttl",
		"is.gateways.token-validity",
		"is.delete.restore")
	t.add(is, KindInt,
		"is.user-registration.password-requirements.min-length",
		"is.user-registration.password-requirements.max-length",
		"is.user-registration.password-requirements.min-uppercase",
		"is.user-registration.password-requirements.min-digits",
		"is.user-registration.password-requirements.min-special",
		"is.dev-eui-block.application-limit",
		"is.dev-eui-block.init-counter")
	t.add(is, KindString,
		"is.profile-picture.bucket", "is.profile-picture.bucket-url",
		"is.end-device-picture.bucket", "is.end-device-picture.bucket-url",
		"is.end-devices.encryption-key-id", "is.gateways.encryption-key-id")
	t.addNote(is, KindString, "EUI-64 prefix, such as 70B3D57ED0000000/36", "is.dev-eui-block.prefix")
	t.addNote(is, KindString, "NetID (6 hex digits) returned in Backend Interfaces HomeNSAns; same as ns.net-id",
		"is.network.net-id")
	t.addNote(is, KindString, "NSID (EUI-64, 16 hex digits) returned in HomeNSAns; added in v3.28.0", "is.network.ns-id")
	t.addNote(is, KindString, "tenant ID within the NetID; empty if the NetID is dedicated", "is.network.tenant-id")
	t.add(is, KindString, "is.email.dir")
	t.addNote(is, KindString, `"sendgrid", "smtp" or "dir"`, "is.email.provider")
	t.add(is, KindString, "is.email.templates.directory", "is.email.templates.url")
	t.addNote(is, KindString, `"static", "directory", "url" or "blob"`, "is.email.templates.source")
	t.blobPathKeys("is.email.templates.blob", "path in the bucket")
	t.add(is, KindStringList, "is.email.templates.includes")

	// pkg/email/config.go (fork dcb4814), squashed into is.email.
	email := fork("pkg/email/config.go", commitFork2, "")
	t.add(email, KindString,
		"is.email.sender-name", "is.email.sender-address",
		"is.email.network.name", "is.email.network.identity-server-url", "is.email.network.console-url",
		"is.email.network.assets-base-url", "is.email.network.branding-base-url")
	// pkg/email/sendgrid/config.go and pkg/email/smtp/config.go (fork 802c015).
	sendgrid := fork("pkg/email/sendgrid/config.go", commitFork, "")
	t.add(sendgrid, KindString, "is.email.sendgrid.api-key")
	t.add(sendgrid, KindBool, "is.email.sendgrid.sandbox")
	smtp := fork("pkg/email/smtp/config.go", commitFork, "")
	t.addNote(smtp, KindString, "host:port", "is.email.smtp.address")
	t.add(smtp, KindString, "is.email.smtp.username", "is.email.smtp.password")
	t.add(smtp, KindInt, "is.email.smtp.connections")

	// pkg/oauth/config.go (fork 802c015): is.oauth, with webui.TemplateData
	// (pkg/webui/template.go) and webui.APIConfig (pkg/webui/config.go).
	oauth := fork("pkg/oauth/config.go", commitFork, "")
	t.addNote(oauth, KindString, "path of the Account app and OAuth server (default /oauth)", "is.oauth.mount")
	t.templateDataKeys("is.oauth.ui")
	t.add(oauth, KindString, "is.oauth.ui.documentation-base-url", "is.oauth.ui.status-page-base-url")
	t.addNote(oauth, KindString, "URL of the root of the Console", "is.oauth.ui.console-url")
	t.apiConfigKeys("is.oauth.ui.is")

	// Gateway Server: pkg/gatewayserver/config.go (fork 802c015; the same
	// struct is in upstream, index file id 11087614622). The frontend for
	// The Things Industries gateway protocol (v3.32.0) is listed below from
	// the v3.32.1 tag itself.
	gs := fork("pkg/gatewayserver/config.go", commitFork, "")
	t.add(gs, KindBool, "gs.require-registered-gateways")
	t.add(gs, KindDuration,
		"gs.fetch-gateway-interval",
		"gs.update-gateway-location-debounce-time",
		"gs.update-connection-stats-interval",
		"gs.update-connection-stats-debounce-time",
		"gs.connection-stats-ttl",
		"gs.connection-stats-disconnect-ttl",
		"gs.update-version-info-delay",
		"gs.packetbroker.update-gateway-interval",
		"gs.packetbroker.online-ttl-margin",
		"gs.basic-station.max-valid-round-trip-delay")
	t.add(gs, KindFloat, "gs.fetch-gateway-jitter", "gs.packetbroker.update-gateway-jitter")
	t.addNote(gs, KindStringListMap, `target=DevAddr prefix pairs, such as "cluster=00000000/0"`, "gs.forward")
	t.mqttKeys("gs.mqtt")
	t.mqttKeys("gs.mqtt-v2")
	t.addNote(gs, KindStringMap, "listen address=fallback frequency plan ID", "gs.udp.listeners")
	t.add(gs, KindString, "gs.basic-station.fallback-frequency-plan-id")
	t.addNote(gs, KindString, "host:port; empty disables the listener", "gs.basic-station.listen", "gs.basic-station.listen-tls")

	// pkg/gatewayserver/io/udp/config.go (fork 802c015; upstream 1fe22fe
	// is older and lacks connection-error-expires), squashed into gs.udp.
	udp := fork("pkg/gatewayserver/io/udp/config.go", commitFork, "")
	t.add(udp, KindInt, "gs.udp.packet-handlers", "gs.udp.packet-buffer", "gs.udp.rate-limiting.messages")
	t.add(udp, KindDuration,
		"gs.udp.downlink-path-expires", "gs.udp.connection-expires", "gs.udp.connection-error-expires",
		"gs.udp.schedule-late-time", "gs.udp.addr-change-block", "gs.udp.rate-limiting.threshold")
	t.add(udp, KindBool, "gs.udp.rate-limiting.enable")

	// pkg/gatewayserver/io/semtechws/config.go (upstream a9768f3; the fork
	// calls the package ws, same keys), squashed into gs.basic-station.
	ws := upstream("pkg/gatewayserver/io/semtechws/config.go", "a9768f3d54cbfb976069278176794c4a247d173a",
		"upstream; same keys as pkg/gatewayserver/io/ws/config.go in the fork snapshot")
	t.add(ws, KindBool, "gs.basic-station.use-traffic-tls-address", "gs.basic-station.allow-unauthenticated")
	t.add(ws, KindDuration, "gs.basic-station.ws-ping-interval", "gs.basic-station.time-sync-interval")
	t.add(ws, KindInt, "gs.basic-station.missed-pong-threshold")

	// The Things Industries gateway protocol frontend (gs.ttigw, new in
	// v3.32.0): TheThingsIndustriesGatewayConfig `name:"ttigw"` in
	// pkg/gatewayserver/config.go, with pkg/gatewayserver/io/ttigw/config.go
	// squashed into it, read at tag v3.32.1. Defaults :1889 and :8889
	// (cmd/internal/shared/gatewayserver/config.go); `ttn-lw-stack config
	// --help` of the v3.32.1 binary lists the same five keys.
	ttigw := upstream("pkg/gatewayserver/config.go", commitV3321, "tag v3.32.1")
	t.add(ttigw, KindString, "gs.ttigw.fallback-frequency-plan-id")
	t.addNote(ttigw, KindString, "host:port; empty disables the listener", "gs.ttigw.listen", "gs.ttigw.listen-tls")
	ttigwWS := upstream("pkg/gatewayserver/io/ttigw/config.go", commitV3321, "tag v3.32.1")
	t.add(ttigwWS, KindDuration, "gs.ttigw.ws-ping-interval")
	t.add(ttigwWS, KindInt, "gs.ttigw.missed-pong-threshold")

	// Network Server: pkg/networkserver/config.go (upstream, index file id
	// 2881016799, which is v3.34.0 or later; ns.pagination.default-limit,
	// added in v3.34.0, is left out; all other keys equal the fork 802c015).
	ns := Source{Repo: repoTTS, Path: "pkg/networkserver/config.go",
		Version: versionUpstreamNew + "; index file id 2881016799; same keys in fork " + commitFork}
	t.add(ns, KindUint,
		"ns.application-uplink-queue.buffer-size", "ns.application-uplink-queue.num-consumers",
		"ns.application-uplink-queue.fast-buffer-size", "ns.application-uplink-queue.fast-num-consumers",
		"ns.downlink-task-queue.num-consumers",
		"ns.default-mac-settings.status-count-periodicity")
	t.addNote(ns, KindString, "NetID, 6 hex digits", "ns.net-id")
	t.addNote(ns, KindString, "informative cluster ID added to uplink metadata", "ns.cluster-id")
	t.addNote(ns, KindStringList, "DevAddr prefixes, such as 26000000/7", "ns.dev-addr-prefixes")
	t.add(ns, KindDuration,
		"ns.deduplication-window", "ns.cooldown-window",
		"ns.default-mac-settings.class-b-timeout", "ns.default-mac-settings.class-c-timeout",
		"ns.default-mac-settings.status-time-periodicity")
	t.addNote(ns, KindString, "lowest, low, below_normal, normal, above_normal, high or highest",
		"ns.downlink-priorities.join-accept", "ns.downlink-priorities.mac-commands",
		"ns.downlink-priorities.max-application-downlink")
	t.add(ns, KindFloat, "ns.default-mac-settings.adr-margin")
	t.addNote(ns, KindString, "enum value; unset by default",
		"ns.default-mac-settings.desired-rx1-delay",
		"ns.default-mac-settings.desired-max-duty-cycle",
		"ns.default-mac-settings.desired-adr-ack-limit-exponent",
		"ns.default-mac-settings.desired-adr-ack-delay-exponent")
	t.interopClientKeys("ns.interop")
	t.addNote(ns, KindString, "NSID of this Network Server, EUI-64 (16 hex digits)", "ns.interop.id")
	t.add(ns, KindString, "ns.device-kek-label")
	t.add(ns, KindInt, "ns.downlink-queue-capacity")

	// Application Server: pkg/applicationserver/config.go (upstream, index
	// file id 3104399411, v3.34.0 or later; as.pagination.default-limit,
	// added in v3.34.0, is left out; all other keys equal the fork 802c015).
	as := Source{Repo: repoTTS, Path: "pkg/applicationserver/config.go",
		Version: versionUpstreamNew + "; index file id 3104399411; same keys in fork " + commitFork}
	t.addNote(as, KindString, "deprecated", "as.link-mode")
	t.addNote(as, KindInt, "deprecated", "as.uplink-storage.limit")
	t.add(as, KindInt,
		"as.formatters.max-parameter-length",
		"as.distribution.local.broadcast.subscription-queue-size",
		"as.distribution.local.individual.subscription-queue-size",
		"as.distribution.global.individual.subscription-queue-size",
		"as.fetcher.cache.size", "as.fetcher.circuit-breaker.threshold",
		"as.webhooks.queue-size", "as.webhooks.workers", "as.webhooks.unhealthy-attempts-threshold",
		"as.device-last-seen.batch-size")
	t.add(as, KindBool,
		"as.distribution.local.broadcast.subscription-blocks",
		"as.distribution.local.individual.subscription-blocks",
		"as.distribution.global.individual.subscription-blocks",
		"as.fetcher.cache.enable", "as.fetcher.circuit-breaker.enable",
		"as.end-device-metadata-storage.location.cache.enable")
	t.add(as, KindDuration,
		"as.distribution.timeout",
		"as.fetcher.timeout", "as.fetcher.cache.ttl", "as.fetcher.circuit-breaker.timeout",
		"as.end-device-metadata-storage.location.timeout",
		"as.end-device-metadata-storage.location.cache.min-refresh-interval",
		"as.end-device-metadata-storage.location.cache.max-refresh-interval",
		"as.end-device-metadata-storage.location.cache.eviction-ttl",
		"as.webhooks.timeout", "as.webhooks.unhealthy-retry-interval",
		"as.device-last-seen.flush-interval")
	t.mqttKeys("as.mqtt")
	t.addNote(as, KindString, `"direct" or empty (webhooks disabled)`, "as.webhooks.target")
	t.addNote(as, KindStringMap, `provider=status, such as "mqtt=enabled nats=disabled"; no sub-keys in the environment`,
		"as.pubsub.providers")
	t.interopClientKeys("as.interop")
	t.addNote(as, KindString, "AS-ID of this Application Server", "as.interop.id")
	t.add(as, KindString, "as.device-kek-label")
	t.add(as, KindUint,
		"as.downlinks.confirmation.default-retry-attempts", "as.downlinks.confirmation.max-retry-attempts")
	// pkg/applicationserver/io/web/config.go (fork 802c015).
	web := fork("pkg/applicationserver/io/web/config.go", commitFork, "")
	t.add(web, KindString,
		"as.webhooks.templates.directory", "as.webhooks.templates.url", "as.webhooks.templates.logo-base-url",
		"as.webhooks.downlink.public-address", "as.webhooks.downlink.public-tls-address")
	// pkg/applicationserver/io/packages/config.go (fork 802c015).
	packages := fork("pkg/applicationserver/io/packages/config.go", commitFork, "")
	t.add(packages, KindInt, "as.packages.workers")
	t.add(packages, KindDuration, "as.packages.timeout")

	// Join Server: pkg/joinserver/config.go (fork 802c015).
	js := fork("pkg/joinserver/config.go", commitFork, "")
	t.addNote(js, KindStringList, "JoinEUI prefixes, such as 70B3D57ED0000000/40", "js.join-eui-prefix")
	t.addNote(js, KindString, "EUI-64", "js.default-join-eui")
	t.add(js, KindString, "js.device-kek-label")
	t.add(js, KindInt, "js.dev-nonce-limit", "js.session-key-limit")

	// Console: pkg/console/config.go (upstream, index file id 9136830023,
	// same as fork 802c015), with pkg/web/oauthclient/config.go (fork).
	console := Source{Repo: repoTTS, Path: "pkg/console/config.go",
		Version: "upstream, newest version found (index file id 9136830023); same as fork " + commitFork}
	oauthClient := fork("pkg/web/oauthclient/config.go", commitFork, "")
	t.addNote(oauthClient, KindString, "URL of the IS OAuth authorize endpoint", "console.oauth.authorize-url")
	t.addNote(oauthClient, KindString, "URL of the IS OAuth token endpoint", "console.oauth.token-url")
	t.addNote(oauthClient, KindString, "URL of the IS OAuth logout endpoint", "console.oauth.logout-url")
	t.addNote(oauthClient, KindString, "must match an OAuth client in the IS database (default console)",
		"console.oauth.client-id")
	t.addNote(oauthClient, KindString, "secret of that OAuth client", "console.oauth.client-secret")
	t.add(oauthClient, KindBool, "console.oauth.cross-site-cookie")
	t.addNote(console, KindString, "path of the Console (default /console)", "console.mount")
	t.templateDataKeys("console.ui")
	t.add(console, KindString,
		"console.ui.documentation-base-url", "console.ui.status-page-base-url", "console.ui.support-link")
	t.addNote(console, KindString, "URL of the Account app (IS OAuth UI)", "console.ui.account-url")
	t.add(console, KindBool, "console.ui.dev-eui-issuing-enabled")
	t.add(console, KindInt, "console.ui.dev-eui-app-limit")
	for _, c := range []string{"is", "gs", "ns", "as", "js", "edtc", "qrg", "gcs", "dcs"} {
		t.apiConfigKeys("console.ui." + c)
	}

	// Gateway Configuration Server: pkg/gatewayconfigurationserver/config.go
	// with pkg/basicstation/cups/config.go and
	// pkg/gatewayconfigurationserver/v2/config.go (fork 802c015).
	gcs := fork("pkg/gatewayconfigurationserver/config.go", commitFork, "")
	t.add(gcs, KindBool, "gcs.require-auth")
	cups := fork("pkg/basicstation/cups/config.go", commitFork, "")
	t.addNote(cups, KindBool, "ineffective", "gcs.basic-station.require-explicit-enable")
	t.addNote(cups, KindString, `"user" or "organization"`, "gcs.basic-station.owner-for-unknown.account-type")
	t.add(cups, KindString,
		"gcs.basic-station.owner-for-unknown.id", "gcs.basic-station.owner-for-unknown.api-key",
		"gcs.basic-station.default.lns-uri")
	t.add(cups, KindBool, "gcs.basic-station.allow-cups-uri-update")
	ttg := fork("pkg/gatewayconfigurationserver/v2/config.go", commitFork, "")
	t.add(ttg, KindString,
		"gcs.the-things-gateway.default.update-channel", "gcs.the-things-gateway.default.mqtt-server",
		"gcs.the-things-gateway.default.firmware-url")

	// Device Claiming Server: pkg/deviceclaimingserver/config.go and
	// pkg/deviceclaimingserver/enddevices/config.go (fork dcb4814). The
	// gateway claiming section added in v3.32.0 is not listed (see
	// SOURCES.md).
	edcs := fork("pkg/deviceclaimingserver/enddevices/config.go", commitFork2, "")
	t.addNote(edcs, KindString, "NetID, 6 hex digits", "dcs.edcs.net-id")
	t.addNote(edcs, KindString, "EUI-64", "dcs.edcs.ns-id")
	t.add(edcs, KindString, "dcs.edcs.as-id")
	t.addNote(edcs, KindString, "deprecated", "dcs.edcs.network-server.home-ns-id", "dcs.edcs.network-server.hostname")
	t.addNote(edcs, KindString, `"directory", "url" or "blob"`, "dcs.edcs.source")
	t.add(edcs, KindString, "dcs.edcs.directory", "dcs.edcs.url")
	t.blobPathKeys("dcs.edcs.blob", "path in the bucket of the folder holding config.yml")

	// Packet Broker Agent: pkg/packetbrokeragent/config.go (fork 802c015).
	pba := fork("pkg/packetbrokeragent/config.go", commitFork, "")
	t.add(pba, KindString,
		"pba.registration.name",
		"pba.registration.administrative-contact.email", "pba.registration.technical-contact.email",
		"pba.iam-address", "pba.control-plane-address", "pba.data-plane-address", "pba.mapper-address",
		"pba.tenant-id", "pba.cluster-id", "pba.home-network-cluster-id",
		"pba.oauth2.client-id", "pba.oauth2.client-secret", "pba.oauth2.token-url")
	t.addNote(pba, KindString, "NetID, 6 hex digits", "pba.net-id")
	t.addNote(pba, KindString, `"oauth2"`, "pba.authentication-mode")
	t.add(pba, KindBool,
		"pba.registration.listed", "pba.insecure",
		"pba.forwarder.enable", "pba.forwarder.include-gateway-eui", "pba.forwarder.include-gateway-id",
		"pba.forwarder.hash-gateway-id",
		"pba.home-network.enable", "pba.home-network.include-hops")
	t.add(pba, KindInt, "pba.forwarder.worker-pool.limit", "pba.home-network.worker-pool.limit")
	t.addNote(pba, KindBytes, "AES 128 or 256 bit key, hex", "pba.forwarder.token-key")
	t.add(pba, KindDuration, "pba.forwarder.gateway-online-ttl")
	t.addNote(pba, KindStringList, "DevAddr prefixes", "pba.home-network.dev-addr-prefixes")

	// Device Repository: pkg/devicerepository/config.go and
	// pkg/devicerepository/store/bleve/config.go (fork 802c015).
	dr := fork("pkg/devicerepository/config.go", commitFork, "")
	t.addNote(dr, KindString, `"directory"`, "dr.source")
	t.add(dr, KindString, "dr.directory", "dr.assets-base-url")
	t.add(fork("pkg/devicerepository/store/bleve/config.go", commitFork, ""), KindStringList, "dr.store.bleve.search-paths")

	// Device Template Converter: pkg/devicetemplateconverter/config.go (fork
	// 802c015). The QR Code Generator config struct (qrg) has no keys.
	t.add(fork("pkg/devicetemplateconverter/config.go", commitFork, ""), KindStringList, "dtc.enabled")

	return t.entries
}
