// Package securebucket is an S3 bucket with the settings every bucket of the
// app needs: public access blocked, TLS 1.2+ enforced, owner-enforced object
// ownership, encryption, server access logs, and retention on stack deletion
// (or deletion with its contents).
package securebucket

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/removal"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// Props configure a bucket.
type Props struct {
	// Key encrypts the objects (SSE-KMS). Nil means SSE-S3, which is what
	// buckets receiving S3 server access logs or load balancer logs need.
	Key awskms.IKey
	// Versioned keeps every version of every object.
	Versioned bool
	// AccessLogs receives the server access logs of this bucket. Nil only for
	// a bucket that itself holds access logs; LogReason then says why.
	AccessLogs awss3.IBucket
	// AccessLogsPrefix is the key prefix of this bucket's logs in AccessLogs.
	AccessLogsPrefix string
	// LogReason explains, for the cdk-nag suppression, why a bucket without
	// access logs needs none.
	LogReason string
	// ExpireAfterDays deletes objects (and old versions) after that many days;
	// 0 keeps them.
	ExpireAfterDays int
	// DeleteWithStack deletes the bucket with its stack, after deleting every
	// object and version in it (CloudFormation cannot delete a bucket that
	// is not empty). False keeps the bucket, see package removal.
	DeleteWithStack bool
}

func (p Props) validate(id string) error {
	var errs diag.List
	if p.AccessLogs == nil && p.LogReason == "" {
		errs.Errorf("securebucket.missing-access-logs", "AccessLogs", "give AccessLogs, or LogReason when the bucket itself holds logs")
	}
	if p.ExpireAfterDays < 0 {
		errs.Errorf("securebucket.negative-expiry", "ExpireAfterDays", "is %d; use 0 to keep objects or a positive number of days", p.ExpireAfterDays)
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("securebucket %s:\n%w", id, err)
	}
	return nil
}

// New creates the bucket.
func New(scope constructs.Construct, id string, props Props) (awss3.Bucket, error) {
	if err := props.validate(id); err != nil {
		return nil, err
	}
	bp := &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:         jsii.Bool(props.Versioned),
		RemovalPolicy:     removal.Keep(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
	}
	if props.DeleteWithStack {
		bp.RemovalPolicy = awscdk.RemovalPolicy_DESTROY
		bp.AutoDeleteObjects = jsii.Bool(true)
	}
	if props.Key != nil {
		bp.Encryption = awss3.BucketEncryption_KMS
		bp.EncryptionKey = props.Key
		bp.BucketKeyEnabled = jsii.Bool(true)
	}
	if props.AccessLogs != nil {
		bp.ServerAccessLogsBucket = props.AccessLogs
		bp.ServerAccessLogsPrefix = jsii.String(props.AccessLogsPrefix)
	}
	if props.ExpireAfterDays > 0 {
		days := awscdk.Duration_Days(jsii.Number(float64(props.ExpireAfterDays)))
		rule := &awss3.LifecycleRule{Expiration: days, AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7))}
		if props.Versioned {
			rule.NoncurrentVersionExpiration = days
		}
		bp.LifecycleRules = &[]*awss3.LifecycleRule{rule}
	}
	b := awss3.NewBucket(scope, jsii.String(id), bp)
	if props.AccessLogs == nil {
		cdknag.NagSuppressions_AddResourceSuppressions(b, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-S1"),
			Reason: jsii.String(props.LogReason),
		}}, jsii.Bool(false))
	}
	return b, nil
}
