// Package certsync keeps the proxy's TLS certificate files in step with the
// certificate secret in AWS Secrets Manager (format: certbot/certsecret).
//
// At start it fetches the secret (retrying with backoff, bounded), validates
// it and writes fullchain.pem and privkey.pem atomically. Then it polls the
// secret; on a new version it validates it (key matches, not expired, chain
// present, covers the domain), installs the files, runs the configuration
// test ("nginx -t") and reloads nginx gracefully. When validation or the test
// fails, the previous files are restored, nginx keeps serving the old
// certificate, and the failure is logged at ERROR and published as the
// CertSyncFailure metric.
package certsync

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/lorawan-stack-aws/tts-ecs/certbot/certmetrics"
	"github.com/lorawan-stack-aws/tts-ecs/certbot/certsecret"
)

// Config configures a Syncer.
type Config struct {
	Store  certsecret.Store
	Domain string // the certificate must cover it; empty skips the check
	Dir    string // directory shared with nginx, e.g. /etc/nginx/tls

	CertFile string // default fullchain.pem (mode 0644)
	KeyFile  string // default privkey.pem (mode 0600)

	PollInterval   time.Duration // default 5 min
	StartupTimeout time.Duration // default 10 min; how long Start retries
	MaxBackoff     time.Duration // default 30 s; cap of Start's retry delay

	// TestCommand checks the configuration with the new files, e.g.
	// ["nginx", "-t"]. Empty skips the test.
	TestCommand    []string
	CommandTimeout time.Duration // default 30 s
	Reloader       Reloader      // nil: files are written but nobody is told

	// VerifyAddr, when set (e.g. 127.0.0.1:443), is dialled after a reload
	// until it serves the new serial (up to VerifyTimeout, default 15 s).
	VerifyAddr    string
	VerifyTimeout time.Duration

	Metrics *certmetrics.Publisher // nil: no metrics
	Log     *slog.Logger
	Now     func() time.Time
}

// Result of one poll.
type Result int

// Poll results.
const (
	Unchanged Result = iota // same version as installed
	Updated                 // new version installed and nginx reloaded
	Rejected                // new version refused; old files kept
	Failed                  // could not read the secret or reload; retried next poll
)

func (r Result) String() string {
	return [...]string{"unchanged", "updated", "rejected", "failed"}[r]
}

// Syncer installs certificate versions. Use one Syncer from one goroutine.
type Syncer struct {
	cfg       Config
	version   string // installed secret version
	installed *certsecret.Secret
	rejected  string // last rejected version, to avoid re-testing it
}

// New checks the configuration and returns a Syncer.
func New(cfg Config) (*Syncer, error) {
	if cfg.Store.Client == nil || cfg.Store.SecretID == "" {
		return nil, errors.New("certsync: a Secrets Manager client and CERT_SECRET_ID are required")
	}
	if cfg.Dir == "" {
		return nil, errors.New("certsync: the output directory is required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.PollInterval, 5*time.Minute)
	def(&cfg.StartupTimeout, 10*time.Minute)
	def(&cfg.MaxBackoff, 30*time.Second)
	def(&cfg.CommandTimeout, 30*time.Second)
	def(&cfg.VerifyTimeout, 15*time.Second)
	if cfg.CertFile == "" {
		cfg.CertFile = "fullchain.pem"
	}
	if cfg.KeyFile == "" {
		cfg.KeyFile = "privkey.pem"
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Syncer{cfg: cfg}, nil
}

// Installed returns the installed secret version and certificate serial.
func (s *Syncer) Installed() (version, serial string) {
	if s.installed == nil {
		return s.version, ""
	}
	return s.version, s.installed.Serial
}

// Start fetches and installs the first valid certificate, retrying with
// exponential backoff (with jitter) until StartupTimeout. It does not reload
// (nginx is expected to start after it), but it runs the test command.
func (s *Syncer) Start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StartupTimeout)
	defer cancel()
	delay := min(time.Second, s.cfg.MaxBackoff)
	// lastErr is the last reason no certificate was usable. An error caused
	// by the startup deadline itself (a request cut short) does not replace
	// it: the operator needs the reason, not "context deadline exceeded".
	var lastErr error
	for attempt := 1; ; attempt++ {
		sec, version, err := s.fetchValid(ctx)
		if err == nil {
			if err = s.install(ctx, sec, nil); err == nil {
				s.version, s.installed = version, sec
				s.cfg.Log.Info("certificate installed at start", "version", version, "serial", sec.Serial,
					"notAfter", sec.NotAfter, "daysLeft", sec.DaysLeft(s.cfg.Now()), "dir", s.cfg.Dir)
				s.putMetric(ctx, certmetrics.CertSyncFailure, 0, types.StandardUnitCount)
				s.putDays(ctx)
				return nil
			}
		}
		if lastErr == nil || ctx.Err() == nil {
			lastErr = err
		}
		s.cfg.Log.Warn("no usable certificate yet, retrying", "attempt", attempt, "retryIn", delay.String(), "err", err)
		t := time.NewTimer(delay + rand.N(delay/4+1))
		select {
		case <-ctx.Done():
			t.Stop()
			s.putMetric(context.WithoutCancel(ctx), certmetrics.CertSyncFailure, 1, types.StandardUnitCount)
			return fmt.Errorf("no usable certificate in secret %s within %s (has the Certbot task stored one? last error: %w)",
				s.cfg.Store.SecretID, s.cfg.StartupTimeout, lastErr)
		case <-t.C:
		}
		delay = min(delay*2, s.cfg.MaxBackoff)
	}
}

// Run polls every PollInterval until ctx ends. Start must have succeeded.
func (s *Syncer) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.Poll(ctx)
		}
	}
}

