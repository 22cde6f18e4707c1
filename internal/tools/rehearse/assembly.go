// Package rehearse runs a synthesized cloud assembly on one machine: the data
// tier, the deploy-time custom resources and every container ECS would start,
// with the real The Things Stack binary, then a smoke scenario
// (internal/tools/rehearse/smoke). Everything is read from the templates as
// CloudFormation and ECS would read them; what cannot exist on one host is
// substituted, and every substitution is recorded for the report.
package rehearse

import (
	"fmt"
	"sort"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/assembly"
)

// Assembly is a cloud assembly (cdk.out): its stacks and their environment.
type Assembly struct {
	Dir     string
	Account string
	Region  string
	Stacks  map[string]*Stack
	// Order lists the stack names in deployment order (dependencies first).
	Order []string
}

// Stack is one CloudFormation stack of the assembly.
type Stack struct {
	Name      string
	Resources map[string]Resource
	Outputs   map[string]Output
}

// Output is a stack output; Resource a template resource.
type (
	Output   = assembly.Output
	Resource = assembly.Resource
)

// LoadAssembly reads manifest.json and every stack template of dir
// (assembly.Read), in the order `cdk deploy --all` deploys them.
func LoadAssembly(dir string) (*Assembly, error) {
	src, err := assembly.Read(dir)
	if err != nil {
		return nil, fmt.Errorf("%w; run `make synth` first", err)
	}
	a := &Assembly{Dir: dir, Stacks: map[string]*Stack{}, Order: src.DeployOrder()}
	for id, s := range src.Stacks {
		a.Stacks[id] = &Stack{Name: id, Resources: s.Template.Resources, Outputs: s.Template.Outputs}
		if s.Account != "" {
			a.Account, a.Region = s.Account, s.Region
		}
	}
	if len(a.Stacks) == 0 {
		return nil, fmt.Errorf("%s/manifest.json lists no stacks; run `make synth` first", dir)
	}
	return a, nil
}

// ResourcesOfType returns the logical ids of stack's resources of type typ,
// sorted.
func (s *Stack) ResourcesOfType(typ string) []string {
	var ids []string
	for id, r := range s.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Find returns the stack and resource of the first resource (in deployment
// order) whose type is typ.
func (a *Assembly) Find(typ string) (*Stack, string, bool) {
	for _, n := range a.Order {
		if ids := a.Stacks[n].ResourcesOfType(typ); len(ids) > 0 {
			return a.Stacks[n], ids[0], true
		}
	}
	return nil, "", false
}
