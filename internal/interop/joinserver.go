package interop

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// Protocol is a LoRaWAN Backend Interfaces version as TTS spells it.
type Protocol string

// Protocols TTS accepts (exact, case-sensitive spellings).
const (
	BI10 Protocol = "BI1.0"
	BI11 Protocol = "BI1.1"
)

// Defaults TTS applies.
const (
	DefaultScheme = "https"
	DefaultPort   = 443
)

// Paths are the URL paths of the Backend Interfaces requests, each optionally
// with a query ('api/join?code=XYZ'). TTS builds the URL as
// scheme://fqdn:port/PATH, or scheme://fqdn:port when PATH is empty.
type Paths struct {
	Join, Rejoin, AppSKey, HomeNS string
}

// Secret is a value that is either a literal in the file or a reference to
// AWS Secrets Manager. String never shows a literal.
type Secret struct {
	Literal string
	Ref     *SecretRef
}

// String describes the secret without revealing a literal.
func (s Secret) String() string {
	if s.Ref != nil {
		return "{" + s.Ref.String() + "}"
	}
	if s.Literal != "" {
		return "(literal, hidden)"
	}
	return "(none)"
}

// BasicAuth is HTTP Basic authentication towards the Join Server.
type BasicAuth struct {
	Username string
	Password Secret
}

// TLS is the client TLS configuration towards the Join Server. Paths are
// repository-relative.
type TLS struct {
	// Source is "file" or "key-vault" as written; empty means "file" when a
	// certificate or key is given. "key-vault" is accepted (with a warning)
	// only with root-ca alone: see keyVaultMsg and keyVaultRootCAMsg.
	Source      string
	RootCA      string
	Certificate string
	// KeyFile is the repository-relative path of a literal key file; KeyRef is
	// set instead when the key is a Secrets Manager reference.
	KeyFile string
	KeyRef  *SecretRef
}

// JoinServer is one loaded Join Server file. Zero values mean "not set";
// the Effective* methods apply TTS's defaults.
type JoinServer struct {
	Path       string
	Scheme     string
	FQDN       string
	Port       int
	Protocol   Protocol
	Paths      Paths
	SenderNSID *EUI64
	BasicAuth  *BasicAuth
	TLS        *TLS
	// Headers are the extra HTTP headers, by name as written.
	Headers map[string]Secret
}

// EffectiveScheme returns the scheme TTS uses.
func (js *JoinServer) EffectiveScheme() string {
	if js.Scheme == "" {
		return DefaultScheme
	}
	return js.Scheme
}

// EffectivePort returns the port TTS uses.
func (js *JoinServer) EffectivePort() int {
	if js.Port == 0 {
		return DefaultPort
	}
	return js.Port
}

// URL returns the URL TTS posts to for a request path (one of js.Paths).
func (js *JoinServer) URL(p string) string {
	u := fmt.Sprintf("%s://%s:%d", js.EffectiveScheme(), js.FQDN, js.EffectivePort())
	if p != "" {
		u += "/" + p
	}
	return u
}

var joinServerKeys = []string{"scheme", "fqdn", "port", "protocol", "paths", "sender-ns-id", "basic-auth", "tls", "headers", "dns"}

