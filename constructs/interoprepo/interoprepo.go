// Package interoprepo deploys a checked interop repository (package interop)
// to the interop bucket with a custom resource. The custom resource's function
// resolves the repository's Secrets Manager references at deploy time, so the
// template carries only references; see deployres.
package interoprepo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/gofunction"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/interop"
	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
)

// MaxBytes bounds the repository's size: its files travel in the custom
// resource's properties, and CloudFormation invokes the function
// asynchronously, with a payload limit of 256 KiB.
const MaxBytes = 160 * 1024

// Props configure a Repository.
type Props struct {
	Bucket awss3.IBucket
	// Key encrypts the bucket; the objects are written with it.
	Key awskms.IKey
	// Prefix is the repository's folder in the bucket (ns.interop.blob.path).
	Prefix string
	// Files are the files to deploy (interop.Repository.Files, or
	// interop.EmptyFiles); SecretRefs their references.
	Files      []interop.File
	SecretRefs []interop.SecretRef
	// Function is the deploy-resources function.
	Function *gofunction.Function
	// Partition, Region and Account of the deployment, for secret ARNs given
	// by name.
	Partition, Region, Account string
}

// Repository is the deployed repository.
type Repository struct {
	constructs.Construct
	Resource awscdk.CustomResource
	// Digest changes whenever the deployed content or a reference changes;
	// NS and AS read the repository at start, so their task definitions
	// carry it to be restarted when it changes.
	Digest string
}

func (p Props) validate() error {
	var errs diag.List
	if p.Bucket == nil || p.Key == nil || p.Function == nil {
		errs.Errorf("interoprepo.missing-scope", "", "Bucket, Key and Function are required")
	}
	if p.Prefix == "" || strings.Trim(p.Prefix, "/") != p.Prefix || path.Clean(p.Prefix) != p.Prefix {
		errs.Errorf("interoprepo.bad-prefix", "Prefix", "%q must be a folder path without leading or trailing slash", p.Prefix)
	}
	size, hasConfig := 0, false
	for i, f := range p.Files {
		size += len(f.Data)
		hasConfig = hasConfig || f.Path == interop.ConfigFile
		if !utf8.Valid(f.Data) {
			errs.Errorf("interoprepo.not-text", fmt.Sprintf("Files[%d]", i), "%s is not UTF-8 text; the repository holds YAML and PEM files only", f.Path)
		}
	}
	if !hasConfig {
		errs.Errorf("interoprepo.missing-config", "Files", "the files have no %s; give the checked repository's files (interop.Repository.Files), or interop.EmptyFiles for none", interop.ConfigFile)
	}
	if size > MaxBytes {
		errs.Errorf("interoprepo.too-large", "Files", "the repository's files hold %d bytes, more than the %d that one deployment can carry; remove unreferenced material or split large CA bundles", size, MaxBytes)
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("interoprepo:\n%w", err)
	}
	return nil
}

// New creates the custom resource and grants the function what it needs: the
// repository's prefix in the bucket, and the referenced secrets, by name.
func New(scope constructs.Construct, id string, props Props) (*Repository, error) {
	if err := props.validate(); err != nil {
		return nil, err
	}
	files := map[string]string{}
	for _, f := range props.Files {
		files[f.Path] = string(f.Data)
	}
	filesJSON, err := json.Marshal(files)
	if err != nil {
		return nil, err
	}
	refs := props.SecretRefs
	if refs == nil {
		refs = []interop.SecretRef{}
	}
	refsJSON, err := json.Marshal(refs)
	if err != nil {
		return nil, err
	}
	sum := sha256.New()
	sum.Write(filesJSON)
	sum.Write(refsJSON)
	digest := hex.EncodeToString(sum.Sum(nil))[:16]

	c := constructs.NewConstruct(scope, jsii.String(id))
	role := props.Function.Role
	// Exact actions on exactly the repository's folder; no CDK grant
	// helper, whose action wildcards (s3:GetObject*, kms:ReEncrypt*, ...) are
	// more than this needs.
	objects := *props.Bucket.BucketArn() + "/" + props.Prefix + "/*"
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteInteropRepository"),
		Actions:   jsii.Strings("s3:PutObject", "s3:DeleteObject"),
		Resources: jsii.Strings(objects),
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("ListInteropRepository"),
		Actions:    jsii.Strings("s3:ListBucket"),
		Resources:  &[]*string{props.Bucket.BucketArn()},
		Conditions: &map[string]any{"StringLike": map[string]any{"s3:prefix": props.Prefix + "/*"}},
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("EncryptInteropRepository"),
		Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources: &[]*string{props.Key.KeyArn()},
	}))
	// The bucket is another stack's: its ARN shows as <LogicalId.Arn> in the
	// finding, which a regex matches.
	wildcards := []any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<[A-Za-z0-9]+\.Arn>\/` + regexp.QuoteMeta(props.Prefix) + `\/\*$/`)}}
	var arns []*string
	seen := map[string]bool{}
	for _, r := range refs {
		for _, arn := range secretARNs(r.SecretID, props.Partition, props.Region, props.Account) {
			if !seen[arn] {
				seen[arn] = true
				arns = append(arns, jsii.String(arn))
				if strings.HasSuffix(arn, "-??????") {
					wildcards = append(wildcards, "Resource::"+arn)
				}
			}
		}
	}
	if len(arns) > 0 {
		// Referenced secrets encrypted with the deployment's data key are
		// readable (EncryptInteropRepository); with the AWS managed key no
		// grant is needed. Other keys are not supported (README).
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadReferencedJoinServerSecrets"),
			Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
			Resources: &arns,
		}))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Object wildcard limited to the interop repository's folder (its files are named by the operator's repository); " +
			"secrets named in the repository are granted by name plus the -?????? wildcard that matches the six random characters Secrets Manager appends to a secret's ARN."),
		AppliesTo: &wildcards,
	}}, jsii.Bool(true))

	res := awscdk.NewCustomResource(c, jsii.String("Resource"), &awscdk.CustomResourceProps{
		ServiceToken: props.Function.Function.FunctionArn(),
		ResourceType: jsii.String(deployres.InteropRepositoryType),
		Properties: deployres.InteropRepositoryProps{
			Bucket:     *props.Bucket.BucketName(),
			Prefix:     props.Prefix,
			KMSKeyArn:  *props.Key.KeyArn(),
			Files:      files,
			SecretRefs: string(refsJSON),
		}.Properties(),
	})
	// The grants must exist before the function runs.
	res.Node().AddDependency(role)
	return &Repository{Construct: c, Resource: res, Digest: digest}, nil
}

// secretARNs returns the ARN patterns that match a secret given by name or by
// ARN. Secrets Manager appends "-" and six random characters to a secret's
// name in its ARN: a name needs the wildcard; an ARN as given may be complete
// or partial (without those characters), so both forms are granted.
func secretARNs(id, partition, region, account string) []string {
	if strings.HasPrefix(id, "arn:") {
		return []string{id, id + "-??????"}
	}
	return []string{fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-??????", partition, region, account, id)}
}
