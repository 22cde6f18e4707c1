package deployres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/lorawan-stack-aws/tts-ecs/internal/interop"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakesm"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/testpki"
)

// fakeS3 is an in-memory bucket that records the order of writes.
type fakeS3 struct {
	objects map[string]string
	sse     map[string]string
	puts    []string
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.objects[*in.Key] = string(b)
	f.sse[*in.Key] = string(in.ServerSideEncryption) + " " + aws.ToString(in.SSEKMSKeyId)
	f.puts = append(f.puts, *in.Key)
	return &s3.PutObjectOutput{}, nil
}

func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	var keys []string
	for k := range f.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := &s3.ListObjectsV2Output{IsTruncated: aws.Bool(false)}
	for _, k := range keys {
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k)})
	}
	return out, nil
}

func (f *fakeS3) DeleteObjects(_ context.Context, in *s3.DeleteObjectsInput, _ ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	for _, o := range in.Delete.Objects {
		delete(f.objects, *o.Key)
	}
	return &s3.DeleteObjectsOutput{}, nil
}

// fakeSecrets is an in-memory Secrets Manager.
type fakeSecrets struct {
	values map[string]string
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	v, ok := f.values[*in.SecretId]
	if !ok {
		return nil, &smtypes.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret.")}
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(v)}, nil
}

func (f *fakeSecrets) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	f.values[*in.SecretId] = *in.SecretString
	return &secretsmanager.PutSecretValueOutput{}, nil
}

// testRepo is a repository with a basic-auth password and a TLS key in
// Secrets Manager, checked by the real loader.
func testRepo(t *testing.T) (*interop.Repository, map[string]string) {
	t.Helper()
	ca := testpki.New(t)
	leaf := ca.IssueDays(t, []string{"client.example.net"}, 365)
	fsys := fstest.MapFS{
		"repo/config.yml":   {Data: []byte("join-servers:\n  - file: ./a.yml\n    join-euis: ['EC656E0000000000/24']\n  - file: ./b/js.yml\n    join-euis: ['0000000000000000/0']\n")},
		"repo/a.yml":        {Data: []byte("fqdn: js.example.net\nprotocol: BI1.0\nbasic-auth:\n  username: us\n  password:\n    secret: test/js-a\n    json-key: password\n")},
		"repo/b/js.yml":     {Data: []byte("fqdn: js.example.org\nprotocol: BI1.0\ntls:\n  source: file\n  root-ca: ./ca.pem\n  certificate: ./client.pem\n  key:\n    secret: arn:aws:secretsmanager:eu-west-1:123456789012:secret:test/js-b-key-AbCdEf\n")},
		"repo/b/ca.pem":     {Data: ca.RootPEM},
		"repo/b/client.pem": {Data: leaf.CertPEM},
	}
	repo, probs := interop.Load(fsys, "repo", time.Now())
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"test/js-a": `{"password":"planted-basic-auth-S3cr3t"}`,
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:test/js-b-key-AbCdEf": string(leaf.KeyPEM),
	}
	return repo, secrets
}

func props(t *testing.T, repo *interop.Repository) map[string]any {
	t.Helper()
	files := map[string]any{}
	for _, f := range repo.Files() {
		files[f.Path] = string(f.Data)
	}
	refs, err := json.Marshal(repo.SecretRefs)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"Bucket": "interop-bucket", "Prefix": "interop-repository", "KMSKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/k",
		"Files": files, "SecretRefs": string(refs), "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:f"}
}

