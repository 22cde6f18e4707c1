package prdiff

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// ident is one physical resource: a logical id of a stack, and its
// generation (1 when the deploy replaces it: the replacement is another
// physical resource than the one before).
type ident struct {
	stack int
	id    string
	gen   int
}

// view is the state of the stacks at one moment of the deploy: the stacks
// before index upto run their new template, the others their old one.
type view struct {
	d    *deployPlan
	upto int
}

// template returns the template of stack i in effect in the view, and
// whether it is the new one; nil when the stack does not exist then.
func (v view) template(i int) (*Template, bool) {
	s := v.d.stacks[i]
	if i < v.upto && s.new != nil {
		return s.new, true
	}
	return s.old, false
}

func (v view) ident(stack int, id string) (ident, bool) {
	t, isNew := v.template(stack)
	if t == nil {
		return ident{}, false
	}
	if _, ok := t.Resources[id]; !ok {
		return ident{}, false
	}
	gen := 0
	if isNew && v.d.stacks[stack].replaced[id] {
		gen = 1
	}
	return ident{stack: stack, id: id, gen: gen}, true
}

// resolved is what a value refers to in a view.
type resolved struct {
	ids []ident
	// missing are the cross-stack references that do not resolve.
	missing []missingRef
}

// missingRef is an output or export that a reference names and that does
// not exist in the view.
type missingRef struct {
	stack int // -1 for an export
	name  string
}

func (d *deployPlan) describe(m missingRef) string {
	if m.stack < 0 {
		return "export " + m.name
	}
	return "output " + m.name + " of stack " + d.stacks[m.stack].name
}

// resolve returns the resources a value of stack refers to, through
// Ref, Fn::GetAtt, Fn::Sub, Fn::GetStackOutput and Fn::ImportValue.
func (v view) resolve(stack int, x any) resolved {
	var r resolved
	v.subst(stack, x, &r)
	return r
}

// canon returns the value with every reference replaced by the physical
// resource it names, so that two values compare equal exactly when they
// mean the same thing.
func (v view) canon(stack int, x any) string {
	data, err := json.Marshal(v.subst(stack, x, &resolved{}))
	if err != nil {
		return fmt.Sprint(x)
	}
	return string(data)
}

var subVar = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

func (v view) subst(stack int, x any, r *resolved) any {
	switch n := x.(type) {
	case []any:
		out := make([]any, len(n))
		for i, e := range n {
			out[i] = v.subst(stack, e, r)
		}
		return out
	case map[string]any:
		if len(n) == 1 {
			for fn, arg := range n {
				if out, ok := v.intrinsic(stack, fn, arg, r); ok {
					return out
				}
			}
		}
		out := make(map[string]any, len(n))
		for k, e := range n {
			out[k] = v.subst(stack, e, r)
		}
		return out
	}
	return x
}

func (v view) intrinsic(stack int, fn string, arg any, r *resolved) (any, bool) {
	local := func(id, attr string) (any, bool) {
		if i, ok := v.ident(stack, id); ok {
			r.ids = append(r.ids, i)
			return "<" + v.d.name(i) + attr + ">", true
		}
		return nil, false
	}
	switch fn {
	case "Ref":
		if id, ok := arg.(string); ok {
			return local(id, "")
		}
	case "Fn::GetAtt":
		var parts []string
		switch a := arg.(type) {
		case string:
			parts = strings.SplitN(a, ".", 2)
		case []any:
			for _, p := range a {
				s, _ := p.(string)
				parts = append(parts, s)
			}
		}
		if len(parts) == 2 {
			return local(parts[0], "."+parts[1])
		}
	case "Fn::Sub":
		str, vars := arg, map[string]any{}
		if a, ok := arg.([]any); ok && len(a) == 2 {
			str = a[0]
			vars, _ = a[1].(map[string]any)
		}
		s, ok := str.(string)
		if !ok {
			return nil, false
		}
		var refs []string
		for _, m := range subVar.FindAllStringSubmatch(s, -1) {
			name := m[1]
			if _, isVar := vars[name]; isVar {
				continue
			}
			id, attr, _ := strings.Cut(name, ".")
			if attr != "" {
				attr = "." + attr
			}
			if out, ok := local(id, attr); ok {
				refs = append(refs, out.(string))
			}
		}
		sort.Strings(refs)
		return map[string]any{"Fn::Sub": s, "vars": v.subst(stack, vars, r), "refs": refs}, true
	case "Fn::GetStackOutput":
		a, _ := arg.(map[string]any)
		name, _ := a["StackName"].(string)
		output, _ := a["OutputName"].(string)
		j, known := v.d.byName[name]
		if !known || output == "" {
			return nil, false // another app's stack, or computed: not ours to check
		}
		return v.output(j, output, r), true
	case "Fn::ImportValue":
		name, ok := arg.(string)
		if !ok {
			return nil, false
		}
		for j := range v.d.stacks {
			t, _ := v.template(j)
			if t == nil {
				continue
			}
			for key, o := range t.Outputs {
				if o.Export != nil && o.Export.Name == name {
					return v.output(j, key, r), true
				}
			}
		}
		if v.d.exported(name) {
			r.missing = append(r.missing, missingRef{stack: -1, name: name})
			return "<missing export " + name + ">", true
		}
		return nil, false
	}
	return nil, false
}

