// Command certbot-task is the entrypoint of the Certbot ECS task. It reads the
// certificate secret and runs certbot only when the stored certificate is
// missing, invalid, for other domains, or due for renewal; certbot's deploy
// hook (cmd/deploy-hook) stores the new certificate. The task then re-reads
// the secret to confirm that a new, valid certificate is stored.
//
// See certbot/README.md for the environment variables and exit codes.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lorawan-stack-aws/tts-ecs/certbot/awsenv"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("program", "certbot-task")
	cfg, err := parseConfig(os.LookupEnv)
	if err != nil {
		log.Error("invalid configuration", "err", err)
		os.Exit(exitConfig)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.CertbotTimeout+5*time.Minute)
	defer cancel()

	awsCfg, err := awsenv.Load(ctx)
	if err != nil {
		log.Error("cannot load AWS configuration", "err", err)
		os.Exit(exitConfig)
	}
	t := &task{
		cfg:    cfg,
		log:    log,
		sm:     secretsmanager.NewFromConfig(awsCfg),
		cw:     cloudwatch.NewFromConfig(awsCfg),
		now:    time.Now,
		runCmd: runCommand,
	}
	os.Exit(t.run(ctx))
}
