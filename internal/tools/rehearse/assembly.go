// Package rehearse runs a synthesized cloud assembly on one machine: the data
// tier, the deploy-time custom resources and every container ECS would start,
// with the real The Things Stack binary, then a smoke scenario
// (internal/tools/rehearse/smoke). Everything is read from the templates as
// CloudFormation and ECS would read them; what cannot exist on one host is
// substituted, and every substitution is recorded for the report.
package rehearse

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
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

// Output is a stack output.
type Output struct {
	Value  any
	Export *struct{ Name any }
}

// Resource is a template resource.
type Resource struct {
	Type       string
	Properties map[string]any
	DependsOn  any
}

// LoadAssembly reads manifest.json and every stack template of dir.
func LoadAssembly(dir string) (*Assembly, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("reading the cloud assembly: %v; run `make synth` first", err)
	}
	var m struct {
		Artifacts map[string]struct {
			Type         string
			Environment  string
			Properties   struct{ TemplateFile string }
			Dependencies []string
		}
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s/manifest.json: %v", dir, err)
	}
	a := &Assembly{Dir: dir, Stacks: map[string]*Stack{}}
	deps := map[string][]string{}
	for name, art := range m.Artifacts {
		if art.Type != "aws:cloudformation:stack" {
			continue
		}
		env := strings.Split(strings.TrimPrefix(art.Environment, "aws://"), "/")
		if len(env) == 2 {
			a.Account, a.Region = env[0], env[1]
		}
		t, err := os.ReadFile(filepath.Join(dir, art.Properties.TemplateFile))
		if err != nil {
			return nil, fmt.Errorf("stack %s: %v", name, err)
		}
		s := &Stack{Name: name}
		if err := json.Unmarshal(t, s); err != nil {
			return nil, fmt.Errorf("stack %s: %s: %v", name, art.Properties.TemplateFile, err)
		}
		a.Stacks[name] = s
		deps[name] = art.Dependencies
	}
	if len(a.Stacks) == 0 {
		return nil, fmt.Errorf("%s/manifest.json lists no stacks; run `make synth` first", dir)
	}
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if seen[n] || a.Stacks[n] == nil {
			return
		}
		seen[n] = true
		d := append([]string(nil), deps[n]...)
		sort.Strings(d)
		for _, x := range d {
			visit(x)
		}
		a.Order = append(a.Order, n)
	}
	names := make([]string, 0, len(a.Stacks))
	for n := range a.Stacks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		visit(n)
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
