package rehearse

import (
	"encoding/json"
	"strings"
	"testing"
)

// twoStacks is a Data stack that exports a value and a Configuration stack
// that reads it with Fn::GetStackOutput, as the app's templates do.
func twoStacks(t *testing.T) *Evaluator {
	t.Helper()
	var data, conf Stack
	if err := json.Unmarshal([]byte(`{
		"Resources": {
			"Bucket": {"Type": "AWS::S3::Bucket"},
			"Param": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/tts/x", "Value": "v"}}
		},
		"Outputs": {
			"BucketArn": {"Value": {"Fn::GetAtt": ["Bucket", "Arn"]}},
			"BucketName": {"Value": {"Ref": "Bucket"}}
		}
	}`), &data); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"Resources": {}}`), &conf); err != nil {
		t.Fatal(err)
	}
	a := &Assembly{Account: "123456789012", Region: "eu-west-1",
		Stacks: map[string]*Stack{"tts-Data": &data, "tts-Configuration": &conf},
		Order:  []string{"tts-Data", "tts-Configuration"}}
	v := NewValues()
	v.SetRef("tts-Data", "Bucket", "tts-data-bucket")
	v.SetAttr("tts-Data", "Bucket", "Arn", "arn:aws:s3:::tts-data-bucket")
	return &Evaluator{A: a, V: v}
}

func TestEvalCrossStackAndFunctions(t *testing.T) {
	e := twoStacks(t)
	for _, c := range []struct{ in, want string }{
		{`{"Fn::GetStackOutput": {"StackName": "tts-Data", "Region": "eu-west-1", "OutputName": "BucketName"}}`, "tts-data-bucket"},
		{`{"Fn::Join": ["/", [{"Fn::GetStackOutput": {"StackName": "tts-Data", "OutputName": "BucketArn"}}, "*"]]}`, "arn:aws:s3:::tts-data-bucket/*"},
		{`{"Fn::Select": [5, {"Fn::Split": [":", {"Fn::GetStackOutput": {"StackName": "tts-Data", "OutputName": "BucketArn"}}]}]}`, "tts-data-bucket"},
		{`{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/x"}`, "arn:aws:ssm:eu-west-1:123456789012:parameter/x"},
	} {
		var x any
		if err := json.Unmarshal([]byte(c.in), &x); err != nil {
			t.Fatal(err)
		}
		got, err := e.String("tts-Configuration", x)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s = %q, want %q", c.in, got, c.want)
		}
	}
	var missing any
	_ = json.Unmarshal([]byte(`{"Fn::GetStackOutput": {"StackName": "tts-Data", "OutputName": "Nope"}}`), &missing)
	if _, err := e.String("tts-Configuration", missing); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("a missing output gave %v, want an error that names it", err)
	}
}

// GenerateSecretString makes values by the rules a template gives, as
// Secrets Manager would: the rehearsal's credentials then exercise the same
// escaping as the real ones.
func TestGenerateSecretString(t *testing.T) {
	v, err := GenerateSecretString(map[string]any{
		"PasswordLength": float64(30), "ExcludeCharacters": `"@/\ '`,
		"SecretStringTemplate": `{"username":"tts"}`, "GenerateStringKey": "password",
	})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		t.Fatalf("not the template's JSON: %v", err)
	}
	if m["username"] != "tts" || len(m["password"]) != 30 || strings.ContainsAny(m["password"], `"@/\ '`) {
		t.Errorf("generated %q: want username tts and a 30-character password without excluded characters", v)
	}
	p, err := GenerateSecretString(map[string]any{"PasswordLength": float64(64), "ExcludePunctuation": true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 64 || strings.ContainsAny(p, punctuation) {
		t.Errorf("generated %q: want 64 characters without punctuation", p)
	}
}