func (l *loader) joinServer(p string, usedBy map[ports.Component]bool) *JoinServer {
	c := l.check(p)
	data, err := l.read(p)
	if err != nil {
		c.errorf("interop.unreadable-file", nil, "", "cannot read the file: %v", unwrapPathError(err))
		return nil
	}
	root, ok := c.parseYAML(data)
	if !ok {
		return nil
	}
	js := &JoinServer{Path: p, Headers: map[string]Secret{}}
	if root == nil {
		c.errorf("interop.empty-file", nil, "", "the file is empty; a Join Server file needs at least 'fqdn:' and 'protocol:'")
		return js
	}
	fields, ok := c.mapping(root, "", joinServerKeys)
	if !ok {
		return js
	}

	if f, has := fields["dns"]; has {
		c.errorf("interop.dns-unsupported", f.key, f.path, "TTS does not support DNS lookup of Join Servers and fails at start when 'dns' is set; remove it and set 'fqdn'")
	}

	if f, has := fields["scheme"]; has {
		if v, ok := c.str(f); ok {
			switch v {
			case "https":
				js.Scheme = v
			case "http":
				js.Scheme = v
				c.warnf("interop.plain-http", f.val, f.path, "plain http sends join-requests, session keys and credentials unencrypted (TTS logs a warning for every request); use https unless this is a test")
			default:
				c.errorf("interop.bad-scheme", f.val, f.path, "%q is not a supported scheme; use https (the default, so you may remove the key) or http", v)
			}
		}
	}

	if f, has := fields["fqdn"]; !has {
		c.errorf("interop.missing-fqdn", root, "fqdn", "missing; TTS requires the Join Server's host name (it does not look Join Servers up in DNS) and fails at start without it. Add e.g. fqdn: 'js.example.com'")
	} else if v, ok := c.str(f); ok {
		if msg := checkHost(v); msg != "" {
			c.errorf("interop.bad-fqdn", f.val, f.path, "%s", msg)
		} else {
			js.FQDN = v
		}
	}

	if f, has := fields["port"]; has {
		n := diag.YAMLDeref(f.val)
		switch {
		case diag.YAMLIsNull(n):
			c.errorf("interop.empty-value", f.key, f.path, "the value is empty; remove the key for the default %d or give a number", DefaultPort)
		case n.Kind != yaml.ScalarNode || n.Tag != "!!int":
			c.errorf("interop.wrong-type", n, f.path, "expected a port number, got %s; TTS reads the port as a number, so write it without quotes", diag.YAMLDescribe(n))
		default:
			v, err := strconv.ParseInt(n.Value, 0, 64)
			switch {
			case err != nil || v < 1 || v > 65535:
				c.errorf("interop.bad-port", n, f.path, "%s is not a TCP port; use a number from 1 to 65535, or remove the key for the default %d", n.Value, DefaultPort)
			default:
				js.Port = int(v)
			}
		}
	}

	if f, has := fields["protocol"]; !has {
		c.errorf("interop.missing-protocol", root, "protocol", "missing; TTS fails at start without it. Add protocol: 'BI1.0' or protocol: 'BI1.1' (the Backend Interfaces version the Join Server speaks)")
	} else if v, ok := c.str(f); ok {
		switch Protocol(v) {
		case BI10, BI11:
			js.Protocol = Protocol(v)
		default:
			hint := ""
			switch strings.ToUpper(strings.ReplaceAll(v, " ", "")) {
			case "BI1.0", "1.0", "V1.0", "TS002-1.0", "TS002-1.0.0":
				hint = "; did you mean 'BI1.0'?"
			case "BI1.1", "1.1", "V1.1", "TS002-1.1", "TS002-1.1.0":
				hint = "; did you mean 'BI1.1'?"
			}
			c.errorf("interop.bad-protocol", f.val, f.path, "%q is not a protocol TTS knows (it fails at start with unknown_protocol); use exactly 'BI1.0' or 'BI1.1'%s", v, hint)
		}
	}

	if f, has := fields["paths"]; has {
		l.paths(c, f, js)
	}

	l.senderNSID(c, fields, root, js, usedBy)

	if f, has := fields["basic-auth"]; has {
		l.basicAuth(c, f, js)
	}
	if f, has := fields["headers"]; has {
		l.headers(c, f, js)
	}
	if f, has := fields["tls"]; has {
		l.tls(c, f, js)
	}
	return js
}

var (
	hostLabelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	// pathRE and queryRE: the characters RFC 3986 allows in a path and a query.
	pathRE  = regexp.MustCompile(`^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$`)
	queryRE = regexp.MustCompile(`^[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*$`)
)

