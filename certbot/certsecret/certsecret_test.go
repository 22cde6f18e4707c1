package certsecret_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lorawan-stack-aws/tts-ecs/certbot/certsecret"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakesm"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/testpki"
)

var names = []string{"tts.example.com", "*.tts.example.com"}

func TestRoundTripAndValidate(t *testing.T) {
	ca := testpki.New(t)
	leaf := ca.IssueDays(t, names, 90)
	s, err := certsecret.New(leaf.CertPEM, ca.InterPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	data, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := certsecret.Parse(data)
	if err != nil {
		t.Fatalf("Parse(Marshal()): %v", err)
	}
	p, err := back.Validate(certsecret.Checks{Domains: []string{"tts.example.com", "*.tts.example.com", "eu1.tts.example.com"}})
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if back.Serial != certsecret.SerialHex(leaf.Cert) || !back.NotAfter.Equal(leaf.Cert.NotAfter) || p.Leaf.Subject.CommonName != "tts.example.com" {
		t.Errorf("metadata: serial %s notAfter %s", back.Serial, back.NotAfter)
	}
	if d := back.DaysLeft(time.Now()); d < 89.9 || d > 90.1 {
		t.Errorf("DaysLeft = %f, want about 90", d)
	}
	if !strings.HasPrefix(back.FullChain, string(leaf.CertPEM)) || !strings.HasSuffix(back.FullChain, string(ca.InterPEM)) {
		t.Error("fullchain is not leaf followed by chain")
	}
	s2, _ := certsecret.New(leaf.CertPEM, ca.InterPEM, leaf.KeyPEM)
	if s2.VersionToken() != s.VersionToken() || len(s.VersionToken()) != 36 {
		t.Errorf("version token not deterministic or not UUID-shaped: %q", s.VersionToken())
	}
	if other := ca.IssueDays(t, names, 90); mustNew(t, other.CertPEM, ca.InterPEM, other.KeyPEM).VersionToken() == s.VersionToken() {
		t.Error("two certificates share a version token")
	}
}

func mustNew(t *testing.T, c, chain, k []byte) *certsecret.Secret {
	t.Helper()
	s, err := certsecret.New(c, chain, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestValidateRejects(t *testing.T) {
	ca := testpki.New(t)
	other := testpki.New(t)
	good := ca.IssueDays(t, names, 90)
	second := ca.IssueDays(t, names, 90)
	now := time.Now()
	expired := ca.Issue(t, names, now.Add(-100*24*time.Hour), now.Add(-time.Hour))
	future := ca.Issue(t, names, now.Add(time.Hour), now.Add(90*24*time.Hour))

	tests := []struct {
		name   string
		secret func() *certsecret.Secret
		checks certsecret.Checks
		want   error
	}{
		{"key of another certificate", func() *certsecret.Secret { return mustNew(t, good.CertPEM, ca.InterPEM, second.KeyPEM) }, certsecret.Checks{}, certsecret.ErrKeyMismatch},
		{"expired", func() *certsecret.Secret { return mustNew(t, expired.CertPEM, ca.InterPEM, expired.KeyPEM) }, certsecret.Checks{}, certsecret.ErrExpired},
		{"not yet valid", func() *certsecret.Secret { return mustNew(t, future.CertPEM, ca.InterPEM, future.KeyPEM) }, certsecret.Checks{}, certsecret.ErrExpired},
		{"expired at a later time", func() *certsecret.Secret { return mustNew(t, good.CertPEM, ca.InterPEM, good.KeyPEM) }, certsecret.Checks{Now: now.AddDate(0, 0, 91)}, certsecret.ErrExpired},
		{"no chain", func() *certsecret.Secret { return mustNew(t, good.CertPEM, nil, good.KeyPEM) }, certsecret.Checks{}, certsecret.ErrNoChain},
		{"chain of another CA", func() *certsecret.Secret { return mustNew(t, good.CertPEM, other.InterPEM, good.KeyPEM) }, certsecret.Checks{}, certsecret.ErrNoChain},
		{"other domain", func() *certsecret.Secret { return mustNew(t, good.CertPEM, ca.InterPEM, good.KeyPEM) }, certsecret.Checks{Domains: []string{"tts.example.org"}}, certsecret.ErrDomain},
		{"wildcard missing", func() *certsecret.Secret {
			l := ca.IssueDays(t, []string{"tts.example.com"}, 90)
			return mustNew(t, l.CertPEM, ca.InterPEM, l.KeyPEM)
		}, certsecret.Checks{Domains: []string{"*.tts.example.com"}}, certsecret.ErrDomain},
		{"tampered metadata", func() *certsecret.Secret {
			s := mustNew(t, good.CertPEM, ca.InterPEM, good.KeyPEM)
			s.NotAfter = s.NotAfter.AddDate(1, 0, 0)
			return s
		}, certsecret.Checks{}, certsecret.ErrMalformed},
		{"fullchain not matching", func() *certsecret.Secret {
			s := mustNew(t, good.CertPEM, ca.InterPEM, good.KeyPEM)
			s.FullChain = string(second.CertPEM) + string(ca.InterPEM)
			return s
		}, certsecret.Checks{}, certsecret.ErrMalformed},
		{"garbage key", func() *certsecret.Secret {
			s := mustNew(t, good.CertPEM, ca.InterPEM, good.KeyPEM)
			s.PrivateKey = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
			return s
		}, certsecret.Checks{}, certsecret.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.secret().Validate(tc.checks)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Validate() = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"not JSON":       "-----BEGIN CERTIFICATE-----",
		"unknown field":  `{"format":1,"extra":true}`,
		"future format":  `{"format":2}`,
		"missing format": `{"certificate":"x"}`,
	} {
		if _, err := certsecret.Parse([]byte(doc)); !errors.Is(err, certsecret.ErrMalformed) {
			t.Errorf("%s: Parse() = %v, want ErrMalformed", name, err)
		}
	}
	if _, err := certsecret.New([]byte("nope"), nil, nil); !errors.Is(err, certsecret.ErrMalformed) {
		t.Errorf("New with no certificate: %v", err)
	}
}

func TestFromLineage(t *testing.T) {
	ca := testpki.New(t)
	leaf := ca.IssueDays(t, names, 90)
	dir := t.TempDir()
	for n, b := range map[string][]byte{"cert.pem": leaf.CertPEM, "chain.pem": ca.InterPEM, "privkey.pem": leaf.KeyPEM} {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := certsecret.FromLineage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Validate(certsecret.Checks{Domains: names}); err != nil {
		t.Fatal(err)
	}
	if _, err := certsecret.FromLineage(t.TempDir()); err == nil || !strings.Contains(err.Error(), "cert.pem") {
		t.Errorf("empty lineage: %v", err)
	}
}

func TestStoreWithFakeSecretsManager(t *testing.T) {
	ctx := context.Background()
	fake := fakesm.New()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client := secretsmanager.New(secretsmanager.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	st := certsecret.Store{Client: client, SecretID: "tts/proxy-cert"}

	if _, _, err := st.Get(ctx); !errors.Is(err, certsecret.ErrNotFound) {
		t.Fatalf("Get on a missing secret = %v, want ErrNotFound", err)
	}
	ca := testpki.New(t)
	leaf := ca.IssueDays(t, names, 90)
	sec := mustNew(t, leaf.CertPEM, ca.InterPEM, leaf.KeyPEM)
	if _, err := st.Put(ctx, sec); err == nil || !strings.Contains(err.Error(), "Data stack") {
		t.Fatalf("Put on a missing secret = %v, want advice to deploy the secret", err)
	}
	if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("tts/proxy-cert")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Get(ctx); !errors.Is(err, certsecret.ErrNotFound) {
		t.Fatalf("Get on a secret without value = %v, want ErrNotFound", err)
	}
	v1, err := st.Put(ctx, sec)
	if err != nil {
		t.Fatal(err)
	}
	again, err := st.Put(ctx, sec)
	if err != nil || again != v1 {
		t.Fatalf("storing the same certificate twice: version %s then %s (%v), want one version", v1, again, err)
	}
	got, version, err := st.Get(ctx)
	if err != nil || version != v1 || got.Serial != sec.Serial {
		t.Fatalf("Get = %v %s %v", got, version, err)
	}
	if _, err := client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("tts/proxy-cert"), SecretString: aws.String("{}")}); err != nil {
		t.Fatal(err)
	}
	if _, v, err := st.Get(ctx); !errors.Is(err, certsecret.ErrMalformed) || v == "" {
		t.Fatalf("Get on a placeholder = %q %v, want ErrMalformed with the version", v, err)
	}
}
