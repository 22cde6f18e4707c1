package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lorawan-stack-aws/tts-ecs/certbot/certsecret"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakecw"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakesm"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/testpki"
)

type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

func setup(t *testing.T) (*secretsmanager.Client, *cloudwatch.Client, *fakecw.Server) {
	t.Helper()
	sm := httptest.NewServer(fakesm.New())
	t.Cleanup(sm.Close)
	cwFake := fakecw.New()
	cw := httptest.NewServer(cwFake)
	t.Cleanup(cw.Close)
	smc := secretsmanager.New(secretsmanager.Options{Region: "eu-west-1", BaseEndpoint: aws.String(sm.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	cwc := cloudwatch.New(cloudwatch.Options{Region: "eu-west-1", BaseEndpoint: aws.String(cw.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	if _, err := smc.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("cert")}); err != nil {
		t.Fatal(err)
	}
	return smc, cwc, cwFake
}

func lineage(t *testing.T, cert, chain, key []byte) string {
	t.Helper()
	dir := t.TempDir()
	for n, b := range map[string][]byte{"cert.pem": cert, "chain.pem": chain, "privkey.pem": key} {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestHookStoresValidCertificate(t *testing.T) {
	smc, cwc, cw := setup(t)
	ca := testpki.New(t)
	leaf := ca.IssueDays(t, []string{"tts.example.com", "*.tts.example.com"}, 90)
	e := env{
		"RENEWED_LINEAGE": lineage(t, leaf.CertPEM, ca.InterPEM, leaf.KeyPEM), "RENEWED_DOMAINS": "tts.example.com *.tts.example.com",
		"CERT_SECRET_ID": "cert", "CERT_METRIC_DIMENSIONS": "Stack=test",
	}
	if code := run(context.Background(), quiet, e.lookup, smc, cwc, time.Now); code != exitOK {
		t.Fatalf("exit %d, want 0", code)
	}
	got, _, err := certsecret.Store{Client: smc, SecretID: "cert"}.Get(context.Background())
	if err != nil || got.Serial != certsecret.SerialHex(leaf.Cert) {
		t.Fatalf("stored %v, %v", got, err)
	}
	m := cw.Find("DaysToExpiry")
	if len(m) != 1 || m[0].Value < 89.9 || m[0].Value > 90.1 || m[0].Dimensions["Stack"] != "test" || m[0].Namespace != "TTS/Certificates" {
		t.Fatalf("metric %+v", m)
	}
}

func TestHookRejectsBadFiles(t *testing.T) {
	ca := testpki.New(t)
	good := ca.IssueDays(t, []string{"tts.example.com"}, 90)
	other := ca.IssueDays(t, []string{"tts.example.com"}, 90)
	expired := ca.Issue(t, []string{"tts.example.com"}, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour))
	cases := map[string]struct {
		env  func(t *testing.T) env
		want int
	}{
		"key mismatch": {func(t *testing.T) env {
			return env{"RENEWED_LINEAGE": lineage(t, good.CertPEM, ca.InterPEM, other.KeyPEM), "CERT_SECRET_ID": "cert"}
		}, exitInvalid},
		"expired": {func(t *testing.T) env {
			return env{"RENEWED_LINEAGE": lineage(t, expired.CertPEM, ca.InterPEM, expired.KeyPEM), "CERT_SECRET_ID": "cert"}
		}, exitInvalid},
		"domain not covered": {func(t *testing.T) env {
			return env{"RENEWED_LINEAGE": lineage(t, good.CertPEM, ca.InterPEM, good.KeyPEM), "RENEWED_DOMAINS": "tts.example.com *.tts.example.com", "CERT_SECRET_ID": "cert"}
		}, exitInvalid},
		"missing lineage dir": {func(t *testing.T) env {
			return env{"RENEWED_LINEAGE": filepath.Join(t.TempDir(), "nope"), "CERT_SECRET_ID": "cert"}
		}, exitInvalid},
		"no secret id": {func(t *testing.T) env {
			return env{"RENEWED_LINEAGE": lineage(t, good.CertPEM, ca.InterPEM, good.KeyPEM)}
		}, exitConfig},
		"bad dimensions": {func(t *testing.T) env {
			return env{"RENEWED_LINEAGE": lineage(t, good.CertPEM, ca.InterPEM, good.KeyPEM), "CERT_SECRET_ID": "cert", "CERT_METRIC_DIMENSIONS": "oops"}
		}, exitConfig},
		"secret does not exist": {func(t *testing.T) env {
			return env{"RENEWED_LINEAGE": lineage(t, good.CertPEM, ca.InterPEM, good.KeyPEM), "CERT_SECRET_ID": "other"}
		}, exitAWS},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			smc, cwc, _ := setup(t)
			if code := run(context.Background(), quiet, tc.env(t).lookup, smc, cwc, time.Now); code != tc.want {
				t.Fatalf("exit %d, want %d", code, tc.want)
			}
			if _, _, err := (certsecret.Store{Client: smc, SecretID: "cert"}).Get(context.Background()); err == nil {
				t.Fatal("something was stored")
			}
		})
	}
}

func TestHookMetricFailureDoesNotFailTheHook(t *testing.T) {
	smc, cwc, cw := setup(t)
	cw.SetFault(500)
	ca := testpki.New(t)
	leaf := ca.IssueDays(t, []string{"tts.example.com"}, 90)
	e := env{"RENEWED_LINEAGE": lineage(t, leaf.CertPEM, ca.InterPEM, leaf.KeyPEM), "CERT_SECRET_ID": "cert"}
	if code := run(context.Background(), quiet, e.lookup, smc, cwc, time.Now); code != exitOK {
		t.Fatalf("exit %d, want 0", code)
	}
}
