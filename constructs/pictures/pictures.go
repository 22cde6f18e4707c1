// Package pictures serves the profile and end device pictures that The Things
// Stack's Identity Server stores in a private bucket: a CloudFront
// distribution reads the picture objects through origin access control, and
// the bucket's policy lets that one distribution read those objects only.
// The bucket stays private (public access blocked).
package pictures

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// ObjectPattern matches the keys of the pictures the Identity Server stores
// (pkg/identityserver picture.go and picture/picture.go, v3.32.1): a folder
// named <unique id>.<ULID> (26 characters) with one file per size
// (original.<ext>, 64.<ext>, ...). A key of another shape is not readable
// through the distribution.
var ObjectPattern = "*." + strings.Repeat("?", 26) + "/*"

// CachingOptimized is the id of CloudFront's managed cache policy
// Managed-CachingOptimized: no cookies, headers or query strings in the cache
// key, gzip and brotli. A picture's key never changes content (a new upload
// gets a new ULID).
const CachingOptimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"

// Props configure the distribution.
type Props struct {
	// Bucket holds the pictures. It must not be encrypted with a customer
	// managed KMS key: the distribution reads it without one.
	Bucket awss3.Bucket
	// Description names the deployment in the distribution's comment.
	Description string
	// Closed leaves the bucket policy without the distribution's statement:
	// the distribution exists but may read nothing (every request 403).
	Closed bool
}

// Pictures is the distribution in front of the picture objects.
type Pictures struct {
	constructs.Construct
	Distribution awscloudfront.CfnDistribution
	// URL is https://<distribution domain>, the base URL the Identity Server
	// prefixes picture keys with (is.*-picture.bucket-url).
	URL *string
}

// New creates the origin access control, the distribution and the bucket
// policy statement.
func New(scope constructs.Construct, id string, props Props) (*Pictures, error) {
	var errs diag.List
	if props.Bucket == nil {
		errs.Errorf("pictures.missing-bucket", "Bucket", "is required: the private bucket the distribution reads")
	}
	if props.Description == "" {
		errs.Errorf("pictures.missing-description", "Description", "is required: it names the distribution in the console")
	}
	if err := errs.Err(); err != nil {
		return nil, fmt.Errorf("pictures:\n%w", err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	stack := awscdk.Stack_Of(c)
	oac := awscloudfront.NewCfnOriginAccessControl(c, jsii.String("OriginAccess"), &awscloudfront.CfnOriginAccessControlProps{
		OriginAccessControlConfig: &awscloudfront.CfnOriginAccessControl_OriginAccessControlConfigProperty{
			// CloudFront names are unique in the account.
			Name:                          jsii.String(fmt.Sprintf("%.64s", *stack.StackName()+"-pictures")),
			Description:                   jsii.String(props.Description + ": reads the pictures bucket"),
			OriginAccessControlOriginType: jsii.String("s3"),
			SigningBehavior:               jsii.String("always"),
			SigningProtocol:               jsii.String("sigv4"),
		},
	})
	const origin = "pictures"
	dist := awscloudfront.NewCfnDistribution(c, jsii.String("Distribution"), &awscloudfront.CfnDistributionProps{
		DistributionConfig: &awscloudfront.CfnDistribution_DistributionConfigProperty{
			Enabled:     jsii.Bool(true),
			Comment:     jsii.String(props.Description + ": profile and end device pictures"),
			HttpVersion: jsii.String("http2and3"),
			Ipv6Enabled: jsii.Bool(true),
			// North America and Europe edges only: the cheapest class;
			// viewers elsewhere are served from the nearest of them.
			PriceClass: jsii.String("PriceClass_100"),
			Origins: &[]any{&awscloudfront.CfnDistribution_OriginProperty{
				Id:                    jsii.String(origin),
				DomainName:            props.Bucket.BucketRegionalDomainName(),
				OriginAccessControlId: oac.AttrId(),
				// Empty: no origin access identity (the legacy mechanism).
				S3OriginConfig: &awscloudfront.CfnDistribution_S3OriginConfigProperty{OriginAccessIdentity: jsii.String("")},
			}},
			DefaultCacheBehavior: &awscloudfront.CfnDistribution_DefaultCacheBehaviorProperty{
				TargetOriginId:       jsii.String(origin),
				ViewerProtocolPolicy: jsii.String("redirect-to-https"),
				AllowedMethods:       jsii.Strings("GET", "HEAD"),
				CachedMethods:        jsii.Strings("GET", "HEAD"),
				CachePolicyId:        jsii.String(CachingOptimized),
				Compress:             jsii.Bool(true),
			},
			ViewerCertificate: &awscloudfront.CfnDistribution_ViewerCertificateProperty{
				CloudFrontDefaultCertificate: jsii.Bool(true),
			},
		},
	})
	distArn := jsii.String(fmt.Sprintf("arn:%s:cloudfront::%s:distribution/%s", *stack.Partition(), *stack.Account(), *dist.AttrId()))
	if !props.Closed {
		res := props.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("CloudFrontReadsPictures"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudfront.amazonaws.com"), nil)},
			Actions:    jsii.Strings("s3:GetObject"),
			Resources:  &[]*string{jsii.String(*props.Bucket.BucketArn() + "/" + ObjectPattern)},
			Conditions: &map[string]any{"StringEquals": map[string]any{"AWS:SourceArn": distArn}},
		}))
		if res == nil || res.StatementAdded == nil || !*res.StatementAdded {
			return nil, fmt.Errorf("pictures: the bucket's policy cannot be changed here; give a bucket of this stack")
		}
	}
	cdknag.NagSuppressions_AddResourceSuppressions(dist, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-CFR1"), Reason: jsii.String("Pictures are shown to the network's users wherever they are; no country is excluded.")},
		{Id: jsii.String("AwsSolutions-CFR2"), Reason: jsii.String("The distribution serves only GET and HEAD of immutable picture objects from a private bucket, cached at the edge; " +
			"a web ACL (billed per request and rule) would guard no write path.")},
		{Id: jsii.String("AwsSolutions-CFR3"), Reason: jsii.String("CloudFront standard logs need a bucket with ACLs, which every bucket of this app refuses (owner-enforced object ownership); " +
			"the pictures bucket's S3 server access logs record every read the distribution makes of it.")},
		{Id: jsii.String("AwsSolutions-CFR4"), Reason: jsii.String("The distribution uses CloudFront's default *.cloudfront.net certificate, whose security policy CloudFront fixes; " +
			"a TLS 1.2 minimum needs a certificate of a custom name in us-east-1. The pictures served are public by design (any holder of the URL sees them).")},
	}, jsii.Bool(true))
	return &Pictures{Construct: c, Distribution: dist, URL: jsii.String("https://" + *dist.AttrDomainName())}, nil
}