// checkHost returns "" if h is a valid DNS host name or IPv4 address, else what is wrong.
func checkHost(h string) string {
	if strings.Contains(h, "://") {
		return fmt.Sprintf("%q is a URL; give only the host name here and the scheme, port and paths in 'scheme', 'port' and 'paths'", h)
	}
	if strings.ContainsAny(h, "/:") {
		if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil && ip.To4() == nil {
			return fmt.Sprintf("%q is an IPv6 address, which TTS cannot put in a URL (it adds no brackets); use a host name", h)
		}
		return fmt.Sprintf("%q is not a host name; give only the host name, and the port in 'port' and paths in 'paths'", h)
	}
	if ip := net.ParseIP(h); ip != nil {
		return "" // IPv4 literal: valid in a URL, though TLS then needs an IP SAN.
	}
	name := strings.TrimSuffix(h, ".")
	if len(name) == 0 || len(name) > 253 {
		return fmt.Sprintf("%q is not a valid host name (1 to 253 characters)", h)
	}
	for _, label := range strings.Split(name, ".") {
		if !hostLabelRE.MatchString(label) {
			return fmt.Sprintf("%q is not a valid host name: label %q must be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen", h, label)
		}
	}
	return ""
}

func (l *loader) paths(c *fileCheck, f field, js *JoinServer) {
	fields, ok := c.mapping(f.val, f.path, []string{"join", "rejoin", "app-s-key", "home-ns"})
	if !ok {
		return
	}
	for _, name := range sortedKeys(fields) {
		pf := fields[name]
		v, ok := c.str(pf)
		if !ok {
			continue
		}
		if !requestPath(c, pf, js, v) {
			continue
		}
		switch name {
		case "join":
			js.Paths.Join = v
		case "rejoin":
			js.Paths.Rejoin = v
		case "app-s-key":
			js.Paths.AppSKey = v
		case "home-ns":
			js.Paths.HomeNS = v
		}
	}
}

// requestPath checks a request path the way TTS uses it: TTS formats
// scheme://fqdn:port/PATH and gives it to http.NewRequest, so a query
// ('?') is sent as written, and Go percent-encodes what a path may not hold.
// It returns false when TTS cannot use the value.
func requestPath(c *fileCheck, pf field, js *JoinServer, v string) bool {
	full := js.URL(v)
	u, err := url.Parse(full)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		c.errorf("interop.bad-path", pf.val, pf.path, "%q: TTS posts to %s, which Go cannot parse (%v), so every request to this Join Server fails; percent-encode the offending characters (a literal '%%' is '%%25')", v, full, err)
		return false
	}
	if strings.Contains(v, "#") {
		c.errorf("interop.path-fragment", pf.val, pf.path, "%q contains '#': Go takes the rest as a URL fragment and never sends it, so the Join Server would get %s. Remove it, or write '%%23' if '#' belongs to the path or query", v, u.RequestURI())
		return false
	}
	pathPart, query, _ := strings.Cut(v, "?")
	if strings.Contains(query, " ") {
		c.errorf("interop.path-query-space", pf.val, pf.path, "%q has a space in the query; Go sends the query as written, and a space breaks the HTTP request line (the server answers 400 Bad Request). Write %%20 (or '+' in a form-encoded value)", v)
		return false
	}
	if !queryRE.MatchString(query) {
		c.warnf("interop.path-query-chars", pf.val, pf.path, "%q has characters that are not allowed in a URL query (quotes, brackets, non-ASCII); Go sends the query as written, so a strict server refuses the request. Percent-encode them", v)
	}
	if !pathRE.MatchString(pathPart) {
		c.warnf("interop.path-chars", pf.val, pf.path, "%q has characters that are not allowed in a URL path (spaces, quotes, non-ASCII); Go percent-encodes them, so the Join Server gets %s. Write them percent-encoded so that the file shows the path that is sent", v, u.RequestURI())
	}
	if strings.HasPrefix(v, "/") {
		c.warnf("interop.path-leading-slash", pf.val, pf.path, "%q starts with '/'; TTS adds a '/' itself, so the URL gets '//' (%s). Remove the leading slash", v, full)
	}
	return true
}

