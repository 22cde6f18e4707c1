package deployres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// SecretsAPI is the part of the Secrets Manager client the handlers use.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// DatabaseURIProps are the properties of a Custom::DatabaseURI.
type DatabaseURIProps struct {
	// SourceSecretArn is the database's generated credentials: a JSON object
	// with username, password, host and port (as RDS writes it).
	SourceSecretArn string
	// TargetSecretArn receives the URI as its SecretString.
	TargetSecretArn string
	// Database is the database name in the URI.
	Database string
	// SSLMode is the sslmode query parameter, e.g. require.
	SSLMode string
	// PasswordVersion is the operator's label of the database password
	// (DatabasePasswordVersion). Its value is not used: a new value is a
	// property change, so CloudFormation sends an Update and the URI is
	// composed again from the changed password.
	PasswordVersion string
}

// Properties renders p as the Properties of the CDK custom resource
// (awscdk.CustomResourceProps).
func (p DatabaseURIProps) Properties() *map[string]any { return properties(p) }

// ParseDatabaseURIProps decodes and checks the properties of an event.
func ParseDatabaseURIProps(props map[string]any) (DatabaseURIProps, error) {
	var p DatabaseURIProps
	if err := decodeProps(props, &p); err != nil {
		return p, fmt.Errorf("%s: properties: %v", DatabaseURIType, err)
	}
	if p.SourceSecretArn == "" || p.TargetSecretArn == "" || p.PasswordVersion == "" {
		return p, fmt.Errorf("%s: SourceSecretArn, TargetSecretArn and PasswordVersion are required", DatabaseURIType)
	}
	return p, nil
}

// Attributes of a Custom::DatabaseURI (Fn::GetAtt).
const (
	// DatabaseURIVersionAttr is the Secrets Manager version id of the URI
	// secret's current value after the Create or Update: it changes exactly
	// when the URI changes, and tells nothing about the URI itself.
	DatabaseURIVersionAttr = "VersionId"
	// DatabaseURIChangedAttr is "true" when the Create or Update wrote a new
	// version, "false" when the URI was already current.
	DatabaseURIChangedAttr = "Changed"
)

// credentials is the JSON of an RDS generated secret. Port is a number there;
// json.Number takes it whether written as a number or a string.
type credentials struct {
	Username string      `json:"username"`
	Password string      `json:"password"`
	Host     string      `json:"host"`
	Port     json.Number `json:"port"`
}

// DatabaseURI builds the PostgreSQL URI The Things Stack reads from
// is.database-uri. User name and password are escaped, so any character the
// generator picks is safe.
func DatabaseURI(secretJSON string, database, sslMode string) (string, error) {
	var c credentials
	if err := json.Unmarshal([]byte(secretJSON), &c); err != nil {
		return "", errors.New("the database secret is not a JSON object with username, password, host and port")
	}
	if c.Username == "" || c.Password == "" || c.Host == "" {
		return "", errors.New("the database secret lacks username, password or host; it must be the secret RDS generated for the cluster")
	}
	port := 5432
	if c.Port != "" {
		p, err := strconv.Atoi(c.Port.String())
		if err != nil || p < 1 || p > 65535 {
			return "", fmt.Errorf("the database secret's port %q is not a port number", c.Port.String())
		}
		port = p
	}
	if database == "" {
		return "", errors.New("Database is required")
	}
	q := url.Values{}
	if sslMode != "" {
		q.Set("sslmode", sslMode)
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(c.Username, c.Password),
		Host:     net.JoinHostPort(c.Host, strconv.Itoa(port)),
		Path:     "/" + database,
		RawQuery: q.Encode(),
	}
	return u.String(), nil
}

func (h *Handler) databaseURI(ctx context.Context, event cfn.Event) (string, map[string]any, error) {
	if event.RequestType == cfn.RequestDelete {
		// The target secret belongs to the stack, which deletes or retains it.
		return event.PhysicalResourceID, nil, nil
	}
	p, err := ParseDatabaseURIProps(event.ResourceProperties)
	if err != nil {
		return event.PhysicalResourceID, nil, err
	}
	physicalID := p.TargetSecretArn
	src, _, err := h.getSecretVersion(ctx, p.SourceSecretArn)
	if err != nil {
		return physicalID, nil, fmt.Errorf("reading the database credentials %s: %w", p.SourceSecretArn, err)
	}
	uri, err := DatabaseURI(src, p.Database, p.SSLMode)
	if err != nil {
		return physicalID, nil, fmt.Errorf("%s: %w", p.SourceSecretArn, err)
	}
	// Write only when the value changes, so that the secret's versions (and
	// the VersionId attribute that restarts the Identity Server) mean
	// something.
	current, version, err := h.getSecretVersion(ctx, p.TargetSecretArn)
	var notFound *smtypes.ResourceNotFoundException
	if err != nil && !errors.As(err, &notFound) {
		return physicalID, nil, fmt.Errorf("reading %s: %w", p.TargetSecretArn, err)
	}
	if err == nil && current == uri {
		return physicalID, map[string]any{DatabaseURIChangedAttr: "false", DatabaseURIVersionAttr: version}, nil
	}
	out, err := h.Secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:     aws.String(p.TargetSecretArn),
		SecretString: aws.String(uri),
	})
	if err != nil {
		return physicalID, nil, fmt.Errorf("writing the database URI to %s: %w", p.TargetSecretArn, err)
	}
	if aws.ToString(out.VersionId) == "" {
		return physicalID, nil, fmt.Errorf("writing the database URI to %s: Secrets Manager returned no VersionId", p.TargetSecretArn)
	}
	return physicalID, map[string]any{DatabaseURIChangedAttr: "true", DatabaseURIVersionAttr: aws.ToString(out.VersionId)}, nil
}

// getSecretVersion returns the current SecretString of a secret and the id of
// that version.
func (h *Handler) getSecretVersion(ctx context.Context, id string) (value, versionID string, err error) {
	out, err := h.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", "", err
	}
	if out.SecretString == nil {
		return "", "", errors.New("the secret has no SecretString (binary secrets are not supported)")
	}
	return *out.SecretString, aws.ToString(out.VersionId), nil
}
