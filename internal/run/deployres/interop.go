package deployres

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lorawan-stack-aws/tts-ecs/internal/interop"
)

// S3API is the part of the S3 client the interop repository handler uses.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, opts ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

// InteropRepositoryProps are the properties of a Custom::InteropRepository.
type InteropRepositoryProps struct {
	// Bucket is the interop bucket's name.
	Bucket string
	// Prefix is the folder of the repository in the bucket (no leading or
	// trailing slash); config.yml is Prefix/config.yml.
	Prefix string
	// Files maps repository-relative paths to the text of the files the
	// repository deploys, secret references still in place
	// (interop.Repository.Files). Text, not base64, so that a reviewer reads
	// a change of the repository in the template diff.
	Files map[string]string
	// SecretRefs is the JSON of the repository's []interop.SecretRef.
	SecretRefs string
	// KMSKeyArn is the key the objects are encrypted with (SSE-KMS).
	KMSKeyArn string
}

// Properties renders p as the Properties of the CDK custom resource
// (awscdk.CustomResourceProps).
func (p InteropRepositoryProps) Properties() *map[string]any { return properties(p) }

// ParseInteropRepositoryProps decodes and checks the properties of an event.
func ParseInteropRepositoryProps(props map[string]any) (InteropRepositoryProps, []interop.File, []interop.SecretRef, error) {
	var p InteropRepositoryProps
	if err := decodeProps(props, &p); err != nil {
		return p, nil, nil, fmt.Errorf("%s: properties: %v", InteropRepositoryType, err)
	}
	if p.Bucket == "" || p.KMSKeyArn == "" {
		return p, nil, nil, fmt.Errorf("%s: Bucket and KMSKeyArn are required", InteropRepositoryType)
	}
	if p.Prefix == "" || strings.HasPrefix(p.Prefix, "/") || strings.HasSuffix(p.Prefix, "/") || path.Clean(p.Prefix) != p.Prefix {
		return p, nil, nil, fmt.Errorf("%s: Prefix %q must be a clean folder path without leading or trailing slash", InteropRepositoryType, p.Prefix)
	}
	files := make([]interop.File, 0, len(p.Files))
	for name, text := range p.Files {
		files = append(files, interop.File{Path: name, Data: []byte(text)})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	hasConfig := false
	for _, f := range files {
		if f.Path == "" || strings.HasPrefix(f.Path, "/") || path.Clean(f.Path) != f.Path || strings.HasPrefix(f.Path, "../") {
			return p, nil, nil, fmt.Errorf("%s: file path %q is not a clean relative path", InteropRepositoryType, f.Path)
		}
		hasConfig = hasConfig || f.Path == interop.ConfigFile
	}
	if !hasConfig {
		return p, nil, nil, fmt.Errorf("%s: the files have no %s; NS and AS would fail at start", InteropRepositoryType, interop.ConfigFile)
	}
	var refs []interop.SecretRef
	if p.SecretRefs != "" {
		if err := json.Unmarshal([]byte(p.SecretRefs), &refs); err != nil {
			return p, nil, nil, fmt.Errorf("%s: SecretRefs is not the JSON of a reference list: %v", InteropRepositoryType, err)
		}
	}
	return p, files, refs, nil
}

func (h *Handler) interopRepository(ctx context.Context, event cfn.Event) (string, map[string]any, error) {
	if event.RequestType == cfn.RequestDelete {
		// The bucket is versioned and retained; so is its content. A new
		// physical id (another bucket or prefix) also ends here, for the old
		// location, which keeps its last good copy.
		return event.PhysicalResourceID, nil, nil
	}
	p, files, refs, err := ParseInteropRepositoryProps(event.ResourceProperties)
	if err != nil {
		return event.PhysicalResourceID, nil, err
	}
	physicalID := "s3://" + p.Bucket + "/" + p.Prefix
	// On a failed create, the physical id must still be one that a later
	// delete handles; this one is.
	out, err := interop.Materialize(ctx, files, refs, h.getSecret)
	if err != nil {
		return physicalID, nil, err
	}
	written, deleted, err := h.syncRepository(ctx, p, out)
	if err != nil {
		return physicalID, nil, err
	}
	return physicalID, map[string]any{
		"ConfigKey": p.Prefix + "/" + interop.ConfigFile,
		"Files":     written,
		"Removed":   deleted,
	}, nil
}

// getSecret is the interop.SecretGetter of the deployed function.
func (h *Handler) getSecret(ctx context.Context, id string) (string, error) {
	v, _, err := h.getSecretVersion(ctx, id)
	return v, err
}

// syncRepository makes Prefix/ in the bucket hold exactly files. config.yml is
// written last, so that NS and AS never read a config.yml that names a file
// not yet written; files that the repository no longer has are removed
// afterwards (the bucket is versioned: they stay recoverable).
func (h *Handler) syncRepository(ctx context.Context, p InteropRepositoryProps, files []interop.File) (written, deleted int, err error) {
	sort.SliceStable(files, func(i, j int) bool {
		return files[i].Path != interop.ConfigFile && files[j].Path == interop.ConfigFile
	})
	keep := map[string]bool{}
	for _, f := range files {
		key := p.Prefix + "/" + f.Path
		keep[key] = true
		_, err := h.S3.PutObject(ctx, &s3.PutObjectInput{
			Bucket:               aws.String(p.Bucket),
			Key:                  aws.String(key),
			Body:                 strings.NewReader(string(f.Data)),
			ContentType:          aws.String(contentType(f.Path)),
			ServerSideEncryption: s3types.ServerSideEncryptionAwsKms,
			SSEKMSKeyId:          aws.String(p.KMSKeyArn),
			BucketKeyEnabled:     aws.Bool(true),
		})
		if err != nil {
			return written, 0, fmt.Errorf("writing s3://%s/%s: %w", p.Bucket, key, err)
		}
		written++
	}
	var stale []s3types.ObjectIdentifier
	pager := s3.NewListObjectsV2Paginator(h.S3, &s3.ListObjectsV2Input{Bucket: aws.String(p.Bucket), Prefix: aws.String(p.Prefix + "/")})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return written, 0, fmt.Errorf("listing s3://%s/%s/: %w", p.Bucket, p.Prefix, err)
		}
		for _, o := range page.Contents {
			if o.Key != nil && !keep[*o.Key] {
				stale = append(stale, s3types.ObjectIdentifier{Key: o.Key})
			}
		}
	}
	for len(stale) > 0 {
		n := min(len(stale), 1000)
		out, err := h.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(p.Bucket), Delete: &s3types.Delete{Objects: stale[:n], Quiet: aws.Bool(true)}})
		if err != nil {
			return written, deleted, fmt.Errorf("removing files the repository no longer has from s3://%s/%s/: %w", p.Bucket, p.Prefix, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return written, deleted, fmt.Errorf("removing s3://%s/%s: %s", p.Bucket, aws.ToString(e.Key), aws.ToString(e.Message))
		}
		deleted += n
		stale = stale[n:]
	}
	return written, deleted, nil
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".yml", ".yaml":
		return "application/yaml"
	case ".pem", ".crt", ".key":
		return "application/x-pem-file"
	}
	return "application/octet-stream"
}