func (l *loader) senderNSID(c *fileCheck, fields map[string]field, root *yaml.Node, js *JoinServer, usedBy map[ports.Component]bool) {
	f, has := fields["sender-ns-id"]
	if has {
		n := diag.YAMLDeref(f.val)
		if diag.YAMLIsNull(n) || n.Kind != yaml.ScalarNode {
			c.errorf("interop.wrong-type", f.key, f.path, "expected an NSID of 16 hexadecimal digits in quotes, e.g. '0102030405060708', got %s", diag.YAMLDescribe(n))
		} else if eui, err := ParseEUI64(n.Value); err != nil {
			c.errorf("interop.bad-nsid", n, f.path, "%v; the NSID is the Network Server's EUI-64, e.g. '0102030405060708'", err)
		} else {
			js.SenderNSID = &eui
		}
	}
	if js.Protocol == "" {
		return // protocol already reported
	}
	protoNode := root
	if pf, ok := fields["protocol"]; ok {
		protoNode = pf.val
	}
	switch {
	case js.Protocol == BI10 && js.SenderNSID != nil:
		c.errorf("interop.nsid-unsupported", f.key, f.path, "not supported with protocol BI1.0; TTS fails every join-request to this Join Server with ns_id_not_supported. Remove sender-ns-id, or use protocol 'BI1.1'")
	case js.Protocol == BI11 && usedBy[ports.NetworkServer] && !has && l.opts.NSInteropID == nil:
		c.errorf("interop.missing-nsid", protoNode, "sender-ns-id", "missing for protocol BI1.1 used by the Network Server; BI 1.1 join-requests carry the sender NSID, and without it TTS fails every join-request with missing_ns_id. Add sender-ns-id: '<your NS EUI-64>' (or configure ns.interop.id for the deployment), or restrict this Join Server to 'components: [as]'")
	case js.Protocol == BI11 && js.SenderNSID != nil && !usedBy[ports.NetworkServer]:
		c.warnf("interop.nsid-unused", f.key, f.path, "only the Application Server uses this file, and it does not send an NSID; remove sender-ns-id")
	}
}

func (l *loader) basicAuth(c *fileCheck, f field, js *JoinServer) {
	fields, ok := c.mapping(f.val, f.path, []string{"username", "password"})
	if !ok {
		return
	}
	ba := &BasicAuth{}
	uf, hasUser := fields["username"]
	if hasUser {
		if v, ok := c.str(uf); ok {
			if strings.Contains(v, ":") {
				c.errorf("interop.bad-username", uf.val, uf.path, "a Basic authentication username cannot contain ':'")
			}
			literalCredentialValue(c, uf, v)
			ba.Username = v
		}
	}
	pf, hasPass := fields["password"]
	if hasPass {
		ba.Password = l.secretOrLiteral(c, pf, []string{"basic-auth", "password"},
			"literal secret in git; store the password in AWS Secrets Manager and write password: {secret: <secret name or ARN>, json-key: <field, optional>}")
		literalCredentialValue(c, pf, ba.Password.Literal)
	}
	switch {
	case !hasUser && !hasPass:
		c.warnf("interop.empty-basic-auth", f.key, f.path, "empty; TTS sends no credentials. Remove the key or give username and password")
	case !hasUser:
		c.errorf("interop.password-without-username", f.key, f.path, "password without username; TTS sends Basic authentication only when a username is set, so the password would be ignored. Add 'username:'")
	case !hasPass:
		c.warnf("interop.username-without-password", f.key, f.path, "username without password; TTS sends an empty password. Add 'password: {secret: ...}' unless the Join Server really expects none")
	}
	js.BasicAuth = ba
}

