package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

var domains = []string{"tts.example.com", "*.tts.example.com"}

func baseEnv() env {
	return env{"CERT_SECRET_ID": "cert", "CERT_DOMAIN": "tts.example.com", "ACME_EMAIL": "ops@example.com", "ACME_ACCOUNT_SECRET_ID": "acct"}
}

func TestDecide(t *testing.T) {
	ca := testpki.New(t)
	now := time.Now()
	sec := func(days float64) *certsecret.Secret {
		l := ca.IssueDays(t, domains, days)
		s, err := certsecret.New(l.CertPEM, ca.InterPEM, l.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name  string
		st    state
		force bool
		renew bool
	}{
		{"missing", state{problem: certsecret.ErrNotFound}, false, true},
		{"invalid", state{secret: sec(60), problem: certsecret.ErrKeyMismatch}, false, true},
		{"60 days left", state{secret: sec(60), valid: true}, false, false},
		{"30.5 days left", state{secret: sec(30.5), valid: true}, false, false},
		{"29.5 days left", state{secret: sec(29.5), valid: true}, false, true},
		{"forced", state{secret: sec(60), valid: true}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := decide(tc.st, now, 30, tc.force)
			if d.renew != tc.renew || d.reason == "" {
				t.Fatalf("decide = %+v, want renew=%v", d, tc.renew)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(baseEnv().lookup)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server != LetsEncryptProduction || c.RenewBeforeDays != 30 || !slices.Equal(c.Domains, domains) || !slices.Equal(c.AuthArgs, []string{"--dns-route53"}) {
		t.Errorf("defaults: %+v", c)
	}
	args := strings.Join(c.certbotArgs(), " ")
	for _, want := range []string{"certonly --non-interactive --agree-tos", "--email ops@example.com", "--server " + LetsEncryptProduction,
		"--dns-route53", "-d tts.example.com -d *.tts.example.com", "--deploy-hook /usr/local/bin/deploy-hook", "--config-dir /etc/letsencrypt"} {
		if !strings.Contains(args, want) {
			t.Errorf("certbot args %q lack %q", args, want)
		}
	}
	e := baseEnv()
	e["ACME_SERVER"] = "staging"
	if c, err := parseConfig(e.lookup); err != nil || c.Server != LetsEncryptStaging {
		t.Errorf("staging: %v %v", c, err)
	}
	bad := env{"CERT_DOMAIN": "*.x.com", "ACME_EMAIL": "nope", "ACME_SERVER": "http://x", "RENEW_BEFORE_DAYS": "-1", "CERTBOT_TIMEOUT": "soon"}
	_, err = parseConfig(bad.lookup)
	for _, want := range []string{"CERT_SECRET_ID", "CERT_DOMAIN", "ACME_EMAIL", "ACME_SERVER", "RENEW_BEFORE_DAYS", "CERTBOT_TIMEOUT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

type harness struct {
	sm    *secretsmanager.Client
	cw    *fakecw.Server
	fake  *fakesm.Server
	task  *task
	ca    *testpki.CA
	calls int
}

func newHarness(t *testing.T, e env) *harness {
	t.Helper()
	fake := fakesm.New()
	sm := httptest.NewServer(fake)
	t.Cleanup(sm.Close)
	cwFake := fakecw.New()
	cw := httptest.NewServer(cwFake)
	t.Cleanup(cw.Close)
	h := &harness{fake: fake, cw: cwFake, ca: testpki.New(t)}
	h.sm = secretsmanager.New(secretsmanager.Options{Region: "eu-west-1", BaseEndpoint: aws.String(sm.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	cwc := cloudwatch.New(cloudwatch.Options{Region: "eu-west-1", BaseEndpoint: aws.String(cw.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	for _, n := range []string{"cert", "acct"} {
		if _, err := h.sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := e["CERTBOT_CONFIG_DIR"]; !ok {
		e["CERTBOT_CONFIG_DIR"] = t.TempDir()
	}
	cfg, err := parseConfig(e.lookup)
	if err != nil {
		t.Fatal(err)
	}
	h.task = &task{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil)), sm: h.sm, cw: cwc, now: time.Now}
	return h
}

func (h *harness) store(t *testing.T, days float64) *certsecret.Secret {
	t.Helper()
	l := h.ca.IssueDays(t, domains, days)
	s, err := certsecret.New(l.CertPEM, h.ca.InterPEM, l.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (certsecret.Store{Client: h.sm, SecretID: "cert"}).Put(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// certbot returns a stand-in for the certbot command: it registers an
// "account" file the first time and, when hookWorks, stores a fresh
// certificate like the deploy hook would.
func (h *harness) certbot(t *testing.T, hookWorks bool, err error) func(context.Context, time.Duration, string, ...string) error {
	return func(ctx context.Context, _ time.Duration, name string, args ...string) error {
		h.calls++
		acct := filepath.Join(h.task.cfg.ConfigDir, "accounts", "acme.example", "directory", "abc", "private_key.json")
		if _, statErr := os.Stat(acct); statErr != nil {
			_ = os.MkdirAll(filepath.Dir(acct), 0o700)
			_ = os.WriteFile(acct, []byte(`{"k":"secret"}`), 0o600)
		}
		if hookWorks {
			h.store(t, 90)
		}
		return err
	}
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name      string
		stored    float64 // days of the stored certificate, 0 for none
		hookWorks bool
		certErr   error
		extraEnv  env
		wantExit  int
		wantCalls int
	}{
		{"valid and not due", 60, true, nil, nil, exitOK, 0},
		{"due", 10, true, nil, nil, exitOK, 1},
		{"missing", 0, true, nil, nil, exitOK, 1},
		{"forced", 60, true, nil, env{"FORCE_RENEWAL": "true"}, exitOK, 1},
		{"certbot fails", 10, false, errors.New("exit status 1"), nil, exitRenewFail, 1},
		{"hook did not store", 10, false, nil, nil, exitRenewFail, 1},
		{"renew window 100 days", 60, true, nil, env{"RENEW_BEFORE_DAYS": "100"}, exitOK, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := baseEnv()
			for k, v := range tc.extraEnv {
				e[k] = v
			}
			h := newHarness(t, e)
			if tc.stored > 0 {
				h.store(t, tc.stored)
			}
			h.task.runCmd = h.certbot(t, tc.hookWorks, tc.certErr)
			if code := h.task.run(context.Background()); code != tc.wantExit {
				t.Fatalf("exit %d, want %d", code, tc.wantExit)
			}
			if h.calls != tc.wantCalls {
				t.Fatalf("certbot ran %d times, want %d", h.calls, tc.wantCalls)
			}
			fail := h.cw.Find("RenewalFailure")
			if len(fail) != 1 || (fail[0].Value == 1) != (tc.wantExit != exitOK) {
				t.Errorf("RenewalFailure metric %+v", fail)
			}
			if tc.wantExit == exitOK && len(h.cw.Find("DaysToExpiry")) == 0 {
				t.Error("no DaysToExpiry metric")
			}
		})
	}
}

func TestRunDoesNotIssueWhenSecretUnreadable(t *testing.T) {
	h := newHarness(t, baseEnv())
	h.fake.SetFault(func(op string, _ []byte) *fakesm.APIError {
		return &fakesm.APIError{Type: "AccessDeniedException", Message: "denied"}
	})
	h.task.runCmd = h.certbot(t, true, nil)
	if code := h.task.run(context.Background()); code != exitSecretRead || h.calls != 0 {
		t.Fatalf("exit %d with %d certbot runs, want %d and none", code, h.calls, exitSecretRead)
	}
}

func TestAccountIsSavedAndRestored(t *testing.T) {
	h := newHarness(t, baseEnv())
	h.task.runCmd = h.certbot(t, true, nil)
	if code := h.task.run(context.Background()); code != exitOK {
		t.Fatalf("first run exit %d", code)
	}
	if h.fake.Calls("PutSecretValue") != 2 { // certificate + account
		t.Fatalf("PutSecretValue calls = %d, want 2", h.fake.Calls("PutSecretValue"))
	}
	// A fresh task: empty config dir, certificate due again.
	e := baseEnv()
	e["FORCE_RENEWAL"] = "true"
	cfg, err := parseConfig(e.lookup)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConfigDir = t.TempDir()
	h.task.cfg = cfg
	restoredSeen := false
	h.task.runCmd = func(ctx context.Context, d time.Duration, n string, a ...string) error {
		b, err := os.ReadFile(filepath.Join(cfg.ConfigDir, "accounts", "acme.example", "directory", "abc", "private_key.json"))
		restoredSeen = err == nil && string(b) == `{"k":"secret"}`
		return h.certbot(t, true, nil)(ctx, d, n, a...)
	}
	if code := h.task.run(context.Background()); code != exitOK {
		t.Fatalf("second run exit %d", code)
	}
	if !restoredSeen {
		t.Fatal("the account was not restored before certbot ran")
	}
	if h.fake.Calls("PutSecretValue") != 3 { // only the new certificate: the account is unchanged
		t.Fatalf("PutSecretValue calls = %d, want 3", h.fake.Calls("PutSecretValue"))
	}
}

func TestAccountRestoreRejectsPathEscape(t *testing.T) {
	h := newHarness(t, baseEnv())
	if _, err := h.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String("acct"), SecretString: aws.String(`{"format":1,"files":{"accounts/../../etc/x":"boom"}}`),
	}); err != nil {
		t.Fatal(err)
	}
	h.task.runCmd = h.certbot(t, true, nil)
	if code := h.task.run(context.Background()); code != exitSecretRead || h.calls != 0 {
		t.Fatalf("exit %d, certbot runs %d; want %d, 0", code, h.calls, exitSecretRead)
	}
}
