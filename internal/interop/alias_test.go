package interop

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestCheckerAndMaterializeAgreeOnAliases runs the checker and then the
// deploy-time resolver on the same repositories, with YAML aliases of
// secret mappings and of plain values: what the checker accepts, Materialize
// resolves, and the result holds at every path the value the checker saw
// there (TTS's YAML decoder reads an alias as a copy of the anchored value).
func TestCheckerAndMaterializeAgreeOnAliases(t *testing.T) {
	cert, key := genCert(t, certOpts{})
	secrets := map[string]string{
		"tts/js":  `{"password": "hunter2"}`,
		"tts/api": "api-key-value",
		"tts/key": key,
	}
	get := func(_ context.Context, id string) (string, error) {
		if v, ok := secrets[id]; ok {
			return v, nil
		}
		return "", errors.New("ResourceNotFoundException")
	}
	const head = "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\n"
	for _, c := range []struct {
		name, js string
		want     map[string]string // YAML path -> value TTS must read
	}{
		{"secret anchored at the password, alias in a header",
			head + "basic-auth:\n  username: 'ns-1'\n  password: &pw {secret: 'tts/js', json-key: 'password'}\nheaders:\n  X-Password: *pw # same secret\n",
			map[string]string{"basic-auth.password": "hunter2", "headers.X-Password": "hunter2"}},
		{"secret anchored in a header, alias at the password",
			head + "headers:\n  X-Api-Key: &api\n    secret: 'tts/api'\nbasic-auth:\n  username: 'ns-1'\n  password: *api\n",
			map[string]string{"basic-auth.password": "api-key-value", "headers.X-Api-Key": "api-key-value"}},
		{"one secret in three headers",
			head + "headers:\n  X-A: &a {secret: 'tts/api'}\n  X-B: *a\n  X-C: *a\n",
			map[string]string{"headers.X-A": "api-key-value", "headers.X-B": "api-key-value", "headers.X-C": "api-key-value"}},
		{"plain values",
			head + "paths:\n  join: &p 'api/join'\n  rejoin: *p\nbasic-auth:\n  username: &u 'ns-1'\n  password: {secret: 'tts/js', json-key: 'password'}\nheaders:\n  X-User: *u\n",
			map[string]string{"paths.join": "api/join", "paths.rejoin": "api/join", "basic-auth.username": "ns-1", "headers.X-User": "ns-1", "basic-auth.password": "hunter2"}},
		{"secret alias next to a TLS key reference",
			head + "basic-auth:\n  username: 'ns-1'\n  password: &pw {secret: 'tts/js', json-key: 'password'}\nheaders:\n  X-Password: *pw\ntls:\n  certificate: 'c.pem'\n  key: {secret: 'tts/key'}\n",
			map[string]string{"basic-auth.password": "hunter2", "headers.X-Password": "hunter2", "tls.key": "js.tls-key.pem"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"config.yml": goodConfig, "js.yml": c.js, "c.pem": cert}
			repo, probs := Load(repoFS(files), ".", testNow)
			if probs.HasErrors() {
				t.Fatalf("checker: %s", dump(probs))
			}
			out, err := Materialize(context.Background(), repo.Files(), repo.SecretRefs, get)
			if err != nil {
				t.Fatalf("the checker accepted the repository, Materialize refused it: %v", err)
			}
			got, probs := Load(filesFS(out), ".", testNow)
			if probs.HasErrors() || len(got.SecretRefs) != 0 {
				t.Fatalf("materialized repository: refs %v, problems:\n%s", got.SecretRefs, dump(probs))
			}
			var js string
			for _, f := range out {
				if f.Path == "js.yml" {
					js = string(f.Data)
				}
			}
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(js), &doc); err != nil {
				t.Fatal(err)
			}
			for p, want := range c.want {
				n := lookup(doc.Content[0], strings.Split(p, "."))
				if n == nil || n.Kind != yaml.ScalarNode || n.Value != want {
					t.Errorf("%s: want %q in the materialized file:\n%s", p, want, js)
				}
			}
			if strings.Contains(c.js, "# same secret") && !strings.Contains(js, "# same secret") {
				t.Errorf("the comment at the alias was lost:\n%s", js)
			}
			// Each path reads the secret once from the cache; references
			// point at the use site, not at the anchor.
			for _, r := range repo.SecretRefs {
				if l := lineOf(t, c.js, " "+r.YAMLPath[len(r.YAMLPath)-1]+":"); r.Line != l {
					t.Errorf("%s: reference at line %d, want the line of its key %d", r.Path(), r.Line, l)
				}
			}
		})
	}
}

// TestMaterializeBoundsAliasExpansion: a file whose aliases multiply is
// refused rather than expanded without bound.
func TestMaterializeBoundsAliasExpansion(t *testing.T) {
	var b strings.Builder
	b.WriteString("fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nheaders:\n  X-A: {secret: 'tts/api'}\nx0: &x0 ['a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a']\n")
	for i := 1; i < 9; i++ {
		b.WriteString("x" + string(rune('0'+i)) + ": &x" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*x" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	files := []File{{Path: "js.yml", Data: []byte(b.String())}}
	refs := []SecretRef{{File: "js.yml", YAMLPath: []string{"headers", "X-A"}, SecretID: "tts/api", Kind: SecretInline}}
	get := func(context.Context, string) (string, error) { return "v", nil }
	if _, err := Materialize(context.Background(), files, refs, get); err == nil || !strings.Contains(err.Error(), "js.yml: the YAML aliases expand to more than") {
		t.Errorf("want the expansion refused, got %v", err)
	}
}
