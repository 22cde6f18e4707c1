package interop

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func filesFS(files []File) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, f := range files {
		fsys[f.Path] = &fstest.MapFile{Data: f.Data}
	}
	return fsys
}

func TestMaterialize(t *testing.T) {
	cert, key := genCert(t, certOpts{})
	files := map[string]string{
		"config.yml": "join-servers:\n  - file: 'js/js.yml'\n    join-euis: ['EC656E0000000000/24']\n",
		"js/c.pem":   cert,
		"js/js.yml": `# Join Server
fqdn: 'js.example.com'
protocol: 'BI1.0'
basic-auth:
  username: 'me'
  password: {secret: 'tts/js', json-key: 'password'} # from Secrets Manager
headers:
  X-Api-Key:
    secret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tts/api-AbCdEf'
tls:
  certificate: 'c.pem'
  key: {secret: 'tts/js-key'}
`,
	}
	repo, probs := Load(repoFS(files), ".", testNow)
	if len(probs) != 0 {
		t.Fatal(dump(probs))
	}
	if len(repo.SecretRefs) != 3 {
		t.Fatalf("want 3 secret refs, got %v", repo.SecretRefs)
	}
	secrets := map[string]string{
		"tts/js":     `{"password": "p@ss: \"quoted\"", "other": "x"}`,
		"tts/js-key": key,
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:tts/api-AbCdEf": "api-key-value",
	}
	calls := map[string]int{}
	get := func(_ context.Context, id string) (string, error) {
		calls[id]++
		v, ok := secrets[id]
		if !ok {
			return "", errors.New("ResourceNotFoundException")
		}
		return v, nil
	}
	out, err := Materialize(context.Background(), repo.Files(), repo.SecretRefs, get)
	if err != nil {
		t.Fatal(err)
	}
	// The result is what TTS reads: no references left, the key next to the
	// Join Server file, and it passes the checker (with literal warnings only).
	got, probs := Load(filesFS(out), ".", testNow)
	if probs.HasErrors() {
		t.Fatalf("materialized repository has errors:\n%s", dump(probs))
	}
	if len(got.SecretRefs) != 0 {
		t.Errorf("references left after Materialize: %v", got.SecretRefs)
	}
	js := got.JoinServers["js/js.yml"]
	if js.BasicAuth.Password.Literal != `p@ss: "quoted"` {
		t.Errorf("password = %q", js.BasicAuth.Password.Literal)
	}
	if js.Headers["X-Api-Key"].Literal != "api-key-value" {
		t.Errorf("header = %q", js.Headers["X-Api-Key"].Literal)
	}
	if js.TLS.KeyFile != "js/js.tls-key.pem" {
		t.Errorf("key file = %q", js.TLS.KeyFile)
	}
	var yml string
	for _, f := range out {
		switch f.Path {
		case "js/js.tls-key.pem":
			if string(f.Data) != key {
				t.Error("key file content differs from the secret")
			}
		case "js/js.yml":
			yml = string(f.Data)
		}
	}
	if !strings.Contains(yml, "# from Secrets Manager") || !strings.Contains(yml, "# Join Server") {
		t.Errorf("comments must survive:\n%s", yml)
	}
	if calls["tts/js"] != 1 {
		t.Errorf("each secret must be fetched once, tts/js fetched %d times", calls["tts/js"])
	}
	// Files without references are unchanged.
	for _, f := range out {
		if orig, ok := files[f.Path]; ok && f.Path != "js/js.yml" && string(f.Data) != orig {
			t.Errorf("%s changed", f.Path)
		}
	}
}

func TestMaterializeErrors(t *testing.T) {
	cert, _ := genCert(t, certOpts{})
	_, otherKey := genCert(t, certOpts{})
	files := map[string]string{
		"config.yml": goodConfig,
		"c.pem":      cert,
		"js.yml":     "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: 'u'\n  password: {secret: 'pw', json-key: 'password'}\ntls:\n  certificate: 'c.pem'\n  key: {secret: 'key'}\n",
	}
	repo, probs := Load(repoFS(files), ".", testNow)
	if len(probs) != 0 {
		t.Fatal(dump(probs))
	}
	cases := map[string]struct {
		secrets map[string]string
		want    string
	}{
		"secret missing":     {map[string]string{"key": otherKey}, "cannot get secret pw"},
		"not JSON":           {map[string]string{"pw": "plain", "key": otherKey}, "not a JSON object"},
		"field missing":      {map[string]string{"pw": `{"pass": "x"}`, "key": otherKey}, `no field "password" (fields: pass)`},
		"field not a string": {map[string]string{"pw": `{"password": 1}`, "key": otherKey}, "must be a non-empty string"},
		"key not PEM":        {map[string]string{"pw": `{"password": "x"}`, "key": "nope"}, "no PEM private key"},
		"key does not match": {map[string]string{"pw": `{"password": "x"}`, "key": otherKey}, "does not match certificate c.pem"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			get := func(_ context.Context, id string) (string, error) {
				if v, ok := c.secrets[id]; ok {
					return v, nil
				}
				return "", errors.New("ResourceNotFoundException")
			}
			_, err := Materialize(context.Background(), repo.Files(), repo.SecretRefs, get)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "js.yml: ") {
				t.Errorf("error = %v; want one naming js.yml and containing %q", err, c.want)
			}
			for _, v := range c.secrets {
				if len(v) > 4 && err != nil && strings.Contains(err.Error(), v) {
					t.Errorf("error reveals a secret value: %v", err)
				}
			}
		})
	}
}

func TestEmptyFiles(t *testing.T) {
	files := EmptyFiles()
	repo, probs := Load(filesFS(files), ".", testNow)
	if len(probs) != 0 || len(repo.Entries) != 0 {
		t.Errorf("EmptyFiles must load as an empty repository: %v", dump(probs))
	}
}
