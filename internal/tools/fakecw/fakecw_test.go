package fakecw_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakecw"
)

func TestPutMetricDataWithSDK(t *testing.T) {
	fake := fakecw.New()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := cloudwatch.New(cloudwatch.Options{
		Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1,
	})
	ts := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	_, err := c.PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("TTS/Certificates"),
		MetricData: []types.MetricDatum{{
			MetricName: aws.String("DaysToExpiry"),
			Dimensions: []types.Dimension{{Name: aws.String("Domain"), Value: aws.String("tts.example.com")}},
			Value:      aws.Float64(42.5),
			Unit:       types.StandardUnitNone,
			Timestamp:  aws.Time(ts),
		}},
	})
	if err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
	got := fake.Find("DaysToExpiry")
	if len(got) != 1 {
		t.Fatalf("received %d data points, want 1", len(got))
	}
	d := got[0]
	if d.Namespace != "TTS/Certificates" || d.Value != 42.5 || d.Unit != "None" || d.Dimensions["Domain"] != "tts.example.com" || !d.Timestamp.Equal(ts) {
		t.Errorf("received %+v", d)
	}

	fake.SetFault(500)
	if _, err := c.PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{
		Namespace:  aws.String("x"),
		MetricData: []types.MetricDatum{{MetricName: aws.String("m"), Value: aws.Float64(1)}},
	}); err == nil {
		t.Error("injected fault: want an error")
	}
}