// literalCredentialValue reports a control character in a literal basic-auth
// value. TTS base64-encodes username and password into the Authorization
// header, so Go sends the request, but the Join Server receives credentials
// with the control character in them and refuses them.
func literalCredentialValue(c *fileCheck, f field, v string) {
	if msg := headerValueProblem(v); msg != "" {
		c.errorf("interop.bad-credential", f.val, f.path, "the value %s; TTS sends it as part of the Basic credentials and the Join Server would refuse them. %s", msg, literalValueFix(msg))
	}
}

// literalValueFix says how to remove what headerValueProblem found from a
// YAML value.
func literalValueFix(problem string) string {
	if problem == "ends with a line break" {
		return "Remove it (a '|' or '>' block keeps the final line break: write '|-' or '>-', or a quoted string)"
	}
	return "Remove the character"
}

// secretOrLiteral reads a value that is either a string (a literal secret,
// warned about with literalMsg) or a {secret: ...} reference.
func (l *loader) secretOrLiteral(c *fileCheck, f field, yamlPath []string, literalMsg string) Secret {
	n := diag.YAMLDeref(f.val)
	if n != nil && n.Kind == yaml.MappingNode {
		ref, ok := c.secretRefNode(n, f.path, yamlPath)
		if !ok {
			return Secret{}
		}
		ref.Kind = SecretInline
		ref.Line, ref.Column = f.val.Line, f.val.Column // the use site, also for an alias
		l.repo.SecretRefs = append(l.repo.SecretRefs, ref)
		return Secret{Ref: &ref}
	}
	if n != nil && n.Kind == yaml.ScalarNode && !diag.YAMLIsNull(n) && n.Tag != "!!str" && n.Tag != "!!binary" {
		// Name only the YAML type: the value may be a secret.
		c.errorf("interop.wrong-type", n, f.path, "expected a string or {secret: <name or ARN>}, got a value of YAML type %s; put it in quotes (better: move it to Secrets Manager)", strings.TrimPrefix(n.Tag, "!!"))
		return Secret{}
	}
	v, ok := c.str(f)
	if !ok {
		return Secret{}
	}
	if literalMsg != "" {
		c.warnf("interop.literal-secret", n, f.path, "%s", literalMsg)
	}
	return Secret{Literal: v}
}

var tokenRE = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")

