// Command certsync is the proxy's certificate sidecar (see package
// internal/run/certsync and certbot/README.md).
//
// Usage:
//
//	certsync [-once] [-- nginx -g "daemon off;"]
//
// With a command after "--" certsync supervises it (recommended: nginx in the
// same container): it installs the certificate, starts nginx, reloads it with
// SIGHUP on a new certificate, turns SIGTERM into nginx's graceful SIGQUIT and
// exits with nginx's exit status. Without a command it only keeps the files
// up to date and reloads through NGINX_PID_FILE or NGINX_RELOAD_CMD. With
// -once it installs the certificate and exits (init container).
//
// Environment:
//
//	CERT_SECRET_ID            required, name or ARN of the certificate secret
//	CERT_DOMAIN               the certificate must cover it (recommended)
//	CERTSYNC_DIR              default /etc/nginx/tls
//	CERTSYNC_CERT_FILE        default fullchain.pem
//	CERTSYNC_KEY_FILE         default privkey.pem
//	CERTSYNC_POLL_INTERVAL    default 5m
//	CERTSYNC_STARTUP_TIMEOUT  default 10m
//	CERTSYNC_VERIFY_ADDR      optional host:port to check the served serial after a reload
//	NGINX_TEST_CMD            default "nginx -t -q"; "" disables the test
//	NGINX_PID_FILE            reload by SIGHUP to this PID (when not supervising)
//	NGINX_RELOAD_CMD          default "nginx -s reload" (when not supervising and no PID file)
//	CERT_METRIC_NAMESPACE, CERT_METRIC_DIMENSIONS, AWS_REGION, AWS_ENDPOINT_URL_*
//
// Exit codes: 0 stopped by SIGTERM (or -once done), 1 no usable certificate
// within the startup timeout, 2 configuration error, otherwise nginx's status.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lorawan-stack-aws/tts-ecs/certbot/awsenv"
	"github.com/lorawan-stack-aws/tts-ecs/certbot/certmetrics"
	"github.com/lorawan-stack-aws/tts-ecs/certbot/certsecret"
	"github.com/lorawan-stack-aws/tts-ecs/internal/run/certsync"
)

const (
	exitOK      = 0
	exitNoCert  = 1
	exitConfig  = 2
	stopTimeout = 25 * time.Second // below ECS's default stopTimeout of 30 s
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("program", "certsync")
	once := flag.Bool("once", false, "install the certificate and exit")
	flag.Parse()
	os.Exit(run(log, *once, flag.Args()))
}

func run(log *slog.Logger, once bool, child []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	getenv := func(k, def string) string {
		if v, ok := os.LookupEnv(k); ok {
			return strings.TrimSpace(v)
		}
		return def
	}
	dur := func(k, def string) (time.Duration, error) {
		d, err := time.ParseDuration(getenv(k, def))
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("%s must be a positive duration such as %s", k, def)
		}
		return d, nil
	}
	poll, err1 := dur("CERTSYNC_POLL_INTERVAL", "5m")
	startup, err2 := dur("CERTSYNC_STARTUP_TIMEOUT", "10m")
	secretID := getenv("CERT_SECRET_ID", "")
	var err3 error
	if secretID == "" {
		err3 = errors.New("CERT_SECRET_ID is required: the name or ARN of the certificate secret")
	}
	if err := errors.Join(err1, err2, err3); err != nil {
		log.Error("invalid configuration", "err", err)
		return exitConfig
	}
	domain := getenv("CERT_DOMAIN", "")
	if domain == "" {
		log.Warn("CERT_DOMAIN is not set: certificates are not checked against the served domain")
	}

	awsCfg, err := awsenv.Load(ctx)
	if err != nil {
		log.Error("cannot load AWS configuration", "err", err)
		return exitConfig
	}
	metrics, err := certmetrics.FromEnv(os.LookupEnv, cloudwatch.NewFromConfig(awsCfg), domain)
	if err != nil {
		log.Error("invalid configuration", "err", err)
		return exitConfig
	}

	var proc *os.Process
	var reloader certsync.Reloader
	switch {
	case len(child) > 0:
		reloader = certsync.SignalReloader{PID: func() int {
			if proc == nil {
				return 0
			}
			return proc.Pid
		}}
	case getenv("NGINX_PID_FILE", "") != "":
		reloader = certsync.SignalReloader{PIDFile: getenv("NGINX_PID_FILE", "")}
	default:
		reloader = certsync.CommandReloader{Argv: strings.Fields(getenv("NGINX_RELOAD_CMD", "nginx -s reload"))}
	}

	s, err := certsync.New(certsync.Config{
		Store:          certsecret.Store{Client: secretsmanager.NewFromConfig(awsCfg), SecretID: secretID},
		Domain:         domain,
		Dir:            getenv("CERTSYNC_DIR", "/etc/nginx/tls"),
		CertFile:       getenv("CERTSYNC_CERT_FILE", "fullchain.pem"),
		KeyFile:        getenv("CERTSYNC_KEY_FILE", "privkey.pem"),
		PollInterval:   poll,
		StartupTimeout: startup,
		TestCommand:    strings.Fields(getenv("NGINX_TEST_CMD", "nginx -t -q")),
		Reloader:       reloader,
		VerifyAddr:     getenv("CERTSYNC_VERIFY_ADDR", ""),
		Metrics:        metrics,
		Log:            log,
	})
	if err != nil {
		log.Error("invalid configuration", "err", err)
		return exitConfig
	}
	if err := s.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return exitOK
		}
		log.Error("giving up", "err", err)
		return exitNoCert
	}
	if once {
		return exitOK
	}
	if len(child) == 0 {
		_ = s.Run(ctx)
		log.Info("stopping")
		return exitOK
	}
	return supervise(ctx, log, s, child, &proc)
}

// supervise starts the server process and polls until it exits or ctx ends.
func supervise(ctx context.Context, log *slog.Logger, s *certsync.Syncer, argv []string, proc **os.Process) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		log.Error("cannot start the server", "cmd", argv, "err", err)
		return exitConfig
	}
	*proc = cmd.Process
	log.Info("server started", "cmd", argv, "pid", cmd.Process.Pid)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	pollCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = s.Run(pollCtx) }()

	select {
	case err := <-done:
		log.Error("server exited", "err", err)
		return exitCode(err)
	case <-ctx.Done():
	}
	cancel()
	// Graceful stop: nginx finishes in-flight requests on SIGQUIT.
	log.Info("stopping the server gracefully", "pid", cmd.Process.Pid)
	_ = cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case err := <-done:
		return exitCode(err)
	case <-time.After(stopTimeout):
		log.Warn("server did not stop in time, killing it")
		_ = cmd.Process.Kill()
		return exitCode(<-done)
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode()
	default:
		return 1
	}
}