// Poll checks the secret once and installs a new valid version.
func (s *Syncer) Poll(ctx context.Context) Result {
	r := s.poll(ctx)
	fail := 0.0
	if r == Rejected || r == Failed {
		fail = 1
	}
	s.putMetric(ctx, certmetrics.CertSyncFailure, fail, types.StandardUnitCount)
	s.putDays(ctx)
	return r
}

func (s *Syncer) poll(ctx context.Context) Result {
	log := s.cfg.Log
	raw, err := s.cfg.Store.GetRaw(ctx)
	if err != nil {
		log.Error("cannot read the certificate secret; still serving the installed certificate", "err", err,
			"installedSerial", s.serial())
		return Failed
	}
	if raw.VersionID == s.version {
		return Unchanged
	}
	if raw.VersionID == s.rejected {
		log.Error("CERTIFICATE REJECTED: the current secret version is still invalid; still serving the old certificate",
			"version", raw.VersionID, "installedSerial", s.serial())
		return Rejected
	}
	log = log.With("version", raw.VersionID)
	sec, err := certsecret.Parse(raw.Data)
	if err == nil {
		_, err = sec.Validate(certsecret.Checks{Now: s.cfg.Now(), Domains: s.domains()})
	}
	if err != nil {
		s.rejected = raw.VersionID
		log.Error("CERTIFICATE REJECTED: new secret version is invalid; keeping the old certificate. Store a valid certificate (run the Certbot task) or move AWSCURRENT back",
			"err", err, "installedSerial", s.serial())
		return Rejected
	}
	log = log.With("serial", sec.Serial)
	if err := s.install(ctx, sec, s.cfg.Reloader); err != nil {
		var tf *testFailure
		if errors.As(err, &tf) {
			s.rejected = raw.VersionID
			log.Error("CERTIFICATE REJECTED: nginx refused the new certificate; old files restored, nginx keeps serving the old certificate",
				"err", err, "installedSerial", s.serial())
			return Rejected
		}
		log.Error("could not install the new certificate; old files restored, retrying at the next poll", "err", err,
			"installedSerial", s.serial())
		return Failed
	}
	s.version, s.installed = raw.VersionID, sec
	log.Info("new certificate installed and nginx reloaded", "notAfter", sec.NotAfter, "daysLeft", sec.DaysLeft(s.cfg.Now()))
	if s.cfg.VerifyAddr != "" {
		if err := s.verify(ctx, sec.Serial); err != nil {
			log.Error("nginx does not serve the new certificate after the reload", "err", err)
			return Failed
		}
		log.Info("nginx serves the new certificate", "addr", s.cfg.VerifyAddr)
	}
	return Updated
}

