package certsync_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lorawan-stack-aws/tts-ecs/certbot/certmetrics"
	"github.com/lorawan-stack-aws/tts-ecs/certbot/certsecret"
	"github.com/lorawan-stack-aws/tts-ecs/internal/run/certsync"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakecw"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakesm"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/testpki"
)

const domain = "tts.example.com"

type reloads struct {
	n   int
	err error
}

func (r *reloads) Reload(context.Context) error { r.n++; return r.err }

type fixture struct {
	t      *testing.T
	sm     *secretsmanager.Client
	fake   *fakesm.Server
	cw     *fakecw.Server
	ca     *testpki.CA
	dir    string
	reload *reloads
	cfg    certsync.Config
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, fake: fakesm.New(), cw: fakecw.New(), ca: testpki.New(t), dir: t.TempDir(), reload: &reloads{}}
	sm := httptest.NewServer(f.fake)
	t.Cleanup(sm.Close)
	cw := httptest.NewServer(f.cw)
	t.Cleanup(cw.Close)
	f.sm = secretsmanager.New(secretsmanager.Options{Region: "eu-west-1", BaseEndpoint: aws.String(sm.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	cwc := cloudwatch.New(cloudwatch.Options{Region: "eu-west-1", BaseEndpoint: aws.String(cw.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	if _, err := f.sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("cert")}); err != nil {
		t.Fatal(err)
	}
	f.cfg = certsync.Config{
		Store:          certsecret.Store{Client: f.sm, SecretID: "cert"},
		Domain:         domain,
		Dir:            f.dir,
		StartupTimeout: 5 * time.Second,
		MaxBackoff:     200 * time.Millisecond,
		TestCommand:    []string{"true"},
		Reloader:       f.reload,
		Metrics:        &certmetrics.Publisher{Client: cwc, Namespace: "test"},
		Log:            slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return f
}

func (f *fixture) secret(days float64) *certsecret.Secret {
	l := f.ca.IssueDays(f.t, []string{domain, "*." + domain}, days)
	s, err := certsecret.New(l.CertPEM, f.ca.InterPEM, l.KeyPEM)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f *fixture) put(s *certsecret.Secret) {
	f.t.Helper()
	data, _ := s.Marshal()
	if _, err := f.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String("cert"), SecretString: aws.String(string(data))}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) started() *certsync.Syncer {
	f.t.Helper()
	s, err := certsync.New(f.cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f *fixture) files() (string, string) {
	c, err1 := os.ReadFile(filepath.Join(f.dir, "fullchain.pem"))
	k, err2 := os.ReadFile(filepath.Join(f.dir, "privkey.pem"))
	if err := errors.Join(err1, err2); err != nil {
		f.t.Fatal(err)
	}
	return string(c), string(k)
}

func (f *fixture) lastFailureMetric() float64 {
	d := f.cw.Find(certmetrics.CertSyncFailure)
	if len(d) == 0 {
		f.t.Fatal("no CertSyncFailure metric")
	}
	return d[len(d)-1].Value
}

func TestStartWaitsForTheFirstCertificate(t *testing.T) {
	f := newFixture(t)
	good := f.secret(90)
	go func() {
		time.Sleep(500 * time.Millisecond)
		f.put(good)
	}()
	s := f.started()
	if _, serial := s.Installed(); serial != good.Serial {
		t.Fatalf("installed %s, want %s", serial, good.Serial)
	}
	c, k := f.files()
	if c != good.FullChain || k != good.PrivateKey {
		t.Fatal("files do not hold the secret's certificate")
	}
	st, _ := os.Stat(filepath.Join(f.dir, "privkey.pem"))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("privkey.pem mode %v, want 0600", st.Mode().Perm())
	}
	if f.reload.n != 0 {
		t.Errorf("Start reloaded %d times, want 0 (nginx starts after it)", f.reload.n)
	}
	entries, _ := os.ReadDir(f.dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries, want 2 (no temporary files left)", len(entries))
	}
}

func TestStartGivesUp(t *testing.T) {
	f := newFixture(t)
	f.cfg.StartupTimeout = 700 * time.Millisecond
	f.put(f.secret(-1)) // expired: never usable
	s, err := certsync.New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	err = s.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "within") || !errors.Is(err, certsecret.ErrExpired) {
		t.Fatalf("Start = %v, want a timeout naming the expiry", err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("Start took %s, want about the startup timeout", d)
	}
	if f.fake.Calls("GetSecretValue") < 2 {
		t.Errorf("Start did not retry")
	}
}

func TestPollInstallsNewVersion(t *testing.T) {
	f := newFixture(t)
	f.put(f.secret(90))
	s := f.started()
	if r := s.Poll(context.Background()); r != certsync.Unchanged || f.reload.n != 0 {
		t.Fatalf("same version: %v, %d reloads", r, f.reload.n)
	}
	next := f.secret(90)
	f.put(next)
	if r := s.Poll(context.Background()); r != certsync.Updated || f.reload.n != 1 {
		t.Fatalf("new version: %v, %d reloads", r, f.reload.n)
	}
	if c, _ := f.files(); c != next.FullChain {
		t.Fatal("new certificate not written")
	}
	if f.lastFailureMetric() != 0 {
		t.Error("CertSyncFailure should be 0")
	}
	if d := f.cw.Find(certmetrics.DaysToExpiry); len(d) == 0 || d[len(d)-1].Value < 89 {
		t.Errorf("DaysToExpiry metric %+v", d)
	}
}

func TestPollRejectsBadVersions(t *testing.T) {
	ca2 := testpki.New(t)
	cases := map[string]func(f *fixture) *certsecret.Secret{
		"key mismatch": func(f *fixture) *certsecret.Secret {
			s := f.secret(90)
			s.PrivateKey = f.secret(90).PrivateKey
			return s
		},
		"expired": func(f *fixture) *certsecret.Secret { return f.secret(-1) },
		"other domain": func(f *fixture) *certsecret.Secret {
			l := f.ca.IssueDays(t, []string{"other.example.com"}, 90)
			s, _ := certsecret.New(l.CertPEM, f.ca.InterPEM, l.KeyPEM)
			return s
		},
		"chain of another CA": func(f *fixture) *certsecret.Secret {
			l := ca2.IssueDays(t, []string{domain}, 90)
			s, _ := certsecret.New(l.CertPEM, f.ca.InterPEM, l.KeyPEM)
			return s
		},
		"not JSON": func(f *fixture) *certsecret.Secret { return nil },
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			good := f.secret(90)
			f.put(good)
			s := f.started()
			if b := bad(f); b != nil {
				f.put(b)
			} else if _, err := f.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String("cert"), SecretString: aws.String("-----BEGIN CERTIFICATE-----")}); err != nil {
				t.Fatal(err)
			}
			for i := range 2 { // the second poll must not re-test the same version
				if r := s.Poll(context.Background()); r != certsync.Rejected {
					t.Fatalf("poll %d: %v, want rejected", i, r)
				}
			}
			if c, k := f.files(); c != good.FullChain || k != good.PrivateKey || f.reload.n != 0 {
				t.Fatalf("bad version touched the files or reloaded (%d reloads)", f.reload.n)
			}
			if _, serial := s.Installed(); serial != good.Serial {
				t.Fatalf("installed serial %s, want %s", serial, good.Serial)
			}
			if f.lastFailureMetric() != 1 {
				t.Error("CertSyncFailure should be 1")
			}
			// A good version after the bad one is installed.
			next := f.secret(90)
			f.put(next)
			if r := s.Poll(context.Background()); r != certsync.Updated {
				t.Fatalf("good version after a bad one: %v", r)
			}
		})
	}
}

