// Package assembly reads a synthesized cloud assembly (a cdk.out folder):
// the stacks of its manifest, their templates, environments and the order in
// which `cdk deploy --all` deploys them. make diff (prdiff) and make rehearse
// (rehearse) both read assemblies through it.
package assembly

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Template is the part of a CloudFormation template the guard reads.
type Template struct {
	Resources map[string]Resource `json:"Resources"`
	Outputs   map[string]Output   `json:"Outputs"`
}

// Output is one template output.
type Output struct {
	Value  any `json:"Value"`
	Export *struct {
		Name any `json:"Name"`
	} `json:"Export"`
}

// Resource is one template resource.
type Resource struct {
	Type                string         `json:"Type"`
	Properties          map[string]any `json:"Properties"`
	DeletionPolicy      string         `json:"DeletionPolicy"`
	UpdateReplacePolicy string         `json:"UpdateReplacePolicy"`
	// DependsOn is a logical id or a list of them.
	DependsOn any `json:"DependsOn"`
}

// Stack is one stack of a synthesized cloud assembly.
type Stack struct {
	// ID is the artifact id, which the CDK CLI selects stacks by.
	ID string
	// Name is the CloudFormation stack name.
	Name string
	// TemplateFile is the absolute path of the template.
	TemplateFile string
	// Account and Region of the stack's environment (aws://ACCOUNT/REGION),
	// empty when the environment is not given.
	Account, Region string
	Raw             []byte
	Template        Template
}

// Assembly is a synthesized cloud assembly (a cdk.out folder).
type Assembly struct {
	Dir    string
	Stacks map[string]*Stack // by artifact id
	order  []string
	deps   map[string][]string // artifact id -> the stacks it depends on
}

// IDs returns the artifact ids of the stacks in the order of the manifest,
// which is the order of deployment.
func (a *Assembly) IDs() []string { return append([]string{}, a.order...) }

// DeployOrder returns the artifact ids in the order `cdk deploy --all`
// updates them: every stack after the stacks it depends on, otherwise in the
// order of the manifest.
func (a *Assembly) DeployOrder() []string {
	done := map[string]bool{}
	var out []string
	var visit func(id string, path map[string]bool)
	visit = func(id string, path map[string]bool) {
		if done[id] || path[id] || a.Stacks[id] == nil {
			return
		}
		path[id] = true
		for _, d := range a.deps[id] {
			visit(d, path)
		}
		done[id] = true
		out = append(out, id)
	}
	for _, id := range a.order {
		visit(id, map[string]bool{})
	}
	return out
}

// Read reads the stacks of the cloud assembly in dir from its
// manifest.json.
func Read(dir string) (*Assembly, error) {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("read the cloud assembly: %w (was the synthesis successful?)", err)
	}
	var m struct {
		Artifacts orderedArtifacts `json:"artifacts"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	asm := &Assembly{Dir: dir, Stacks: map[string]*Stack{}, deps: map[string][]string{}}
	for _, id := range m.Artifacts.keys {
		var a struct {
			Type         string   `json:"type"`
			Environment  string   `json:"environment"`
			Dependencies []string `json:"dependencies"`
			Properties   struct {
				TemplateFile string `json:"templateFile"`
				StackName    string `json:"stackName"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(m.Artifacts.values[id], &a); err != nil {
			return nil, fmt.Errorf("manifest.json, artifact %s: %w", id, err)
		}
		if a.Type != "aws:cloudformation:stack" {
			continue
		}
		file := filepath.Join(dir, a.Properties.TemplateFile)
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("stack %s: %w", id, err)
		}
		s := &Stack{ID: id, Name: a.Properties.StackName, TemplateFile: file, Raw: raw}
		if s.Name == "" {
			s.Name = id
		}
		if env := strings.Split(strings.TrimPrefix(a.Environment, "aws://"), "/"); len(env) == 2 {
			s.Account, s.Region = env[0], env[1]
		}
		if err := json.Unmarshal(raw, &s.Template); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		asm.Stacks[id] = s
		asm.deps[id] = a.Dependencies
		asm.order = append(asm.order, id)
	}
	return asm, nil
}

// orderedArtifacts is a JSON object whose key order is kept.
type orderedArtifacts struct {
	keys   []string
	values map[string]json.RawMessage
}

func (o *orderedArtifacts) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, &o.values); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		o.keys = append(o.keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

// RefTo returns the logical id that a template value refers to with Ref or
// Fn::GetAtt ("" for any other value).
func RefTo(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
		s, _ := ga[0].(string)
		return s
	}
	return ""
}
