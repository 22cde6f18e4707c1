// Command deploy-resources is the Lambda function behind the custom resources
// of the Configuration, IdentityServer and Services stacks (package
// deployres). The stacks build it for linux/arm64 at synth and deploy it as a
// provided.al2023 function, one per stack with only that stack's permissions.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("deploy-resources: AWS configuration: %v", err)
	}
	h := &deployres.Handler{S3: s3.NewFromConfig(cfg), Secrets: secretsmanager.NewFromConfig(cfg), ECS: ecs.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg)}
	lambda.Start(cfn.LambdaWrap(h.Handle))
}
