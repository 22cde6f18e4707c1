package interop

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// SecretKind says how the deploy-time resolver substitutes a reference.
type SecretKind string

// Secret kinds.
const (
	// SecretInline: the reference mapping is replaced by the secret value as a
	// YAML string (basic-auth.password, header values).
	SecretInline SecretKind = "inline"
	// SecretPEMFile: the secret value (a PEM private key) is written to the
	// file Target, and the reference mapping is replaced by the path of that
	// file relative to the Join Server file (tls.key).
	SecretPEMFile SecretKind = "pem-file"
)

// SecretRef is a reference to an AWS Secrets Manager secret that stands in
// for a value in a Join Server file, written as {secret: ID, json-key: KEY}.
type SecretRef struct {
	// File is the repository-relative Join Server file holding the reference.
	File string
	// Line and Column locate the reference mapping in File.
	Line, Column int
	// YAMLPath is the chain of mapping keys from the document root to the
	// value, e.g. ["basic-auth", "password"] or ["headers", "X-Api-Key"].
	YAMLPath []string
	// SecretID is the secret name or full ARN, as accepted by GetSecretValue.
	SecretID string
	// JSONKey, when set, selects a string field of the secret's JSON object;
	// otherwise the whole SecretString is the value.
	JSONKey string
	Kind    SecretKind
	// Target is, for SecretPEMFile, the repository-relative path the resolver
	// writes the PEM to. Empty for SecretInline.
	Target string
	// Certificate is, for SecretPEMFile, the repository-relative path of the
	// certificate the key must match. Empty for SecretInline.
	Certificate string
}

// Path returns YAMLPath joined with dots, for messages.
func (r SecretRef) Path() string { return strings.Join(r.YAMLPath, ".") }

// IsARN reports whether SecretID is an ARN rather than a name.
func (r SecretRef) IsARN() bool { return strings.HasPrefix(r.SecretID, "arn:") }

// String describes the reference without any secret material.
func (r SecretRef) String() string {
	s := "secret " + r.SecretID
	if r.JSONKey != "" {
		s += ", json-key " + r.JSONKey
	}
	return s
}

// Secret secret names: 1 to 512 of the characters Secrets Manager allows.
var (
	secretNameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)
	secretARNRE  = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]|aws-eusc):secretsmanager:([a-z]{2}(-[a-z]+)+-[0-9]+):([0-9]{12}):secret:(.+)$`)
)

// ValidateSecretID checks a Secrets Manager secret name or ARN.
func ValidateSecretID(id string) error {
	if strings.HasPrefix(id, "arn:") {
		m := secretARNRE.FindStringSubmatch(id)
		if m == nil {
			return fmt.Errorf("%q is not a Secrets Manager secret ARN; want arn:aws:secretsmanager:REGION:ACCOUNT-ID(12 digits):secret:NAME-SUFFIX", id)
		}
		if !secretNameRE.MatchString(m[5]) {
			return fmt.Errorf("the name part %q of ARN %q has characters Secrets Manager does not allow; use letters, digits and /_+=.@-", m[5], id)
		}
		return nil
	}
	if !secretNameRE.MatchString(id) {
		return fmt.Errorf("%q is not a valid Secrets Manager secret name; use 1 to 512 letters, digits and /_+=.@- or a full secret ARN", id)
	}
	return nil
}

var jsonKeyRE = regexp.MustCompile(`^[^\x00-\x1f]{1,256}$`)

// secretRefNode parses {secret: ID, json-key: KEY}. It returns ok=false and
// reports problems if the mapping is malformed.
func (c *fileCheck) secretRefNode(n *yaml.Node, path string, yamlPath []string) (SecretRef, bool) {
	fields, ok := c.mapping(n, path, []string{"secret", "json-key"})
	if !ok {
		return SecretRef{}, false
	}
	ref := SecretRef{File: c.file, Line: n.Line, Column: n.Column, YAMLPath: yamlPath}
	f, has := fields["secret"]
	if !has {
		c.errorf("interop.bad-secret-ref", n, path, "a secret reference needs 'secret: <secret name or ARN>' (and optionally 'json-key: <field>')")
		return ref, false
	}
	id, ok := c.str(f)
	if !ok {
		return ref, false
	}
	if err := ValidateSecretID(id); err != nil {
		c.errorf("interop.bad-secret-ref", f.val, f.path, "%v", err)
		return ref, false
	}
	ref.SecretID = id
	if jf, has := fields["json-key"]; has {
		k, ok := c.str(jf)
		if !ok {
			return ref, false
		}
		if !jsonKeyRE.MatchString(k) {
			c.errorf("interop.bad-json-key", jf.val, jf.path, "json-key %q must be 1 to 256 printable characters naming a field of the secret's JSON object", k)
			return ref, false
		}
		ref.JSONKey = k
	}
	return ref, true
}