type testFailure struct{ err error }

func (t *testFailure) Error() string { return t.err.Error() }
func (t *testFailure) Unwrap() error { return t.err }

// install writes the files, tests them and reloads. On any failure the old
// files are put back (when there were any).
func (s *Syncer) install(ctx context.Context, sec *certsecret.Secret, reload Reloader) error {
	old, err := readFiles(s.cfg.Dir, s.cfg.CertFile, s.cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("read current certificate files: %w", err)
	}
	files := []file{
		{name: s.cfg.CertFile, data: []byte(sec.FullChain), mode: 0o644},
		{name: s.cfg.KeyFile, data: []byte(sec.PrivateKey), mode: 0o600},
	}
	if err := installFiles(s.cfg.Dir, files); err != nil {
		return errors.Join(err, s.restore(old))
	}
	if len(s.cfg.TestCommand) > 0 {
		out, err := RunCommand(ctx, s.cfg.CommandTimeout, s.cfg.TestCommand)
		if err != nil {
			return &testFailure{errors.Join(fmt.Errorf("%q failed: %w; output: %s", strings.Join(s.cfg.TestCommand, " "), err, out), s.restore(old))}
		}
	}
	if reload != nil {
		if err := reload.Reload(ctx); err != nil {
			return errors.Join(err, s.restore(old))
		}
	}
	return nil
}

func (s *Syncer) restore(old []file) error {
	if old[0].data == nil && old[1].data == nil {
		return nil // nothing was there before: keep the new files for inspection
	}
	if err := installFiles(s.cfg.Dir, old); err != nil {
		return fmt.Errorf("RESTORE FAILED, nginx may load the wrong files at its next reload: %w", err)
	}
	return nil
}

func (s *Syncer) fetchValid(ctx context.Context) (*certsecret.Secret, string, error) {
	sec, version, err := s.cfg.Store.Get(ctx)
	if err != nil {
		return nil, "", err
	}
	if _, err := sec.Validate(certsecret.Checks{Now: s.cfg.Now(), Domains: s.domains()}); err != nil {
		return nil, "", fmt.Errorf("secret version %s: %w", version, err)
	}
	return sec, version, nil
}

// verify dials VerifyAddr until it serves serial.
func (s *Syncer) verify(ctx context.Context, serial string) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.VerifyTimeout)
	defer cancel()
	var last string
	var lastErr error
	for {
		last, lastErr = ServedSerial(ctx, s.cfg.VerifyAddr, s.cfg.Domain)
		if lastErr == nil && last == serial {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s serves serial %q, want %q (last error: %v)", s.cfg.VerifyAddr, last, serial, lastErr)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ServedSerial opens a TLS connection to addr with SNI serverName and returns
// the serial of the leaf certificate it presents. It does not verify the
// chain: it only identifies the certificate.
func ServedSerial(ctx context.Context, addr, serverName string) (string, error) {
	d := tls.Dialer{
		NetDialer: &net.Dialer{Timeout: 5 * time.Second},
		Config:    &tls.Config{ServerName: serverName, InsecureSkipVerify: true}, //nolint:gosec // identification only
	}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	certs := c.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "", errors.New("no certificate presented")
	}
	return certsecret.SerialHex(certs[0]), nil
}

func (s *Syncer) domains() []string {
	if s.cfg.Domain == "" {
		return nil
	}
	return []string{s.cfg.Domain}
}

func (s *Syncer) serial() string {
	if s.installed == nil {
		return ""
	}
	return s.installed.Serial
}

func (s *Syncer) putDays(ctx context.Context) {
	if s.installed != nil {
		if err := s.cfg.Metrics.PutDaysToExpiry(ctx, s.installed.NotAfter); err != nil {
			s.cfg.Log.Warn("metric not published", "err", err)
		}
	}
}

func (s *Syncer) putMetric(ctx context.Context, name string, v float64, unit types.StandardUnit) {
	if err := s.cfg.Metrics.Put(ctx, name, v, unit); err != nil {
		s.cfg.Log.Warn("metric not published", "metric", name, "err", err)
	}
}