func TestInteropRepositoryDeploy(t *testing.T) {
	repo, secrets := testRepo(t)
	s3c := &fakeS3{objects: map[string]string{
		"interop-repository/old-js.yml": "fqdn: gone.example\n",
		"elsewhere/keep.txt":            "not ours",
	}, sse: map[string]string{}}
	sm := &fakeSecrets{values: secrets}
	h := &Handler{S3: s3c, Secrets: sm}
	id, data, err := h.Handle(context.Background(), cfn.Event{RequestType: cfn.RequestCreate, ResourceType: InteropRepositoryType, ResourceProperties: props(t, repo)})
	if err != nil {
		t.Fatal(err)
	}
	if id != "s3://interop-bucket/interop-repository" {
		t.Errorf("physical id %q", id)
	}
	if data["Files"] != 6 || data["Removed"] != 1 {
		t.Errorf("data %v, want 6 files written (config, 2 JS files, CA, certificate, resolved key) and 1 removed", data)
	}
	if last := s3c.puts[len(s3c.puts)-1]; last != "interop-repository/config.yml" {
		t.Errorf("last write %s; config.yml must be written last", last)
	}
	if _, ok := s3c.objects["interop-repository/old-js.yml"]; ok {
		t.Error("a file the repository no longer has was not removed")
	}
	if s3c.objects["elsewhere/keep.txt"] != "not ours" {
		t.Error("an object outside the prefix was touched")
	}
	a := s3c.objects["interop-repository/a.yml"]
	if !strings.Contains(a, `password: "planted-basic-auth-S3cr3t"`) || strings.Contains(a, "secret:") {
		t.Errorf("a.yml not resolved:\n%s", a)
	}
	b := s3c.objects["interop-repository/b/js.yml"]
	if strings.Contains(b, "secret:") || !strings.Contains(b, "key: ") {
		t.Errorf("b/js.yml not resolved:\n%s", b)
	}
	var keyFile string
	for k, v := range s3c.objects {
		if strings.Contains(v, "PRIVATE KEY") {
			keyFile = k
		}
	}
	if keyFile == "" || !strings.HasPrefix(keyFile, "interop-repository/b/") {
		t.Errorf("the TLS key was not written beside its Join Server file (%q)", keyFile)
	}
	for k, v := range s3c.sse {
		if v != "aws:kms arn:aws:kms:eu-west-1:123456789012:key/k" {
			t.Errorf("%s written with %q, want SSE-KMS with the data key", k, v)
		}
	}
	// The resolved repository is what TTS reads: load it back strictly.
	out := fstest.MapFS{}
	for k, v := range s3c.objects {
		if rest, ok := strings.CutPrefix(k, "interop-repository/"); ok {
			out["r/"+rest] = &fstest.MapFile{Data: []byte(v)}
		}
	}
	if _, probs := interop.Load(out, "r", time.Now()); probs.HasErrors() {
		t.Errorf("the deployed repository does not load: %v", probs.Err())
	}
}

func TestInteropRepositoryFailuresKeepSecretsOut(t *testing.T) {
	repo, secrets := testRepo(t)
	// A key that does not match the certificate: the deploy fails, naming
	// file and secret, never the value.
	ca := testpki.New(t)
	other := ca.IssueDays(t, []string{"other"}, 30)
	arn := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:test/js-b-key-AbCdEf"
	goodKey := secrets[arn]
	secrets[arn] = string(other.KeyPEM)
	s3c := &fakeS3{objects: map[string]string{}, sse: map[string]string{}}
	h := &Handler{S3: s3c, Secrets: &fakeSecrets{values: secrets}}
	_, _, err := h.Handle(context.Background(), cfn.Event{RequestType: cfn.RequestUpdate, ResourceType: InteropRepositoryType, ResourceProperties: props(t, repo), PhysicalResourceID: "s3://interop-bucket/interop-repository"})
	if err == nil || !strings.Contains(err.Error(), "b/js.yml") || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("err = %v, want a key mismatch naming b/js.yml", err)
	}
	if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "planted") {
		t.Errorf("the error carries secret material: %v", err)
	}
	if len(s3c.objects) != 0 {
		t.Errorf("a failed deploy wrote %d objects; it must write nothing", len(s3c.objects))
	}
	// A password stored with a trailing newline: refused before anything
	// is written, with what to do, without the value.
	secrets[arn] = goodKey
	secrets["test/js-a"] = "{\"password\":\"planted-basic-auth-S3cr3t\\n\"}"
	_, _, err = h.Handle(context.Background(), cfn.Event{RequestType: cfn.RequestCreate, ResourceType: InteropRepositoryType, ResourceProperties: props(t, repo)})
	if err == nil || !strings.Contains(err.Error(), "a.yml: basic-auth.password: ") || !strings.Contains(err.Error(), "secret test/js-a, json-key password") ||
		!strings.Contains(err.Error(), "without the trailing newline") {
		t.Errorf("err = %v, want a refusal naming a.yml, the path and the secret", err)
	}
	if err != nil && strings.Contains(err.Error(), "planted") {
		t.Errorf("the error carries secret material: %v", err)
	}
	if len(s3c.objects) != 0 {
		t.Errorf("a failed deploy wrote %d objects; it must write nothing", len(s3c.objects))
	}
	// A missing secret.
	delete(secrets, "test/js-a")
	_, _, err = h.Handle(context.Background(), cfn.Event{RequestType: cfn.RequestCreate, ResourceType: InteropRepositoryType, ResourceProperties: props(t, repo)})
	if err == nil || !strings.Contains(err.Error(), "test/js-a") {
		t.Errorf("err = %v, want it to name the missing secret", err)
	}
}

