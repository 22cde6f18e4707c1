package rehearse

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Values are what CloudFormation would know after creating resources: the
// Ref and Fn::GetAtt answers per stack and logical id. A resource without a
// known value gets a placeholder of the form "local:<stack>/<id>", so that a
// template that uses a value the rehearsal did not provide shows it.
type Values struct {
	Refs  map[string]any // "stack/logical"
	Attrs map[string]any // "stack/logical.Attr"
}

// NewValues returns empty values.
func NewValues() *Values {
	return &Values{Refs: map[string]any{}, Attrs: map[string]any{}}
}

// SetRef records the Ref of a resource.
func (v *Values) SetRef(stack, id string, val any) { v.Refs[stack+"/"+id] = val }

// SetAttr records an attribute of a resource.
func (v *Values) SetAttr(stack, id, attr string, val any) { v.Attrs[stack+"/"+id+"."+attr] = val }

// Evaluator evaluates CloudFormation intrinsic functions over an assembly.
type Evaluator struct {
	A *Assembly
	V *Values
}

// noValue is AWS::NoValue: the property is removed.
type noValue struct{}

// Eval evaluates every intrinsic function in x within stack.
func (e *Evaluator) Eval(stack string, x any) (any, error) {
	switch t := x.(type) {
	case map[string]any:
		if len(t) == 1 {
			for k, arg := range t {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return e.fn(stack, k, arg)
				}
			}
		}
		out := make(map[string]any, len(t))
		for k, v := range t {
			r, err := e.Eval(stack, v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, ok := r.(noValue); !ok {
				out[k] = r
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(t))
		for i, v := range t {
			r, err := e.Eval(stack, v)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if _, ok := r.(noValue); !ok {
				out = append(out, r)
			}
		}
		return out, nil
	default:
		return x, nil
	}
}

// String evaluates x and requires a scalar, returned as CloudFormation
// passes it to a resource (numbers and booleans as text).
func (e *Evaluator) String(stack string, x any) (string, error) {
	r, err := e.Eval(stack, x)
	if err != nil {
		return "", err
	}
	return scalar(r)
}

func scalar(r any) (string, error) {
	switch v := r.(type) {
	case string:
		return v, nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	case nil:
		return "", nil
	default:
		return "", fmt.Errorf("expected a scalar, got %T", r)
	}
}

// Stringify turns every scalar of an evaluated value into a string, as
// CloudFormation does for the properties of a custom resource.
func Stringify(x any) any {
	switch t := x.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, v := range t {
			out[k] = Stringify(v)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, v := range t {
			out[i] = Stringify(v)
		}
		return out
	default:
		s, err := scalar(t)
		if err != nil {
			return t
		}
		return s
	}
}

func (e *Evaluator) ref(stack, name string) (any, error) {
	switch name {
	case "AWS::Region":
		return e.A.Region, nil
	case "AWS::AccountId":
		return e.A.Account, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return stack, nil
	case "AWS::NoValue":
		return noValue{}, nil
	}
	if v, ok := e.V.Refs[stack+"/"+name]; ok {
		return v, nil
	}
	s := e.A.Stacks[stack]
	if s == nil {
		return nil, fmt.Errorf("no stack %s", stack)
	}
	if _, ok := s.Resources[name]; !ok {
		return nil, fmt.Errorf("Ref %s: no such resource or parameter in %s", name, stack)
	}
	return "local:" + stack + "/" + name, nil
}

func (e *Evaluator) getAtt(stack, id, attr string) (any, error) {
	if v, ok := e.V.Attrs[stack+"/"+id+"."+attr]; ok {
		return v, nil
	}
	s := e.A.Stacks[stack]
	if s == nil {
		return nil, fmt.Errorf("no stack %s", stack)
	}
	if _, ok := s.Resources[id]; !ok {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: no such resource in %s", id, attr, stack)
	}
	return "local:" + stack + "/" + id + "." + attr, nil
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (e *Evaluator) fn(stack, name string, arg any) (any, error) {
	switch name {
	case "Ref":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref takes a name")
		}
		return e.ref(stack, s)
	case "Fn::GetAtt":
		var id, attr string
		switch a := arg.(type) {
		case []any:
			if len(a) != 2 {
				return nil, fmt.Errorf("Fn::GetAtt takes [id, attribute]")
			}
			id, _ = a[0].(string)
			v, err := e.String(stack, a[1])
			if err != nil {
				return nil, err
			}
			attr = v
		case string:
			id, attr, _ = strings.Cut(a, ".")
		}
		return e.getAtt(stack, id, attr)
	case "Fn::Join":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Join takes [delimiter, list]")
		}
		sep, _ := a[0].(string)
		list, err := e.Eval(stack, a[1])
		if err != nil {
			return nil, err
		}
		items, ok := list.([]any)
		if !ok {
			return nil, fmt.Errorf("Fn::Join: the second argument is not a list")
		}
		parts := make([]string, len(items))
		for i, it := range items {
			if parts[i], err = scalar(it); err != nil {
				return nil, fmt.Errorf("Fn::Join: %v", err)
			}
		}
		return strings.Join(parts, sep), nil
	case "Fn::Select":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Select takes [index, list]")
		}
		is, err := e.String(stack, a[0])
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(is)
		if err != nil {
			return nil, fmt.Errorf("Fn::Select: index %q", is)
		}
		list, err := e.Eval(stack, a[1])
		if err != nil {
			return nil, err
		}
		items, ok := list.([]any)
		if !ok || i < 0 || i >= len(items) {
			return nil, fmt.Errorf("Fn::Select: index %d out of range of %v", i, list)
		}
		return items[i], nil
	case "Fn::Split":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Split takes [delimiter, string]")
		}
		sep, _ := a[0].(string)
		s, err := e.String(stack, a[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, sep) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Sub":
		var tmpl string
		vars := map[string]any{}
		switch a := arg.(type) {
		case string:
			tmpl = a
		case []any:
			if len(a) != 2 {
				return nil, fmt.Errorf("Fn::Sub takes a string or [string, variables]")
			}
			tmpl, _ = a[0].(string)
			m, err := e.Eval(stack, a[1])
			if err != nil {
				return nil, err
			}
			vars, _ = m.(map[string]any)
		}
		var firstErr error
		out := subVar.ReplaceAllStringFunc(tmpl, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") {
				return "${" + name[1:] + "}"
			}
			var v any
			var err error
			if x, ok := vars[name]; ok {
				v = x
			} else if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
				v, err = e.getAtt(stack, id, attr)
			} else {
				v, err = e.ref(stack, name)
			}
			if err == nil {
				var s string
				s, err = scalar(v)
				if err == nil {
					return s
				}
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("Fn::Sub %s: %v", name, err)
			}
			return ""
		})
		return out, firstErr
	case "Fn::GetStackOutput":
		m, ok := arg.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("Fn::GetStackOutput takes StackName and OutputName")
		}
		sn, err := e.String(stack, m["StackName"])
		if err != nil {
			return nil, err
		}
		on, err := e.String(stack, m["OutputName"])
		if err != nil {
			return nil, err
		}
		return e.output(sn, on)
	case "Fn::ImportValue":
		name, err := e.String(stack, arg)
		if err != nil {
			return nil, err
		}
		for _, sn := range e.A.Order {
			for on, o := range e.A.Stacks[sn].Outputs {
				exp, ok := e.exportName(sn, on)
				if ok && exp == name {
					return e.Eval(sn, o.Value)
				}
			}
		}
		return nil, fmt.Errorf("Fn::ImportValue %s: no stack exports it", name)
	}
	return nil, fmt.Errorf("%s is not supported by the rehearsal", name)
}

func (e *Evaluator) output(stack, name string) (any, error) {
	s := e.A.Stacks[stack]
	if s == nil {
		return nil, fmt.Errorf("Fn::GetStackOutput: no stack %s in the assembly", stack)
	}
	o, ok := s.Outputs[name]
	if !ok {
		return nil, fmt.Errorf("Fn::GetStackOutput: stack %s has no output %s", stack, name)
	}
	v, err := e.Eval(stack, o.Value)
	if err != nil {
		return nil, fmt.Errorf("%s output %s: %w", stack, name, err)
	}
	return v, nil
}

func (e *Evaluator) exportName(stack, output string) (string, bool) {
	o := e.A.Stacks[stack].Outputs[output]
	if o.Export == nil {
		return "", false
	}
	n, err := e.String(stack, o.Export.Name)
	return n, err == nil
}