func TestPollRestoresFilesWhenNginxTestFails(t *testing.T) {
	f := newFixture(t)
	good := f.secret(90)
	f.put(good)
	marker := filepath.Join(t.TempDir(), "fail")
	// The test command fails while the marker exists and shows the files it saw.
	f.cfg.TestCommand = []string{"sh", "-c", `test ! -e "$0" || { head -c 40 "$1"; exit 1; }`, marker, filepath.Join(f.dir, "fullchain.pem")}
	s := f.started()
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f.put(f.secret(90))
	if r := s.Poll(context.Background()); r != certsync.Rejected {
		t.Fatalf("poll: %v, want rejected", r)
	}
	if c, k := f.files(); c != good.FullChain || k != good.PrivateKey || f.reload.n != 0 {
		t.Fatal("old files not restored after nginx -t failed, or nginx reloaded")
	}
	if f.lastFailureMetric() != 1 {
		t.Error("CertSyncFailure should be 1")
	}
}

func TestPollRestoresFilesWhenReloadFails(t *testing.T) {
	f := newFixture(t)
	good := f.secret(90)
	f.put(good)
	s := f.started()
	f.reload.err = errors.New("no nginx master")
	f.put(f.secret(90))
	if r := s.Poll(context.Background()); r != certsync.Failed {
		t.Fatalf("poll: %v, want failed", r)
	}
	if c, _ := f.files(); c != good.FullChain {
		t.Fatal("old files not restored after the reload failed")
	}
	// Transient: retried at the next poll and installed once reload works.
	f.reload.err = nil
	if r := s.Poll(context.Background()); r != certsync.Updated {
		t.Fatalf("retry: %v, want updated", r)
	}
}

func TestPollKeepsServingWhenSecretsManagerFails(t *testing.T) {
	f := newFixture(t)
	good := f.secret(90)
	f.put(good)
	s := f.started()
	f.fake.SetFault(func(string, []byte) *fakesm.APIError {
		return &fakesm.APIError{Status: 500, Type: "InternalServiceError", Message: "down"}
	})
	if r := s.Poll(context.Background()); r != certsync.Failed {
		t.Fatalf("poll: %v, want failed", r)
	}
	if c, _ := f.files(); c != good.FullChain {
		t.Fatal("files changed")
	}
	if f.lastFailureMetric() != 1 {
		t.Error("CertSyncFailure should be 1")
	}
}

func TestSignalReloaderErrors(t *testing.T) {
	dir := t.TempDir()
	if err := (certsync.SignalReloader{PIDFile: filepath.Join(dir, "nope.pid")}).Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "PID file") {
		t.Errorf("missing pid file: %v", err)
	}
	p := filepath.Join(dir, "bad.pid")
	_ = os.WriteFile(p, []byte("garbage\n"), 0o600)
	if err := (certsync.SignalReloader{PIDFile: p}).Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "not a process ID") {
		t.Errorf("bad pid file: %v", err)
	}
	if err := (certsync.CommandReloader{Argv: []string{"false"}}).Reload(context.Background()); err == nil {
		t.Error("failing reload command: want an error")
	}
}
