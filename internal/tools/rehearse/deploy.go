package rehearse

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lorawan-stack-aws/tts-ecs/internal/interop"
	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
)

// localS3 is deployres.S3API over a folder: one sub-folder per bucket, as
// The Things Stack's local blob provider reads them.
type localS3 struct{ dir string }

func (l localS3) path(bucket, key string) (string, error) {
	p := filepath.Join(l.dir, bucket, filepath.FromSlash(key))
	if !strings.HasPrefix(p, filepath.Join(l.dir, bucket)+string(os.PathSeparator)) {
		return "", fmt.Errorf("key %q leaves the bucket", key)
	}
	return p, nil
}

func (l localS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	p, err := l.path(aws.ToString(in.Bucket), aws.ToString(in.Key))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	return &s3.PutObjectOutput{}, os.WriteFile(p, b, 0o644)
}

func (l localS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	root := filepath.Join(l.dir, aws.ToString(in.Bucket))
	var out []s3types.Object
	_ = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		key := filepath.ToSlash(rel)
		if strings.HasPrefix(key, aws.ToString(in.Prefix)) {
			out = append(out, s3types.Object{Key: aws.String(key)})
		}
		return nil
	})
	return &s3.ListObjectsV2Output{Contents: out, KeyCount: aws.Int32(int32(len(out)))}, nil
}

func (l localS3) DeleteObjects(_ context.Context, in *s3.DeleteObjectsInput, _ ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	for _, o := range in.Delete.Objects {
		p, err := l.path(aws.ToString(in.Bucket), aws.ToString(o.Key))
		if err != nil {
			return nil, err
		}
		_ = os.Remove(p)
	}
	return &s3.DeleteObjectsOutput{}, nil
}

// deployHandlers runs our deploy-time Lambda handler for every custom
// resource type it handles, with the properties CloudFormation would send.
func (r *run) deployHandlers(ctx context.Context) error {
	h := &deployres.Handler{S3: localS3{dir: r.blobDir}, Secrets: r.sm, IAM: r.iam}
	r.sub("the deploy-resources Lambda function → deployres.Handler.Handle called in-process (S3 → local folder %s; IAM access keys → in-memory stand-in internal/tools/fakeiam)", r.blobDir)
	for _, sn := range r.a.Order {
		st := r.a.Stacks[sn]
		for _, typ := range []string{deployres.DatabaseURIType, deployres.InteropRepositoryType, deployres.SMTPCredentialsType} {
			for _, id := range st.ResourcesOfType(typ) {
				props, err := r.evalProps(sn, st.Resources[id].Properties)
				if err != nil {
					return fmt.Errorf("%s/%s: %w", sn, id, err)
				}
				props = Stringify(props).(map[string]any)
				if typ == deployres.InteropRepositoryType {
					if err := r.interopStandIns(ctx, props); err != nil {
						return fmt.Errorf("%s/%s: %w", sn, id, err)
					}
				}
				physicalID, data, err := h.Handle(ctx, cfn.Event{
					RequestType:        cfn.RequestCreate,
					ResourceType:       typ,
					LogicalResourceID:  id,
					StackID:            sn,
					ResourceProperties: props,
				})
				if err != nil {
					return fmt.Errorf("%s %s/%s: %v", typ, sn, id, err)
				}
				for k, v := range data {
					r.v.SetAttr(sn, id, k, v)
				}
				if typ == deployres.SMTPCredentialsType {
					r.smtpResources = append(r.smtpResources, smtpResource{props: props, physicalID: physicalID})
				}
				r.handled = append(r.handled, fmt.Sprintf("%s %s/%s", typ, sn, id))
				if typ == deployres.InteropRepositoryType {
					r.interopDir = filepath.Join(r.blobDir, fmt.Sprint(props["Bucket"]), fmt.Sprint(props["Prefix"]))
				}
			}
		}
	}
	return nil
}

// interopStandIns gives local values to the secrets the interop repository
// references but no template creates (the operator creates them in the
// account): JSON objects with the referenced keys, or an EC private key for a
// PEM file, whose certificate in the repository is then replaced by one for
// that key (same subject, signed by the rehearsal CA).
func (r *run) interopStandIns(ctx context.Context, props map[string]any) error {
	var refs []interop.SecretRef
	if s, _ := props["SecretRefs"].(string); s != "" {
		if err := json.Unmarshal([]byte(s), &refs); err != nil {
			return fmt.Errorf("SecretRefs: %v", err)
		}
	}
	files, _ := props["Files"].(map[string]any)
	jsonKeys := map[string]map[string]string{}
	var order []string
	for _, ref := range refs {
		if _, err := r.getSecret(ctx, ref.SecretID); err == nil {
			continue
		}
		switch {
		case ref.Kind == interop.SecretPEMFile:
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				return err
			}
			der, _ := x509.MarshalECPrivateKey(key)
			keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
			if _, err := r.createSecret(ctx, ref.SecretID, string(keyPEM)); err != nil {
				return err
			}
			r.sub("interop secret %s (not created by any template) → a generated EC P-256 key", ref.SecretID)
			if ref.Certificate != "" {
				old, _ := files[ref.Certificate].(string)
				blk, _ := pem.Decode([]byte(old))
				if blk == nil {
					return fmt.Errorf("%s: %s is not a PEM certificate", ref.File, ref.Certificate)
				}
				c, err := x509.ParseCertificate(blk.Bytes)
				if err != nil {
					return fmt.Errorf("%s: %v", ref.Certificate, err)
				}
				iss, err := r.ca.Client(c.Subject, key)
				if err != nil {
					return err
				}
				files[ref.Certificate] = string(iss.CertPEM)
				r.sub("interop client certificate %s → one for the generated key, same subject %q, signed by the rehearsal CA", ref.Certificate, c.Subject.String())
			}
		default:
			if jsonKeys[ref.SecretID] == nil {
				jsonKeys[ref.SecretID] = map[string]string{}
				order = append(order, ref.SecretID)
			}
			v, err := GenerateSecretString(map[string]any{"PasswordLength": 24.0, "ExcludePunctuation": true})
			if err != nil {
				return err
			}
			jsonKeys[ref.SecretID][ref.JSONKey] = v
		}
	}
	for _, id := range order {
		keys := jsonKeys[id]
		var value string
		if v, ok := keys[""]; ok && len(keys) == 1 {
			value = v
		} else {
			b, _ := json.Marshal(keys)
			value = string(b)
		}
		if _, err := r.createSecret(ctx, id, value); err != nil {
			return err
		}
		r.sub("interop secret %s (not created by any template) → generated local value", id)
	}
	return nil
}