// output resolves output key of stack j in the view.
func (v view) output(j int, key string, r *resolved) any {
	t, _ := v.template(j)
	o, ok := Output{}, false
	if t != nil {
		o, ok = t.Outputs[key]
	}
	if !ok {
		m := missingRef{stack: j, name: key}
		r.missing = append(r.missing, m)
		return "<missing " + v.d.describe(m) + ">"
	}
	return v.subst(j, o.Value, r)
}

// localDeps returns, per logical id, the logical ids of the same template it
// depends on (DependsOn, Ref, Fn::GetAtt, Fn::Sub).
func localDeps(t *Template) map[string][]string {
	out := map[string][]string{}
	if t == nil {
		return out
	}
	for id, res := range t.Resources {
		seen := map[string]bool{}
		add := func(dep string) {
			if _, ok := t.Resources[dep]; ok && dep != id && !seen[dep] {
				seen[dep] = true
				out[id] = append(out[id], dep)
			}
		}
		switch d := res.DependsOn.(type) {
		case string:
			add(d)
		case []any:
			for _, e := range d {
				if s, ok := e.(string); ok {
					add(s)
				}
			}
		}
		walkLocalRefs(res.Properties, add)
		sort.Strings(out[id])
	}
	return out
}

func walkLocalRefs(x any, add func(string)) {
	switch n := x.(type) {
	case []any:
		for _, e := range n {
			walkLocalRefs(e, add)
		}
	case map[string]any:
		for k, e := range n {
			switch k {
			case "Ref":
				if s, ok := e.(string); ok {
					add(s)
				}
			case "Fn::GetAtt":
				switch a := e.(type) {
				case string:
					id, _, _ := strings.Cut(a, ".")
					add(id)
				case []any:
					if len(a) > 0 {
						if s, ok := a[0].(string); ok {
							add(s)
						}
					}
				}
			case "Fn::Sub":
				str := e
				if a, ok := e.([]any); ok && len(a) > 0 {
					str = a[0]
				}
				if s, ok := str.(string); ok {
					for _, m := range subVar.FindAllStringSubmatch(s, -1) {
						id, _, _ := strings.Cut(m[1], ".")
						add(id)
					}
				}
			}
			walkLocalRefs(e, add)
		}
	}
}

// reach returns the transitive closure of deps: reach[a][b] when a depends
// on b directly or through other resources.
func reach(deps map[string][]string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	var visit func(id string) map[string]bool
	visit = func(id string) map[string]bool {
		if r, ok := out[id]; ok {
			return r
		}
		r := map[string]bool{}
		out[id] = r // a cycle stops here; CloudFormation refuses cycles anyway
		for _, d := range deps[id] {
			r[d] = true
			for x := range visit(d) {
				r[x] = true
			}
		}
		return r
	}
	for id := range deps {
		visit(id)
	}
	return out
}

// topo returns the logical ids of t so that every id comes after the ids it
// depends on; ties in lexical order.
func topo(t *Template, deps map[string][]string) []string {
	if t == nil {
		return nil
	}
	ids := sortedIDs(t)
	done := map[string]bool{}
	var out []string
	var visit func(id string, path map[string]bool)
	visit = func(id string, path map[string]bool) {
		if done[id] || path[id] {
			return
		}
		path[id] = true
		for _, d := range deps[id] {
			visit(d, path)
		}
		done[id] = true
		out = append(out, id)
	}
	for _, id := range ids {
		visit(id, map[string]bool{})
	}
	return out
}
