// Package cdktest synthesizes one construct alone in a small stack, for the
// tests of the constructs: a stack in a fixed account and region, the
// network pieces most constructs need, and the resulting template as JSON.
package cdktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// Stack returns a stack of a new app that writes to a temporary folder, with
// the context of the module's cdk.json (its feature flags), so that a
// construct behaves as it does in the app.
func Stack(t *testing.T) awscdk.Stack {
	t.Helper()
	ctx, err := appContext()
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &ctx})
	return awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String(Account), Region: jsii.String(Region)},
	})
}

// appContext reads the context of cdk.json in the module root, the first
// folder above the working directory that holds go.mod.
func appContext() (map[string]any, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, errors.New("cdktest: no go.mod above the working directory; run the tests inside the module")
		}
		dir = parent
	}
	raw, err := os.ReadFile(filepath.Join(dir, "cdk.json"))
	if err != nil {
		return nil, fmt.Errorf("cdktest: %w; the module root must hold the app's cdk.json", err)
	}
	var cdk struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &cdk); err != nil {
		return nil, fmt.Errorf("cdktest: cdk.json: %w", err)
	}
	return cdk.Context, nil
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
	Type                string         `json:"Type"`
	Properties          map[string]any `json:"Properties"`
	DependsOn           []string       `json:"DependsOn"`
	DeletionPolicy      string         `json:"DeletionPolicy"`
	UpdateReplacePolicy string         `json:"UpdateReplacePolicy"`
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

// JSON renders a decoded value compactly, for substring checks and messages.
func JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// Deployed stands in for what CloudFormation sends a custom resource's
// function: every intrinsic function (Ref, Fn::...) in v becomes the string
// it resolves to at deploy time, here a placeholder naming the function.
func Deployed(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return "resolved " + JSON(x)
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = Deployed(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Deployed(e)
		}
		return out
	}
	return v
}
