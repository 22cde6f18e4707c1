package test

import (
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

// TestCustomResourcePropertiesParseInTheirHandlersTypes parses the properties
// that the stacks write for every custom resource, in both TLS modes, with the
// parser of the handler that receives them: what a stack writes is what the
// function reads, required fields included, and no key is ignored.
func TestCustomResourcePropertiesParseInTheirHandlersTypes(t *testing.T) {
	type parsed interface{ Properties() *map[string]any }
	parsers := map[string]func(map[string]any) (parsed, error){
		deployres.DatabaseURIType: func(m map[string]any) (parsed, error) { return deployres.ParseDatabaseURIProps(m) },
		deployres.TaskRunType:     func(m map[string]any) (parsed, error) { return deployres.ParseTaskRunProps(m) },
		deployres.CertbotRunType:  func(m map[string]any) (parsed, error) { return deployres.ParseCertbotRunProps(m) },
		deployres.InteropRepositoryType: func(m map[string]any) (parsed, error) {
			p, _, _, err := deployres.ParseInteropRepositoryProps(m)
			return p, err
		},
	}
	for _, mode := range []struct {
		name      string
		overrides map[string]string
		want      map[string]int
	}{
		{"proxy TLS", proxyOn(), map[string]int{deployres.DatabaseURIType: 1, deployres.TaskRunType: 1, deployres.CertbotRunType: 1, deployres.InteropRepositoryType: 1}},
		{"load balancer TLS", proxyOff(), map[string]int{deployres.DatabaseURIType: 1, deployres.TaskRunType: 1, deployres.InteropRepositoryType: 1}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			a := synthOnce(t, mode.overrides)
			found := map[string]int{}
			for stack, tpl := range a.Templates {
				for id, r := range tpl.Resources {
					parse, ok := parsers[r.Type]
					if !ok {
						// Not one of ours (e.g. the CDK's Custom::VpcRestrictDefaultSG).
						continue
					}
					found[r.Type]++
					sent, _ := cdktest.Deployed(r.Properties).(map[string]any)
					delete(sent, "ServiceToken")
					p, err := parse(sent)
					if err != nil {
						t.Errorf("%s/%s: %v", stack, id, err)
						continue
					}
					// Every key the stack writes is a field of the type: a
					// key the handler does not know would be dropped.
					if got, want := sortedKeys(*p.Properties()), sortedKeys(sent); strings.Join(got, ",") != strings.Join(want, ",") {
						t.Errorf("%s/%s: the handler reads the keys %v of the %v the stack writes", stack, id, got, want)
					}
				}
			}
			for typ, n := range mode.want {
				if found[typ] != n {
					t.Errorf("%d resources of type %s, want %d", found[typ], typ, n)
				}
			}
		})
	}
}
