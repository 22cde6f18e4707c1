package certsecret

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// SecretsManagerAPI is the part of the Secrets Manager client the store uses.
type SecretsManagerAPI interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// ErrNotFound is returned by Store.Get when the secret, or its current
// version, does not exist.
var ErrNotFound = errors.New("certificate secret has no current value")

// Store reads and writes the certificate document in one secret.
type Store struct {
	Client   SecretsManagerAPI
	SecretID string // name or ARN
}

// Fetched is the raw current version of the secret.
type Fetched struct {
	VersionID string
	Data      []byte
}

// GetRaw returns the AWSCURRENT version without parsing it. It returns an
// error wrapping ErrNotFound when the secret or its value does not exist.
func (s Store) GetRaw(ctx context.Context) (*Fetched, error) {
	out, err := s.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.SecretID)})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("%w: %s: %v", ErrNotFound, s.SecretID, err)
		}
		return nil, fmt.Errorf("read secret %s (check the secret ID, the region and secretsmanager:GetSecretValue permission): %w", s.SecretID, err)
	}
	var data []byte
	switch {
	case out.SecretString != nil:
		data = []byte(*out.SecretString)
	default:
		data = out.SecretBinary
	}
	return &Fetched{VersionID: aws.ToString(out.VersionId), Data: data}, nil
}

// Get returns the parsed current document and its version ID. A document that
// does not parse is returned as an error wrapping ErrMalformed together with
// the version ID, so callers can tell "missing" from "broken".
func (s Store) Get(ctx context.Context) (*Secret, string, error) {
	f, err := s.GetRaw(ctx)
	if err != nil {
		return nil, "", err
	}
	sec, err := Parse(f.Data)
	if err != nil {
		return nil, f.VersionID, fmt.Errorf("secret %s version %s: %w", s.SecretID, f.VersionID, err)
	}
	return sec, f.VersionID, nil
}

// Put stores the document as a new AWSCURRENT version and returns its ID.
// The version token is derived from the certificate, so storing the same
// certificate again does not create another version.
func (s Store) Put(ctx context.Context, sec *Secret) (string, error) {
	data, err := sec.Marshal()
	if err != nil {
		return "", err
	}
	out, err := s.Client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(s.SecretID),
		SecretString:       aws.String(string(data)),
		ClientRequestToken: aws.String(sec.VersionToken()),
	})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return "", fmt.Errorf("secret %s does not exist: it is created by the Data stack, deploy it first or fix CERT_SECRET_ID: %w", s.SecretID, err)
		}
		return "", fmt.Errorf("store certificate in secret %s (check secretsmanager:PutSecretValue permission and the KMS key policy): %w", s.SecretID, err)
	}
	return aws.ToString(out.VersionId), nil
}