func (l *loader) headers(c *fileCheck, f field, js *JoinServer) {
	n := diag.YAMLDeref(f.val)
	if diag.YAMLIsNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		c.errorf("interop.wrong-type", n, f.path, "expected a mapping of header names to values, e.g. 'X-Api-Version: \"2\"', got %s", diag.YAMLDescribe(n))
		return
	}
	canon := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := diag.YAMLDeref(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			c.errorf("interop.key-not-a-word", k, f.path, "a header name must be a plain word, got %s", diag.YAMLDescribe(k))
			continue
		}
		name := k.Value
		hp := joinPath(f.path, name)
		if !tokenRE.MatchString(name) {
			c.errorf("interop.bad-header-name", k, hp, "%q is not a valid HTTP header name; use letters, digits and '-' (no spaces or ':')", name)
			continue
		}
		cn := http.CanonicalHeaderKey(name)
		if line, dup := canon[cn]; dup {
			c.errorf("interop.duplicate-header", k, hp, "the same header as on line %d (header names are case-insensitive, and TTS keeps only one); keep one", line)
			continue
		}
		canon[cn] = k.Line
		hf := field{key: k, val: n.Content[i+1], path: hp}
		sensitive := cn == "Authorization" || cn == "Proxy-Authorization" || cn == "Cookie" ||
			strings.Contains(strings.ToLower(cn), "key") || strings.Contains(strings.ToLower(cn), "token") ||
			strings.Contains(strings.ToLower(cn), "secret")
		literalMsg := ""
		if sensitive {
			literalMsg = "this header looks like a credential: literal secret in git; store it in AWS Secrets Manager and write {secret: <secret name or ARN>, json-key: <field, optional>}"
		}
		hv := diag.YAMLDeref(hf.val)
		var val Secret
		if hv != nil && hv.Kind == yaml.ScalarNode && hv.Tag != "!!str" && !diag.YAMLIsNull(hv) {
			// TTS reads any scalar as the header text; accept numbers and booleans as written.
			val = Secret{Literal: hv.Value}
		} else {
			val = l.secretOrLiteral(c, hf, []string{"headers", name}, literalMsg)
		}
		if msg := headerValueProblem(val.Literal); msg != "" {
			c.errorf("interop.bad-header-value", hf.val, hp, "the value %s, which Go's HTTP client refuses in a header (net/http: invalid header field value), so every request TTS sends to this Join Server would fail. %s", msg, literalValueFix(msg))
			continue
		}
		switch cn {
		case "Content-Type":
			c.warnf("interop.content-type-header", k, hp, "TTS sets Content-Type: application/json itself and this would replace it; Backend Interfaces peers (TTS among them) expect exactly application/json. Remove it")
		case "Authorization":
			if js.BasicAuth != nil && js.BasicAuth.Username != "" {
				c.warnf("interop.authorization-header", k, hp, "ignored: basic-auth is set and TTS writes the Authorization header from it after the custom headers. Remove one of the two")
			}
		case "Host", "Content-Length", "Transfer-Encoding", "Connection":
			c.warnf("interop.client-header", k, hp, "the Go HTTP client TTS uses sets %s itself and ignores or rejects this header; remove it", cn)
		}
		js.Headers[name] = val
	}
}

// keyVaultMsg explains why tls.source 'key-vault' cannot work in a Join
// Server file. TTS's tlsconfig.ClientAuth with source key-vault asks the key
// vault for the client certificate labelled KeyVault.ID, but the tls section
// of a Join Server file (pkg/interop/config.go) has only root-ca, source,
// certificate and key, so the label is always empty; this deployment
// configures no key vault provider (TTS then uses its empty key vault), and
// even a static one would need a certificate under the empty label. TTS
// still starts and applies root-ca, which is the one use left.
const (
	keyVaultMsg = "'key-vault' cannot give a client certificate in a Join Server file: TTS then asks its key vault for the certificate named by a key-vault id, but a Join Server file has no key for that id (TTS reads only source, root-ca, certificate and key from 'tls', and ignores certificate and key with this source), so it asks for an empty name, finds no certificate, and the TLS handshake fails whenever the Join Server asks for a client certificate. Use source: 'file' (or remove source) with certificate: '<file>.pem' and key: {secret: <secret name or ARN>}"

	keyVaultRootCAMsg = "TTS starts with 'key-vault' and verifies the Join Server with root-ca, but has no client certificate to present (a Join Server file cannot name a key-vault entry, so TTS asks its key vault for an empty name and finds none). This works only while the Join Server never asks for a client certificate: once it does, even optionally, every TLS handshake fails. It is the only way to set root-ca without a client certificate; if the Join Server authenticates clients by certificate, use source: 'file' (or remove source) with certificate: '<file>.pem' and key: {secret: <secret name or ARN>}"
)