func TestInteropRepositoryPropsChecked(t *testing.T) {
	repo, _ := testRepo(t)
	for name, mutate := range map[string]func(map[string]any){
		"no bucket":           func(p map[string]any) { delete(p, "Bucket") },
		"prefix with slash":   func(p map[string]any) { p["Prefix"] = "/abs/" },
		"no config.yml":       func(p map[string]any) { p["Files"] = map[string]any{"a.yml": ""} },
		"escaping path":       func(p map[string]any) { p["Files"] = map[string]any{"config.yml": "", "../x": ""} },
		"files not a map":     func(p map[string]any) { p["Files"] = "nope" },
		"secret refs garbled": func(p map[string]any) { p["SecretRefs"] = "{" },
	} {
		p := props(t, repo)
		mutate(p)
		if _, _, _, err := ParseInteropRepositoryProps(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDeleteLeavesRepository(t *testing.T) {
	s3c := &fakeS3{objects: map[string]string{"interop-repository/config.yml": "join-servers: []\n"}, sse: map[string]string{}}
	h := &Handler{S3: s3c, Secrets: &fakeSecrets{values: map[string]string{}}}
	id, _, err := h.Handle(context.Background(), cfn.Event{RequestType: cfn.RequestDelete, ResourceType: InteropRepositoryType, PhysicalResourceID: "s3://b/interop-repository"})
	if err != nil || id != "s3://b/interop-repository" || len(s3c.objects) != 1 {
		t.Errorf("delete: id %q err %v objects %d; want the repository kept", id, err, len(s3c.objects))
	}
}

func TestUnknownType(t *testing.T) {
	h := &Handler{}
	if _, _, err := h.Handle(context.Background(), cfn.Event{ResourceType: "Custom::Other"}); err == nil || !strings.Contains(err.Error(), InteropRepositoryType) {
		t.Errorf("err = %v", err)
	}
}

func TestDatabaseURI(t *testing.T) {
	pw := `a,b=c.d-e_f^g"h@i:j/k?l#m%n`
	src, _ := json.Marshal(map[string]any{"username": "tts", "password": pw, "host": "db.cluster-x.eu-west-1.rds.amazonaws.com", "port": 5433, "engine": "postgres"})
	got, err := DatabaseURI(string(src), "tts", "require")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatalf("%s does not parse: %v", got, err)
	}
	p, _ := u.User.Password()
	if u.Scheme != "postgres" || u.User.Username() != "tts" || p != pw || u.Host != "db.cluster-x.eu-west-1.rds.amazonaws.com:5433" || u.Path != "/tts" || u.Query().Get("sslmode") != "require" {
		t.Errorf("URI %s parses back as %+v with password %q", got, u, p)
	}
	for _, bad := range []string{`nope`, `{"username":"u","host":"h"}`, `{"username":"u","password":"p","host":"h","port":"x"}`} {
		if _, err := DatabaseURI(bad, "tts", ""); err == nil {
			t.Errorf("%s: accepted", bad)
		} else if strings.Contains(err.Error(), `"p"`) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// TestDatabaseURIRotation runs the handler against the Secrets Manager
// stand-in through the SDK, as the deployed function does: Create composes
// the URI, an Update with an unchanged password keeps the version, a changed
// password and a new PasswordVersion give a new URI and a new VersionId,
// and Delete touches nothing.
func TestDatabaseURIRotation(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(fakesm.New())
	defer srv.Close()
	client := secretsmanager.New(secretsmanager.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	create := func(name, value string) string {
		out, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ARN)
	}
	src := create("tts/database", `{"username":"tts","password":"pw-planted-1","host":"h","port":5433}`)
	dst := create("tts/tts/database-uri", "placeholder")
	uri := func() string {
		out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(dst)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.SecretString)
	}
	h := &Handler{Secrets: client}
	props := func(version string) map[string]any {
		return map[string]any{"SourceSecretArn": src, "TargetSecretArn": dst, "Database": "ttn_lorawan", "SSLMode": "require", "PasswordVersion": version}
	}
	run := func(step string, ev cfn.Event) map[string]any {
		t.Helper()
		id, data, err := h.Handle(ctx, ev)
		if err != nil || id != dst {
			t.Fatalf("%s: physical id %q, err %v", step, id, err)
		}
		for k, v := range data {
			if strings.Contains(fmt.Sprint(v), "planted") {
				t.Errorf("%s: response data %s carries the password", step, k)
			}
		}
		return data
	}

	created := run("create", cfn.Event{RequestType: cfn.RequestCreate, ResourceType: DatabaseURIType, ResourceProperties: props("1")})
	if uri() != "postgres://tts:pw-planted-1@h:5433/ttn_lorawan?sslmode=require" || created[DatabaseURIChangedAttr] != "true" || created[DatabaseURIVersionAttr] == "" {
		t.Fatalf("create: URI %q, data %v", uri(), created)
	}

	same := run("update, same password", cfn.Event{RequestType: cfn.RequestUpdate, ResourceType: DatabaseURIType, PhysicalResourceID: dst,
		ResourceProperties: props("2"), OldResourceProperties: props("1")})
	if same[DatabaseURIChangedAttr] != "false" || same[DatabaseURIVersionAttr] != created[DatabaseURIVersionAttr] {
		t.Errorf("update with the password unchanged: data %v, want the version of the create (%v)", same, created[DatabaseURIVersionAttr])
	}

	// The operator's rotation: a new password in the database secret, then
	// a new PasswordVersion.
	if _, err := client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(src),
		SecretString: aws.String(`{"username":"tts","password":"pw-planted-2","host":"h","port":5433}`)}); err != nil {
		t.Fatal(err)
	}
	rotated := run("update, new password", cfn.Event{RequestType: cfn.RequestUpdate, ResourceType: DatabaseURIType, PhysicalResourceID: dst,
		ResourceProperties: props("3"), OldResourceProperties: props("2")})
	if uri() != "postgres://tts:pw-planted-2@h:5433/ttn_lorawan?sslmode=require" {
		t.Errorf("after rotation the URI is %q", uri())
	}
	if rotated[DatabaseURIChangedAttr] != "true" || rotated[DatabaseURIVersionAttr] == created[DatabaseURIVersionAttr] || rotated[DatabaseURIVersionAttr] == "" {
		t.Errorf("rotation: data %v, want a new VersionId (was %v)", rotated, created[DatabaseURIVersionAttr])
	}
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(dst)})
	if err != nil || aws.ToString(out.VersionId) != rotated[DatabaseURIVersionAttr] {
		t.Errorf("VersionId %v is not the URI secret's current version %v (%v)", rotated[DatabaseURIVersionAttr], aws.ToString(out.VersionId), err)
	}

	before := uri()
	if data := run("delete", cfn.Event{RequestType: cfn.RequestDelete, ResourceType: DatabaseURIType, PhysicalResourceID: dst, ResourceProperties: props("3")}); len(data) != 0 || uri() != before {
		t.Errorf("delete: data %v, URI %q; want nothing changed", data, uri())
	}

	missing := props("4")
	missing["PasswordVersion"] = ""
	if _, _, err := h.Handle(ctx, cfn.Event{RequestType: cfn.RequestUpdate, ResourceType: DatabaseURIType, PhysicalResourceID: dst, ResourceProperties: missing}); err == nil || !strings.Contains(err.Error(), "PasswordVersion") {
		t.Errorf("no PasswordVersion: err = %v", err)
	}
	missing = props("4")
	missing["SourceSecretArn"] = "tts/nope"
	if _, _, err := h.Handle(ctx, cfn.Event{RequestType: cfn.RequestUpdate, ResourceType: DatabaseURIType, PhysicalResourceID: dst, ResourceProperties: missing}); err == nil || !errors.As(err, new(*smtypes.ResourceNotFoundException)) {
		t.Errorf("missing source: err = %v", err)
	}
}
