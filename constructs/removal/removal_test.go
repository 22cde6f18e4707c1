package removal

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

func TestKeepRetainsOnDeleteAndReplace(t *testing.T) {
	stack := cdktest.Stack(t)
	awslogs.NewLogGroup(stack, jsii.String("Logs"), &awslogs.LogGroupProps{RemovalPolicy: Keep()})
	r := cdktest.Synth(t, stack).Only(t, "AWS::Logs::LogGroup")
	if r.DeletionPolicy != "RetainExceptOnCreate" || r.UpdateReplacePolicy != "Retain" {
		t.Errorf("DeletionPolicy %q, UpdateReplacePolicy %q; want RetainExceptOnCreate and Retain", r.DeletionPolicy, r.UpdateReplacePolicy)
	}
}

func TestDeleteEverythingDeletesWhatWouldBeKept(t *testing.T) {
	stack := cdktest.Stack(t)
	awslogs.NewLogGroup(stack, jsii.String("Logs"), &awslogs.LogGroupProps{RemovalPolicy: Keep()})
	awssqs.NewQueue(stack, jsii.String("Queue"), nil) // deleted by default: untouched
	DeleteEverything(stack)
	tpl := cdktest.Synth(t, stack)
	for _, typ := range []string{"AWS::Logs::LogGroup", "AWS::SQS::Queue"} {
		r := tpl.Only(t, typ)
		if r.DeletionPolicy != "Delete" || r.UpdateReplacePolicy != "Delete" {
			t.Errorf("%s: DeletionPolicy %q, UpdateReplacePolicy %q; want Delete", typ, r.DeletionPolicy, r.UpdateReplacePolicy)
		}
	}
}