func (l *loader) tls(c *fileCheck, f field, js *JoinServer) {
	fields, ok := c.mapping(f.val, f.path, []string{"source", "root-ca", "certificate", "key"})
	if !ok || len(fields) == 0 {
		return // tls: {} is the same as no tls for TTS
	}
	t := &TLS{}
	js.TLS = t
	if sf, has := fields["source"]; has {
		if v, ok := c.str(sf); ok {
			switch v {
			case "file", "key-vault":
				t.Source = v
			default:
				c.errorf("interop.bad-tls-source", sf.val, sf.path, "%q is not a TLS client certificate source; use 'file' (the default, so you may remove the key) with certificate: '<file>.pem' and key: {secret: <secret name or ARN>}", v)
				return
			}
		}
	}
	var certs []*x509.Certificate
	if rf, has := fields["root-ca"]; has {
		if v, ok := c.str(rf); ok {
			if p := l.resolvePath(c, rf.val, rf.path, js.Path, v, "root CA file"); p != "" {
				t.RootCA = p
				l.checkRootCA(c, rf, p)
			}
		}
	}
	cf, hasCert := fields["certificate"]
	kf, hasKey := fields["key"]
	if t.Source == "key-vault" {
		sf := fields["source"]
		if _, hasRootCA := fields["root-ca"]; hasRootCA && !hasCert && !hasKey {
			c.warnf("interop.key-vault-root-ca", sf.val, sf.path, "%s", keyVaultRootCAMsg)
		} else {
			c.errorf("interop.key-vault", sf.val, sf.path, "%s", keyVaultMsg)
		}
		return
	}
	switch {
	case !hasCert && !hasKey:
		c.errorf("interop.missing-client-cert", f.key, f.path, "no client certificate: TTS always sets up TLS client authentication when 'tls' is present and fails at start with 'empty TLS source' (or a missing file for source 'file'). Add certificate: '<file>.pem' and key: {secret: <secret name or ARN>}; to only change the root CA of a Join Server that never asks for a client certificate, add source: 'key-vault' (read its warning)")
		return
	case hasCert && !hasKey:
		c.errorf("interop.key-missing", cf.key, f.path, "certificate without key; they come together. Add key: {secret: <secret name or ARN>}")
	case hasKey && !hasCert:
		c.errorf("interop.certificate-missing", kf.key, f.path, "key without certificate; they come together. Add certificate: '<file>.pem'")
	}
	if hasCert {
		if v, ok := c.str(cf); ok {
			if p := l.resolvePath(c, cf.val, cf.path, js.Path, v, "certificate file"); p != "" {
				t.Certificate = p
				certs = l.checkCertificate(c, cf, p)
			}
		}
	}
	if !hasKey {
		return
	}
	kn := diag.YAMLDeref(kf.val)
	if kn != nil && kn.Kind == yaml.MappingNode {
		ref, ok := c.secretRefNode(kn, kf.path, []string{"tls", "key"})
		if !ok {
			return
		}
		ref.Kind = SecretPEMFile
		ref.Line, ref.Column = kf.val.Line, kf.val.Column // the use site, also for an alias
		ref.Certificate = t.Certificate
		base := strings.TrimSuffix(path.Base(js.Path), path.Ext(js.Path))
		ref.Target = path.Join(path.Dir(js.Path), base+".tls-key.pem")
		if _, clash := l.repo.files[ref.Target]; clash || l.referenced[ref.Target] || l.exactFile(ref.Target) == "" {
			c.errorf("interop.key-target-conflict", kn, kf.path, "the deploy-time resolver writes this key to %s, which already exists in the repository or is the key target of another Join Server file; rename that file", ref.Target)
			return
		}
		l.referenced[ref.Target] = true
		l.repo.SecretRefs = append(l.repo.SecretRefs, ref)
		t.KeyRef = &ref
		// The key/certificate match is checked by Materialize at deploy time.
		return
	}
	v, ok := c.str(kf)
	if !ok {
		return
	}
	p := l.resolvePath(c, kf.val, kf.path, js.Path, v, "key file")
	if p == "" {
		return
	}
	t.KeyFile = p
	c.warnf("interop.literal-secret", kf.val, kf.path, "literal secret in git: the private key file %s is deployed from the repository; store the PEM in AWS Secrets Manager and write key: {secret: <secret name or ARN>, json-key: <field, optional>}", p)
	l.checkKeyPair(c, kf, p, t.Certificate, certs)
}
