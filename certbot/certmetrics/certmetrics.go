// Package certmetrics publishes the certificate metrics to CloudWatch.
//
// Metric names (all in one namespace, with the same dimensions):
//   - DaysToExpiry (Unit None): days until the certificate's notAfter, from
//     the deploy hook, the Certbot task and the proxy sidecar. Alarm when the
//     minimum is below 14 (and treat missing data as breaching).
//   - RenewalFailure (Count): 1 when the Certbot task failed to renew, 0 when it succeeded
//     or had nothing to do.
//   - CertSyncFailure (Count): 1 when the sidecar rejected a new secret version or
//     nginx refused it, 0 on every healthy poll.
package certmetrics

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// Metric names.
const (
	DaysToExpiry    = "DaysToExpiry"
	RenewalFailure  = "RenewalFailure"
	CertSyncFailure = "CertSyncFailure"
)

// Environment variables read by FromEnv, and the default namespace.
const (
	EnvNamespace     = "CERT_METRIC_NAMESPACE"
	EnvDimensions    = "CERT_METRIC_DIMENSIONS"
	DefaultNamespace = "TTS/Certificates"
)

// CloudWatchAPI is the part of the CloudWatch client used here.
type CloudWatchAPI interface {
	PutMetricData(context.Context, *cloudwatch.PutMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

// Publisher sends metrics. A nil *Publisher publishes nothing.
type Publisher struct {
	Client     CloudWatchAPI
	Namespace  string
	Dimensions []types.Dimension
	Now        func() time.Time
}

// FromEnv builds a Publisher from CERT_METRIC_NAMESPACE (default
// TTS/Certificates; set it to the empty string to disable metrics) and
// CERT_METRIC_DIMENSIONS ("Name=Value,Name=Value"; default
// "Domain=<defaultDomain>"). It returns nil, nil when metrics are disabled.
func FromEnv(lookup func(string) (string, bool), client CloudWatchAPI, defaultDomain string) (*Publisher, error) {
	ns, ok := lookup(EnvNamespace)
	if !ok {
		ns = DefaultNamespace
	}
	if ns == "" {
		return nil, nil
	}
	dimSpec, ok := lookup(EnvDimensions)
	if !ok && defaultDomain != "" {
		dimSpec = "Domain=" + defaultDomain
	}
	dims, err := ParseDimensions(dimSpec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvDimensions, err)
	}
	return &Publisher{Client: client, Namespace: ns, Dimensions: dims}, nil
}

// ParseDimensions parses "Name=Value,Name=Value" (at most 30 dimensions).
func ParseDimensions(spec string) ([]types.Dimension, error) {
	var dims []types.Dimension
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("dimension %q is not Name=Value (example: Stack=tts-prod,Domain=tts.example.com)", part)
		}
		dims = append(dims, types.Dimension{Name: aws.String(k), Value: aws.String(v)})
	}
	if len(dims) > 30 {
		return nil, fmt.Errorf("%d dimensions, CloudWatch allows 30", len(dims))
	}
	return dims, nil
}

// Put publishes one value. It is a no-op on a nil Publisher.
func (p *Publisher) Put(ctx context.Context, name string, value float64, unit types.StandardUnit) error {
	if p == nil {
		return nil
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := p.Client.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String(p.Namespace),
		MetricData: []types.MetricDatum{{
			MetricName: aws.String(name),
			Dimensions: p.Dimensions,
			Value:      aws.Float64(value),
			Unit:       unit,
			Timestamp:  aws.Time(now()),
		}},
	})
	if err != nil {
		return fmt.Errorf("publish metric %s/%s (check cloudwatch:PutMetricData permission): %w", p.Namespace, name, err)
	}
	return nil
}

// PutDaysToExpiry publishes DaysToExpiry for notAfter.
func (p *Publisher) PutDaysToExpiry(ctx context.Context, notAfter time.Time) error {
	if p == nil {
		return nil
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	return p.Put(ctx, DaysToExpiry, notAfter.Sub(now()).Hours()/24, types.StandardUnitNone)
}
