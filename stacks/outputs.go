package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// LoadBalancerFullNameOutput is the Network stack's output of the load
// balancer's LoadBalancerFullName (the LoadBalancer dimension of its
// CloudWatch metrics).
const LoadBalancerFullNameOutput = "LoadBalancerFullName"

// PbaTokenKeyOutput is the Data stack's output of the ARN of the Packet
// Broker Agent's forwarder token key secret.
const PbaTokenKeyOutput = "PbaForwarderTokenKeyArn"

// TargetGroupArnOutput and TargetGroupFullNameOutput name the outputs of a
// target group that the stack creating it publishes for another stack.
func TargetGroupArnOutput(key string) string { return "TargetGroupArn" + outputSuffix(key) }

// TargetGroupFullNameOutput: see TargetGroupArnOutput.
func TargetGroupFullNameOutput(key string) string { return "TargetGroupFullName" + outputSuffix(key) }

// FunctionNameOutput names the output of the name of a Lambda function
// (construct id) that exists with some parameters only: its stack publishes
// it in every mode (a placeholder without the function), and the alarm of
// the Services stack reads it.
func FunctionNameOutput(id string) string { return "FunctionName" + outputSuffix(id) }

// DatabaseInstanceOutput names the Data stack's output of the identifier of
// the database's writer (0) or reader i: published for every possible
// reader (a placeholder for those DatabaseReaders does not create), so that
// changing DatabaseReaders removes no output that the Services stack's
// alarms read.
func DatabaseInstanceOutput(i int) string {
	if i == 0 {
		return "DatabaseWriterIdentifier"
	}
	return fmt.Sprintf("DatabaseReader%dIdentifier", i)
}

// outputSuffix makes a target group key (is-TCP1886) a part of a logical id.
func outputSuffix(key string) string {
	out := make([]rune, 0, len(key))
	for _, r := range key {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			out = append(out, r)
		}
	}
	return string(out)
}

// publish adds the output id (also its logical id) with value to the stack of
// producer. A stack publishes what others read whatever the parameters say,
// so that no parameter adds or removes an output that another stack's
// deployed template may still read.
func publish(producer constructs.IConstruct, id, description string, value *string) {
	out := awscdk.NewCfnOutput(awscdk.Stack_Of(producer), jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(description)})
	out.OverrideLogicalId(jsii.String(id))
}

// readPublished returns what consumer reads of the output id that the stack
// of producer publishes: Fn::GetStackOutput from another stack, the output's
// value in the same stack.
func readPublished(consumer awscdk.Stack, producer constructs.IConstruct, id string) (*string, error) {
	stack := awscdk.Stack_Of(producer)
	out, ok := stack.Node().TryFindChild(jsii.String(id)).(awscdk.CfnOutput)
	if !ok {
		return nil, fmt.Errorf("stack %s does not publish the output %s; publish it where the value is created", *stack.StackName(), id)
	}
	if *consumer.StackName() == *stack.StackName() {
		return awscdk.Token_AsString(out.Value(), nil), nil
	}
	return awscdk.Fn_GetStackOutput(stack.StackName(), jsii.String(id), nil, nil), nil
}
