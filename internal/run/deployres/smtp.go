package deployres

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// IAMAPI is the part of the IAM client the SMTP credentials handler uses.
type IAMAPI interface {
	CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput, opts ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	DeleteAccessKey(ctx context.Context, in *iam.DeleteAccessKeyInput, opts ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, opts ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
}

// SMTPCredentialsProps are the properties of a Custom::SMTPCredentials: an
// access key of UserName, turned into Amazon SES SMTP credentials for Region
// and stored in SecretArn.
type SMTPCredentialsProps struct {
	// UserName is the IAM user whose access key signs the SMTP session; its
	// only permission is sending from the deployment's SES identity.
	UserName string
	// SecretArn receives the credentials as a JSON object (SMTPCredentials).
	SecretArn string
	// Region of the SES SMTP endpoint: the password is derived for it.
	Region string
	// Version is the operator's label of the credentials
	// (EmailCredentialsVersion). Its value is not used: a new value is a
	// property change, and every Update makes a new access key (the old one
	// is deleted when CloudFormation deletes the old physical resource).
	Version string
}

// Properties renders p as the Properties of the CDK custom resource.
func (p SMTPCredentialsProps) Properties() *map[string]any { return properties(p) }

// ParseSMTPCredentialsProps decodes and checks the properties of an event.
func ParseSMTPCredentialsProps(props map[string]any) (SMTPCredentialsProps, error) {
	var p SMTPCredentialsProps
	if err := decodeProps(props, &p); err != nil {
		return p, fmt.Errorf("%s: properties: %v", SMTPCredentialsType, err)
	}
	if p.UserName == "" || p.SecretArn == "" || p.Region == "" || p.Version == "" {
		return p, fmt.Errorf("%s: UserName, SecretArn, Region and Version are required", SMTPCredentialsType)
	}
	return p, nil
}

// SMTPCredentials is the JSON object of the SMTP credentials secret. The
// Identity Server reads username and password (is.email.smtp.username and
// is.email.smtp.password) by their JSON keys.
type SMTPCredentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// Region the password was derived for.
	Region string `json:"region"`
}

// Keys of SMTPCredentials, as ECS names them (json-key of the secret).
const (
	SMTPUsernameKey = "username"
	SMTPPasswordKey = "password"
)

// SMTPCredentialsVersionAttr is the attribute (Fn::GetAtt) of a
// Custom::SMTPCredentials with the Secrets Manager version id of the
// credentials: it changes exactly when the credentials change.
const SMTPCredentialsVersionAttr = "VersionId"

// SMTPPassword derives the Amazon SES SMTP password of an IAM secret access
// key for a region, as the SES documentation describes it ("Obtaining Amazon
// SES SMTP credentials", version 4): HMAC-SHA256 chained over the date
// 11111111, the region, "ses", "aws4_request" and "SendRawEmail", starting
// from "AWS4" + the secret key, then the version byte 0x04 before the
// signature, base64-encoded.
func SMTPPassword(secretAccessKey, region string) string {
	sign := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	sig := sign([]byte("AWS4"+secretAccessKey), "11111111")
	for _, msg := range []string{region, "ses", "aws4_request", "SendRawEmail"} {
		sig = sign(sig, msg)
	}
	return base64.StdEncoding.EncodeToString(append([]byte{0x04}, sig...))
}

// accessKeyID matches an IAM access key id (the physical id of the resource).
var accessKeyID = regexp.MustCompile(`^AKIA[A-Z0-9]{12,124}$`)

