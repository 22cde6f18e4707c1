// Command deploy-hook is Certbot's --deploy-hook. Certbot runs it after each
// successful issuance or renewal with RENEWED_LINEAGE (the live directory of
// the certificate) and RENEWED_DOMAINS (space-separated names). It validates
// the files, stores them as a new version of the certificate secret and
// publishes the DaysToExpiry metric.
//
// Environment:
//
//	RENEWED_LINEAGE         required, set by Certbot
//	RENEWED_DOMAINS         optional, set by Certbot; each name must be covered
//	CERT_SECRET_ID          required, name or ARN of the certificate secret
//	CERT_METRIC_NAMESPACE   optional, default TTS/Certificates, "" disables metrics
//	CERT_METRIC_DIMENSIONS  optional, "Name=Value,...", default Domain=<first domain>
//	AWS_REGION, AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_CLOUDWATCH: AWS SDK
//
// Exit codes: 0 stored, 1 the certificate files are invalid (nothing stored),
// 2 configuration error, 3 storing in Secrets Manager failed.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lorawan-stack-aws/tts-ecs/certbot/awsenv"
	"github.com/lorawan-stack-aws/tts-ecs/certbot/certmetrics"
	"github.com/lorawan-stack-aws/tts-ecs/certbot/certsecret"
)

// Exit codes.
const (
	exitOK      = 0
	exitInvalid = 1
	exitConfig  = 2
	exitAWS     = 3
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("program", "deploy-hook")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	cfg, err := awsenv.Load(ctx)
	if err != nil {
		log.Error("cannot load AWS configuration", "err", err)
		os.Exit(exitConfig)
	}
	os.Exit(run(ctx, log, os.LookupEnv, secretsmanager.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg), time.Now))
}

func run(ctx context.Context, log *slog.Logger, lookup func(string) (string, bool),
	sm certsecret.SecretsManagerAPI, cw certmetrics.CloudWatchAPI, now func() time.Time) int {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	lineage := get("RENEWED_LINEAGE")
	secretID := get("CERT_SECRET_ID")
	domains := strings.Fields(get("RENEWED_DOMAINS"))
	if lineage == "" || secretID == "" {
		log.Error("RENEWED_LINEAGE (set by certbot) and CERT_SECRET_ID (the certificate secret's name or ARN) are required; run this program as certbot --deploy-hook",
			"RENEWED_LINEAGE", lineage, "CERT_SECRET_ID", secretID)
		return exitConfig
	}
	first := ""
	if len(domains) > 0 {
		first = strings.TrimPrefix(domains[0], "*.")
	}
	metrics, err := certmetrics.FromEnv(lookup, cw, first)
	if err != nil {
		log.Error("bad metric configuration", "err", err)
		return exitConfig
	}

	sec, err := certsecret.FromLineage(lineage)
	if err != nil {
		log.Error("cannot read the certificate files; nothing stored", "lineage", lineage, "err", err)
		return exitInvalid
	}
	if _, err := sec.Validate(certsecret.Checks{Now: now(), Domains: domains}); err != nil {
		log.Error("certificate files are invalid; nothing stored, the secret keeps its current version", "lineage", lineage, "serial", sec.Serial, "err", err)
		return exitInvalid
	}
	version, err := certsecret.Store{Client: sm, SecretID: secretID}.Put(ctx, sec)
	if err != nil {
		log.Error("cannot store the certificate", "err", err)
		return exitAWS
	}
	days := sec.DaysLeft(now())
	log.Info("certificate stored", "secret", secretID, "version", version, "serial", sec.Serial,
		"domains", sec.Domains, "notAfter", sec.NotAfter, "daysLeft", days)
	if err := metrics.PutDaysToExpiry(ctx, sec.NotAfter); err != nil {
		// The certificate is stored; a missing data point is caught by the
		// alarm treating missing data as breaching.
		log.Warn("metric not published", "err", err)
	}
	return exitOK
}
