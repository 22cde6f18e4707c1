// Package cdktest synthesizes one construct alone in a small stack, for the
// tests of the constructs: a stack in a fixed account and region, the
// network pieces most constructs need, and the resulting template as JSON.
package cdktest

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"
)

// Account and Region of the test stack.
const (
	Account = "123456789012"
	Region  = "eu-west-1"
)

// PrivateSubnets is the subnet group name of VPC's isolated subnets.
const PrivateSubnets = "Private"

// Stack returns a stack of a new app that writes to a temporary folder.
func Stack(t *testing.T) awscdk.Stack {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	return awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String(Account), Region: jsii.String(Region)},
	})
}

// VPC creates a VPC of two zones with public subnets and isolated subnets
// named PrivateSubnets, no NAT gateway.
func VPC(stack awscdk.Stack) awsec2.Vpc {
	return awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		MaxAzs:      jsii.Number(2),
		NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC},
			{Name: jsii.String(PrivateSubnets), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
		},
	})
}

// Template is a synthesized template, decoded.
type Template struct {
	Resources map[string]Resource `json:"Resources"`
}

// Resource is one resource of a Template.
type Resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
	DependsOn  []string       `json:"DependsOn"`
}

// Synth synthesizes the stack and decodes its template.
func Synth(t *testing.T, stack awscdk.Stack) Template {
	t.Helper()
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatalf("template: %v", err)
	}
	var tpl Template
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatalf("template: %v", err)
	}
	return tpl
}

// OfType returns the resources of a type by logical id.
func (t Template) OfType(typ string) map[string]Resource {
	out := map[string]Resource{}
	for id, r := range t.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// Only returns the single resource of a type, failing the test otherwise.
func (t Template) Only(tb testing.TB, typ string) Resource {
	tb.Helper()
	rs := t.OfType(typ)
	if len(rs) != 1 {
		tb.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	for _, r := range rs {
		return r
	}
	return Resource{}
}
