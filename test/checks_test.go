package test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
)

// paramSets are the parameter sets every stack is checked with.
func paramSets() []map[string]string {
	var sets []map[string]string
	for _, c := range combos() {
		if c.valid() {
			sets = append(sets, c.overrides())
		}
	}
	return append(sets,
		nil,
		clientCertSet(),
		map[string]string{"PlainPortsEnabled": "true"},
		map[string]string{"NatGateways": "1", "DatabaseReaders": "0", "DeletionProtection": "false"},
		map[string]string{"AvailabilityZones": "eu-west-1a,eu-west-1b,eu-west-1c", "NatGateways": "3", "DatabaseReaders": "2", "CacheReplicas": "2"},
		map[string]string{"RetainData": "false", "DeletionProtection": "false"},
		restoreSet(),
		givenAddresses(),
		opsOff(),
	)
}

func TestCdkNagFindsNothingUnsuppressed(t *testing.T) {
	for _, set := range paramSets() {
		a := synthOnce(t, set)
		for _, m := range a.Messages {
			//lint:ignore SA1019 the Go binding has no other name for the levels of synthesis messages
			if m.Level == string(cxapi.SynthesisMessageLevel_ERROR) || (m.Level == string(cxapi.SynthesisMessageLevel_WARNING) && strings.Contains(m.Text, "AwsSolutions")) {
				t.Errorf("%s: %s %s: %s", canonical(set), m.Level, m.Path, m.Text)
			}
		}
	}
}

func TestBuiltInValidatorFindsNothing(t *testing.T) {
	for _, set := range paramSets() {
		a := synthOnce(t, set)
		for _, f := range a.ValidationFindings {
			t.Errorf("%s: %s", canonical(set), f)
		}
	}
}

func TestEverySuppressionNamesRuleAndSpecificReason(t *testing.T) {
	a := synthOnce(t, nil)
	count := 0
	for stack, tpl := range a.Templates {
		for id, r := range tpl.Resources {
			rules, _ := get(r.Metadata, "cdk_nag", "rules_to_suppress").([]any)
			for _, rule := range rules {
				count++
				ruleID, _ := get(rule, "id").(string)
				reason, _ := get(rule, "reason").(string)
				if !strings.HasPrefix(ruleID, "AwsSolutions-") {
					t.Errorf("%s/%s: suppression %s does not name an AwsSolutions rule", stack, id, jsonText(rule))
				}
				if len(reason) < 60 {
					t.Errorf("%s/%s: suppression of %s has a vague reason %q", stack, id, ruleID, reason)
				}
			}
		}
	}
	if count == 0 {
		t.Error("no suppression found; this test reads the cdk_nag metadata of the templates and should see the ones of the code")
	}
}

func TestBuiltInValidatorRunsInStrictMode(t *testing.T) {
	ctx, err := cdkJSONContext()
	if err != nil {
		t.Fatal(err)
	}
	if ctx["@aws-cdk/core:validateAgainstDefaultRules"] != true {
		t.Fatal("cdk.json does not turn on the strict built-in validator (@aws-cdk/core:validateAgainstDefaultRules)")
	}
	if os.Getenv("CDK_VALIDATION") == "false" {
		t.Fatal("CDK_VALIDATION=false turns the built-in validator off; unset it for the test suite")
	}
	// The app's own synthesis under this context passed (synthOnce fails
	// otherwise); a template the validator must reject proves it ran.
	synthOnce(t, nil)
	dir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(dir)})
	// A stack without resources breaks an error-level rule (F0001); in
	// strict mode that fails the synthesis.
	awscdk.NewStack(app, jsii.String("Empty"), nil)
	err = func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		app.Synth(nil)
		return nil
	}()
	if err == nil {
		t.Fatal("a stack without resources synthesized: the strict built-in validator did not run")
	}
	t.Logf("validator rejected the broken template: %.200s", err)
}