// smtpCredentials creates an access key of the user, derives the SMTP
// password and stores both in the secret. The physical id is the access key
// id (as AWS::IAM::AccessKey's Ref; an id, not a secret), so that
// CloudFormation's Delete of a replaced resource deletes exactly the old key.
//
// Create is idempotent: when the secret already holds a key of this user for
// this region (a retried Create whose answer was lost), that key is kept.
// Keys of the user that neither the secret nor the resource knows (left by a
// Create that failed between the key and the secret) are deleted first, so
// that IAM's limit of two keys per user is never in the way.
func (h *Handler) smtpCredentials(ctx context.Context, event cfn.Event) (string, map[string]any, error) {
	p, err := ParseSMTPCredentialsProps(event.ResourceProperties)
	if event.RequestType == cfn.RequestDelete {
		if err != nil || !accessKeyID.MatchString(event.PhysicalResourceID) {
			// A Create that failed before a key existed: nothing to delete.
			return event.PhysicalResourceID, nil, nil
		}
		_, err := h.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(p.UserName), AccessKeyId: aws.String(event.PhysicalResourceID)})
		var gone *iamtypes.NoSuchEntityException
		if err != nil && !errors.As(err, &gone) {
			return event.PhysicalResourceID, nil, fmt.Errorf("deleting access key %s of IAM user %s: %w", event.PhysicalResourceID, p.UserName, err)
		}
		return event.PhysicalResourceID, nil, h.restorePreviousSMTP(ctx, p, event.PhysicalResourceID)
	}
	if err != nil {
		return event.PhysicalResourceID, nil, err
	}
	if h.IAM == nil {
		return event.PhysicalResourceID, nil, errors.New("deploy-resources: no IAM client")
	}
	// The secret exists before any key (the Data stack creates it with a
	// placeholder): read it first, so that nothing is created for a secret
	// that cannot be written.
	var stored SMTPCredentials
	current, version, err := h.getSecretVersion(ctx, p.SecretArn)
	if err != nil {
		return event.PhysicalResourceID, nil, fmt.Errorf("reading %s: %w", p.SecretArn, err)
	}
	// A placeholder (not JSON) leaves stored empty.
	_ = json.Unmarshal([]byte(current), &stored)
	listed, err := h.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(p.UserName)})
	if err != nil {
		return event.PhysicalResourceID, nil, fmt.Errorf("listing the access keys of IAM user %s: %w", p.UserName, err)
	}
	if event.RequestType == cfn.RequestCreate && stored.Region == p.Region && stored.Password != "" {
		for _, k := range listed.AccessKeyMetadata {
			if aws.ToString(k.AccessKeyId) == stored.Username && k.Status == iamtypes.StatusTypeActive {
				return stored.Username, map[string]any{SMTPCredentialsVersionAttr: version}, nil
			}
		}
	}
	for _, k := range listed.AccessKeyMetadata {
		id := aws.ToString(k.AccessKeyId)
		if id == stored.Username || id == event.PhysicalResourceID {
			continue
		}
		if _, err := h.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(p.UserName), AccessKeyId: aws.String(id)}); err != nil {
			return event.PhysicalResourceID, nil, fmt.Errorf("deleting the unused access key %s of IAM user %s: %w", id, p.UserName, err)
		}
	}
	created, err := h.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(p.UserName)})
	if err != nil {
		return event.PhysicalResourceID, nil, fmt.Errorf("creating an access key of IAM user %s: %w", p.UserName, err)
	}
	if created.AccessKey == nil || aws.ToString(created.AccessKey.AccessKeyId) == "" || aws.ToString(created.AccessKey.SecretAccessKey) == "" {
		return event.PhysicalResourceID, nil, fmt.Errorf("creating an access key of IAM user %s: IAM returned no key", p.UserName)
	}
	id := aws.ToString(created.AccessKey.AccessKeyId)
	value, _ := json.Marshal(SMTPCredentials{
		Username: id,
		Password: SMTPPassword(aws.ToString(created.AccessKey.SecretAccessKey), p.Region),
		Region:   p.Region,
	})
	out, err := h.Secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(p.SecretArn), SecretString: aws.String(string(value))})
	if err != nil || aws.ToString(out.VersionId) == "" {
		// The key is useless without the secret: remove it, so that a retry
		// starts clean.
		_, _ = h.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(p.UserName), AccessKeyId: aws.String(id)})
		if err == nil {
			err = errors.New("Secrets Manager returned no VersionId")
		}
		return event.PhysicalResourceID, nil, fmt.Errorf("writing the SMTP credentials to %s: %w", p.SecretArn, err)
	}
	return id, map[string]any{SMTPCredentialsVersionAttr: aws.ToString(out.VersionId)}, nil
}

// PropertiesMap is Properties as a plain map, as a handler receives it.
func (p SMTPCredentialsProps) PropertiesMap() map[string]any { return *properties(p) }

// restorePreviousSMTP runs after the key deleted was deleted. When the secret
// still holds that key, CloudFormation is rolling back an update that made
// it (the old resource, whose key is the secret's previous version, stays):
// the previous version becomes current again if its key still exists. On a
// stack deletion no other key exists and the secret is left as it is.
func (h *Handler) restorePreviousSMTP(ctx context.Context, p SMTPCredentialsProps, deleted string) error {
	cur, err := h.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(p.SecretArn)})
	if err != nil {
		// The secret is the Data stack's; a deletion may find it gone.
		return nil
	}
	var c SMTPCredentials
	if json.Unmarshal([]byte(aws.ToString(cur.SecretString)), &c) != nil || c.Username != deleted {
		return nil
	}
	prev, err := h.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(p.SecretArn), VersionStage: aws.String("AWSPREVIOUS")})
	if err != nil {
		return nil
	}
	var old SMTPCredentials
	if json.Unmarshal([]byte(aws.ToString(prev.SecretString)), &old) != nil || old.Username == "" {
		return nil
	}
	listed, err := h.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(p.UserName)})
	if err != nil {
		return fmt.Errorf("listing the access keys of IAM user %s: %w", p.UserName, err)
	}
	for _, k := range listed.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) == old.Username {
			if _, err := h.Secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(p.SecretArn), SecretString: prev.SecretString}); err != nil {
				return fmt.Errorf("restoring the previous SMTP credentials in %s: %w", p.SecretArn, err)
			}
			return nil
		}
	}
	return nil
}
