// Package awsenv loads the AWS SDK configuration for the certificate
// programs with bounded retries and timeouts.
//
// Endpoints can be overridden with the SDK's own environment variables, which
// aws-sdk-go-v2/config honours (config.EnvConfig.GetServiceBaseEndpoint):
// AWS_ENDPOINT_URL (all services), AWS_ENDPOINT_URL_SECRETS_MANAGER,
// AWS_ENDPOINT_URL_CLOUDWATCH. Tests use them to reach local fakes.
package awsenv

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Load returns the SDK configuration from the environment (ECS task role,
// region from AWS_REGION). Each HTTP request times out after 30 s and each
// call is tried at most 5 times.
func Load(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 5
				o.MaxBackoff = 10 * time.Second
			})
		}),
	)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration (set AWS_REGION; in ECS the task role provides credentials): %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region: set AWS_REGION")
	}
	return cfg, nil
}
