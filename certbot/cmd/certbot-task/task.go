package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/lorawan-stack-aws/tts-ecs/certbot/certmetrics"
	"github.com/lorawan-stack-aws/tts-ecs/certbot/certsecret"
)

type task struct {
	cfg    *config
	log    *slog.Logger
	sm     certsecret.SecretsManagerAPI
	cw     certmetrics.CloudWatchAPI
	now    func() time.Time
	runCmd func(ctx context.Context, timeout time.Duration, name string, args ...string) error
}

// state is what the task found in the secret.
type state struct {
	secret  *certsecret.Secret // nil when missing or unparsable
	version string
	valid   bool
	problem error // why it is not valid (nil when valid)
}

// decision says whether to run certbot and why.
type decision struct {
	renew  bool
	reason string
}

// decide is the renewal policy: renew when forced, when nothing valid is
// stored (missing, malformed, key mismatch, expired, no chain, other
// domains), or when fewer than renewBefore days are left.
func decide(st state, now time.Time, renewBefore float64, force bool) decision {
	switch {
	case force:
		return decision{true, "FORCE_RENEWAL is set"}
	case st.secret == nil:
		return decision{true, fmt.Sprintf("no usable certificate stored: %v", st.problem)}
	case !st.valid:
		return decision{true, fmt.Sprintf("stored certificate %s is not usable: %v", st.secret.Serial, st.problem)}
	}
	days := st.secret.DaysLeft(now)
	if days < renewBefore {
		return decision{true, fmt.Sprintf("certificate %s has %.1f days left, renewing below %g", st.secret.Serial, days, renewBefore)}
	}
	return decision{false, fmt.Sprintf("certificate %s has %.1f days left, renewing below %g: nothing to do", st.secret.Serial, days, renewBefore)}
}

// readState reads the secret. It returns an error only for failures other
// than "missing" or "invalid" (e.g. access denied, network): then the task
// must not issue, to avoid burning the CA's rate limits on a blind retry.
func (t *task) readState(ctx context.Context) (state, error) {
	sec, version, err := certsecret.Store{Client: t.sm, SecretID: t.cfg.SecretID}.Get(ctx)
	switch {
	case errors.Is(err, certsecret.ErrNotFound), errors.Is(err, certsecret.ErrMalformed):
		return state{version: version, problem: err}, nil
	case err != nil:
		return state{}, err
	}
	st := state{secret: sec, version: version}
	if _, err := sec.Validate(certsecret.Checks{Now: t.now(), Domains: t.cfg.Domains}); err != nil {
		st.problem = err
	} else {
		st.valid = true
	}
	return st, nil
}

func (t *task) run(ctx context.Context) int {
	metrics, err := certmetrics.FromEnv(t.cfg.lookup, t.cw, t.cfg.Domain)
	if err != nil {
		t.log.Error("bad metric configuration", "err", err)
		return exitConfig
	}
	putMetric := func(name string, v float64, unit types.StandardUnit) {
		if err := metrics.Put(ctx, name, v, unit); err != nil {
			t.log.Warn("metric not published", "metric", name, "err", err)
		}
	}

	before, err := t.readState(ctx)
	if err != nil {
		t.log.Error("cannot read the certificate secret; not issuing (fix access first, retrying blindly would spend the CA's rate limits)", "err", err)
		putMetric(certmetrics.RenewalFailure, 1, types.StandardUnitCount)
		return exitSecretRead
	}
	if before.valid {
		putMetric(certmetrics.DaysToExpiry, before.secret.DaysLeft(t.now()), types.StandardUnitNone)
	}
	d := decide(before, t.now(), t.cfg.RenewBeforeDays, t.cfg.ForceRenewal)
	if !d.renew {
		t.log.Info(d.reason, "secret", t.cfg.SecretID, "version", before.version,
			"serial", before.secret.Serial, "notAfter", before.secret.NotAfter, "daysLeft", before.secret.DaysLeft(t.now()))
		putMetric(certmetrics.RenewalFailure, 0, types.StandardUnitCount)
		return exitOK
	}
	t.log.Info("requesting a certificate", "reason", d.reason, "server", t.cfg.Server, "domains", t.cfg.Domains)

	acct := accountStore{sm: t.sm, secretID: t.cfg.AccountSecretID, configDir: t.cfg.ConfigDir, log: t.log}
	restored, err := acct.restore(ctx)
	if err != nil {
		t.log.Error("cannot restore the ACME account; fix ACME_ACCOUNT_SECRET_ID or its permissions (not registering a new account silently)", "err", err)
		putMetric(certmetrics.RenewalFailure, 1, types.StandardUnitCount)
		return exitSecretRead
	}

	certbotErr := t.runCmd(ctx, t.cfg.CertbotTimeout, t.cfg.CertbotBin, t.cfg.certbotArgs()...)
	// Save a newly registered account even when issuance failed, so the
	// next run reuses it instead of registering another one.
	if err := acct.save(ctx, restored); err != nil {
		t.log.Error("ACME account not saved; the next run will register a new account", "err", err)
	}
	if certbotErr != nil {
		t.log.Error("certbot failed; the stored certificate is unchanged. See certbot's output above and its log in CERTBOT_LOGS_DIR", "err", certbotErr)
		putMetric(certmetrics.RenewalFailure, 1, types.StandardUnitCount)
		return exitRenewFail
	}

	after, err := t.readState(ctx)
	switch {
	case err != nil:
		t.log.Error("cannot read the certificate secret after certbot", "err", err)
	case !after.valid:
		t.log.Error("after certbot the secret holds no valid certificate: the deploy hook failed (see its log above)", "problem", after.problem)
	case before.secret != nil && after.secret.Serial == before.secret.Serial:
		t.log.Error("certbot succeeded but the secret still holds the old certificate: the deploy hook did not run or failed (see its log above)",
			"serial", after.secret.Serial, "deployHook", t.cfg.DeployHook)
	default:
		t.log.Info("certificate renewed and stored", "secret", t.cfg.SecretID, "version", after.version,
			"serial", after.secret.Serial, "notAfter", after.secret.NotAfter, "daysLeft", after.secret.DaysLeft(t.now()))
		putMetric(certmetrics.DaysToExpiry, after.secret.DaysLeft(t.now()), types.StandardUnitNone)
		putMetric(certmetrics.RenewalFailure, 0, types.StandardUnitCount)
		return exitOK
	}
	putMetric(certmetrics.RenewalFailure, 1, types.StandardUnitCount)
	return exitRenewFail
}

// runCommand runs a command with the task's stdout/stderr, stopping it with
// SIGTERM (then SIGKILL after 30 s) when the timeout or ctx ends.
func runCommand(ctx context.Context, timeout time.Duration, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s did not finish within %s (CERTBOT_TIMEOUT): %w", name, timeout, err)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
