package ttssecrets

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

// charset is what Secrets Manager draws from with a generator's exclusions
// (punctuation and space excluded).
func charset(gen map[string]any) string {
	all := "abcdefghijklmnopqrstuvwxyz0123456789"
	if gen["ExcludeUppercase"] != true {
		all += "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	}
	excluded, _ := gen["ExcludeCharacters"].(string)
	var out strings.Builder
	for _, r := range all {
		if !strings.ContainsRune(excluded, r) {
			out.WriteRune(r)
		}
	}
	return out.String()
}

func TestSecretsAlone(t *testing.T) {
	stack := cdktest.Stack(t)
	s, err := New(stack, "Secrets", Props{Key: awskms.NewKey(stack, jsii.String("Key"), nil), NamePrefix: "test/tts/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ByID) != len(Specs()) {
		t.Errorf("ByID has %d secrets, want %d", len(s.ByID), len(Specs()))
	}
	byName := map[string]cdktest.Resource{}
	for _, r := range cdktest.Synth(t, stack).OfType("AWS::SecretsManager::Secret") {
		name, _ := r.Properties["Name"].(string)
		byName[name] = r
	}
	for _, spec := range Specs() {
		r, ok := byName["test/tts/"+spec.ID]
		if !ok {
			t.Errorf("no secret test/tts/%s", spec.ID)
			continue
		}
		if r.DeletionPolicy != "RetainExceptOnCreate" || r.Properties["KmsKeyId"] == nil {
			t.Errorf("%s: DeletionPolicy %q, KmsKeyId %v; want a retained secret under the key", spec.ID, r.DeletionPolicy, r.Properties["KmsKeyId"])
		}
		gen, _ := r.Properties["GenerateSecretString"].(map[string]any)
		if gen == nil || gen["PasswordLength"] != float64(spec.Length) || gen["ExcludePunctuation"] != true {
			t.Errorf("%s: generator %v, want %d characters without punctuation", spec.ID, gen, spec.Length)
			continue
		}
		want := "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		if spec.Charset == Hex {
			want = "abcdef0123456789"
		}
		if got := charset(gen); got != want {
			t.Errorf("%s draws from %q, want %q", spec.ID, got, want)
		}
	}
}

func TestSecretsPropsAreChecked(t *testing.T) {
	stack := cdktest.Stack(t)
	ok := Props{Key: awskms.NewKey(stack, jsii.String("Key"), nil), NamePrefix: "test/tts/"}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid props refused: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*Props)
		want []string
	}{
		{"no key", func(p *Props) { p.Key = nil }, []string{"ttssecrets.missing-key"}},
		{"no prefix", func(p *Props) { p.NamePrefix = "" }, []string{"ttssecrets.missing-name-prefix"}},
		{"everything wrong", func(p *Props) { *p = Props{} }, []string{"ttssecrets.missing-key", "ttssecrets.missing-name-prefix"}},
	} {
		p := ok
		c.edit(&p)
		_, err := New(stack, "Secrets", p)
		if got := diag.FromError(err).Codes(); !slices.Equal(got, c.want) {
			t.Errorf("%s: codes %v, want %v (error %v)", c.name, got, c.want, err)
		}
	}
}
