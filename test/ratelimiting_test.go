package test

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v2"

	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ratelimit"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ttsconfig"
)

// The rate limiting profiles are deployed where every component fetches
// them: the file is in the interop repository's deployment, under the
// folder that rate-limiting.blob.path names, in the bucket that
// rate-limiting.blob.bucket names; every component's task reads those
// parameters, with config-source blob, and its task role may get exactly
// that object.
func TestRateLimitingReachesEveryComponent(t *testing.T) {
	a := synthOnce(t, nil)
	files, _ := repositoryResource(t, a)
	text, ok := files[ratelimit.FileName]
	if !ok {
		t.Fatalf("the interop repository's deployment has no %s", ratelimit.FileName)
	}
	// The Things Stack reads it with yaml.v2 into its profile struct.
	var tts struct {
		Profiles []struct {
			Name         string   `yaml:"name"`
			MaxPerMin    uint     `yaml:"max-per-min"`
			MaxBurst     uint     `yaml:"max-burst"`
			Associations []string `yaml:"associations"`
		} `yaml:"profiles"`
	}
	if err := yaml.Unmarshal([]byte(text), &tts); err != nil {
		t.Fatalf("%s: %v", ratelimit.FileName, err)
	}
	if len(tts.Profiles) != len(ratelimit.Defaults()) {
		t.Errorf("%d profiles deployed, want the %d defaults", len(tts.Profiles), len(ratelimit.Defaults()))
	}
	for i, p := range tts.Profiles {
		if p.MaxPerMin == 0 || len(p.Associations) == 0 {
			t.Errorf("profile %d %q: rate %d, classes %v; The Things Stack refuses a rate of 0 and skips a profile without classes", i, p.Name, p.MaxPerMin, p.Associations)
		}
	}

	params := parameterKeys(t, a)
	_, repo := only(t, a.Stack(t, "Configuration"), "Custom::InteropRepository")
	if got, want := params["rate-limiting.blob.path"], fmt.Sprint(repo.Properties["Prefix"]); got != want {
		t.Errorf("rate-limiting.blob.path = %q, but the file is deployed under %q", got, want)
	}
	if got, want := params["rate-limiting.blob.bucket"], jsonText(repo.Properties["Bucket"]); got != want {
		t.Errorf("rate-limiting.blob.bucket = %s, but the file is deployed to %s", got, want)
	}

	for _, stack := range []string{"IdentityServer", "Services"} {
		tpl := a.Stack(t, stack)
		for comp, s := range servicesByComponent(t, tpl) {
			secrets := namedValues(s.main["Secrets"], "ValueFrom")
			for _, key := range []string{"rate-limiting.config-source", "rate-limiting.blob.bucket", "rate-limiting.blob.path", "blob.provider", "blob.aws.region"} {
				env := ttsconfig.EnvName(key)
				if !strings.HasSuffix(jsonText(secrets[env]), "/"+key+`"`) {
					t.Errorf("%s %s: %s from %s, want the parameter of %s", stack, comp, env, jsonText(secrets[env]), key)
				}
			}
			role := refTo(get(s.task.Properties, "TaskRoleArn"))
			if !roleMayGet(tpl, role, "interop-repository/"+ratelimit.FileName) {
				t.Errorf("%s %s: the task role %s may not s3:GetObject interop-repository/%s", stack, comp, role, ratelimit.FileName)
			}
		}
	}
}

// roleMayGet tells whether a policy of role allows s3:GetObject on a
// resource of the interop bucket that covers key.
func roleMayGet(tpl Template, role, key string) bool {
	for _, pol := range tpl.OfType("AWS::IAM::Policy") {
		roles, _ := get(pol.Properties, "Roles").([]any)
		mine := false
		for _, r := range roles {
			mine = mine || refTo(r) == role
		}
		if !mine {
			continue
		}
		stmts, _ := get(pol.Properties, "PolicyDocument", "Statement").([]any)
		for _, st := range stmts {
			actions := fmt.Sprint(get(st, "Action"))
			if get(st, "Effect") != "Allow" || !strings.Contains(actions, "s3:GetObject") {
				continue
			}
			res := jsonText(get(st, "Resource"))
			if !strings.Contains(res, "InteropRepository") {
				continue
			}
			if strings.Contains(res, "/"+key) || strings.Contains(res, "/"+strings.SplitN(key, "/", 2)[0]+"/*") {
				return true
			}
		}
	}
	return false
}
