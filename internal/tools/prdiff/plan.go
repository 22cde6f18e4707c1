package prdiff

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// Step is one step of a deploy: a resource created, updated, replaced or
// deleted by one stack's update, or deleted in its cleanup phase.
type Step struct {
	// Stack is the CloudFormation stack name.
	Stack string
	// Cleanup is true for the deletions at the end of the stack's update.
	Cleanup bool
	// Action: create, update, replace (the replacement is created) or
	// delete; "update outputs" for a stack whose outputs change.
	Action    string
	LogicalID string
}

func (s Step) String() string {
	if s.Stack == "" {
		return s.Action
	}
	phase := ""
	if s.Cleanup {
		phase = " cleanup"
	}
	if s.LogicalID == "" {
		return fmt.Sprintf("%s%s: %s", s.Stack, phase, s.Action)
	}
	return fmt.Sprintf("%s%s: %s %s", s.Stack, phase, s.Action, s.LogicalID)
}

// event is a step in the plan, with the group it runs in: group 2k is the
// update phase of the k-th stack, 2k+1 its cleanup phase.
type event struct {
	step  Step
	group int
	// atomic events switch at one instant (a listener update); the others
	// take time, during which both the old and the new state count.
	atomic bool
	res    string // logical id, for the happens-before relation
	// order is the position in a fixed linearization of the whole deploy.
	order int
}

// stackPlan is what the deploy does to one stack.
type stackPlan struct {
	name     string
	old, new *Template
	// changed: the template differs, so the stack is updated (the CDK CLI
	// skips a stack whose template is unchanged).
	changed  bool
	replaced map[string]bool
	updated  map[string]bool
	newReach map[string]map[string]bool
	oldReach map[string]map[string]bool
}

// instance is one physical resource and the events of the deploy on it.
type instance struct {
	id  ident
	typ string
	// before is its definition before the deploy (nil when the deploy
	// creates it), after its definition once updated or created.
	before, after        *definition
	create, update, dele int // event indexes, -1 for none
}

// definition is what the availability guard reads of a listener or a
// service.
type definition struct {
	lb       string // listener: identity of its load balancer
	port     int
	protocol string
	tgs      []ident // the target groups it forwards to (listener) or registers in (service)
	// external are target groups given as ARNs of no stack of the app.
	external []string
	desired  int // service: DesiredCount (1 when absent: autoscaled)
}

type deployPlan struct {
	stacks    []*stackPlan
	byName    map[string]int
	events    []event
	instances []*instance
	exports   map[string]bool
}

func (d *deployPlan) name(i ident) string {
	s := d.stacks[i.stack].name + "/" + i.id
	if i.gen > 0 {
		s += " (replacement)"
	}
	return s
}

func (d *deployPlan) exported(name string) bool { return d.exports[name] }

// replacementProperties are the properties whose change makes CloudFormation
// replace a resource, for the types the availability guard reads.
var replacementProperties = map[string][]string{
	"AWS::ElasticLoadBalancingV2::TargetGroup":  {"Name", "Port", "Protocol", "ProtocolVersion", "TargetType", "VpcId", "IpAddressType"},
	"AWS::ElasticLoadBalancingV2::Listener":     {"LoadBalancerArn"},
	"AWS::ElasticLoadBalancingV2::LoadBalancer": {"Name", "Scheme", "Type"},
	"AWS::ECS::Service":                         {"ServiceName", "Cluster", "LaunchType", "Role", "SchedulingStrategy", "DeploymentController"},
	"AWS::EC2::SecurityGroup":                   {"GroupDescription", "GroupName", "VpcId"},
	// A task definition is immutable: every change registers a new
	// revision, and the services that name it are updated.
	"AWS::ECS::TaskDefinition": {"*"},
}

// newPlan lays out the deploy from old to new, stack by stack in the
// deploy order of new; stacks only in old come last and are not touched.
func newPlan(old, new *Assembly) *deployPlan {
	d := &deployPlan{byName: map[string]int{}, exports: map[string]bool{}}
	add := func(name string, o, n *Stack) {
		s := &stackPlan{name: name, replaced: map[string]bool{}, updated: map[string]bool{}}
		if o != nil {
			s.old = &o.Template
		}
		if n != nil {
			s.new = &n.Template
		}
		s.changed = n != nil && (o == nil || !sameJSON(o.Raw, n.Raw))
		d.byName[name] = len(d.stacks)
		d.stacks = append(d.stacks, s)
	}
	oldByName := map[string]*Stack{}
	for _, s := range old.Stacks {
		oldByName[s.Name] = s
	}
	for _, id := range new.DeployOrder() {
		n := new.Stacks[id]
		add(n.Name, oldByName[n.Name], n)
	}
	for _, id := range old.DeployOrder() {
		o := old.Stacks[id]
		if _, inNew := d.byName[o.Name]; !inNew {
			add(o.Name, o, nil)
		}
	}
	for _, s := range d.stacks {
		for _, t := range []*Template{s.old, s.new} {
			if t == nil {
				continue
			}
			for _, o := range t.Outputs {
				if o.Export != nil {
					if name, ok := o.Export.Name.(string); ok {
						d.exports[name] = true
					}
				}
			}
		}
	}
	for k, s := range d.stacks {
		d.planStack(k, s)
	}
	d.linearize()
	return d
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// planStack decides what stack k's update does to each resource, in the
// dependency order of its new template, and records the events and
// instances.
func (d *deployPlan) planStack(k int, s *stackPlan) {
	before := view{d: d, upto: 0}
	during := view{d: d, upto: k + 1}
	newDeps, oldDeps := localDeps(s.new), localDeps(s.old)
	s.newReach, s.oldReach = reach(newDeps), reach(oldDeps)
	addEvent := func(cleanup bool, action, id string, atomic bool) int {
		d.events = append(d.events, event{step: Step{Stack: s.name, Cleanup: cleanup, Action: action, LogicalID: id}, group: 2*k + b2i(cleanup), atomic: atomic, res: id})
		return len(d.events) - 1
	}
	byID := map[string]*instance{}
	if s.old != nil {
		for _, id := range sortedIDs(s.old) {
			r := s.old.Resources[id]
			in := &instance{id: ident{stack: k, id: id}, typ: r.Type, create: -1, update: -1, dele: -1}
			in.before = define(before, k, r)
			byID[id] = in
			d.instances = append(d.instances, in)
		}
	}
	if !s.changed {
		return
	}
	for _, id := range topo(s.new, newDeps) {
		r := s.new.Resources[id]
		atomic := r.Type == "AWS::ElasticLoadBalancingV2::Listener"
		o, existed := byID[id]
		if existed && o.typ == r.Type {
			old := s.old.Resources[id]
			for _, p := range replacementProperties[r.Type] {
				if p == "*" && before.canon(k, old.Properties) != during.canon(k, r.Properties) {
					s.replaced[id] = true
				}
				if p != "*" && before.canon(k, old.Properties[p]) != during.canon(k, r.Properties[p]) {
					s.replaced[id] = true
				}
			}
			if !s.replaced[id] {
				if before.canon(k, old.Properties) != during.canon(k, r.Properties) {
					s.updated[id] = true
					o.update = addEvent(false, "update", id, atomic)
					o.after = define(during, k, r)
				}
				continue
			}
		} else if existed {
			s.replaced[id] = true // a new type under the same logical id
		}
		in := &instance{id: ident{stack: k, id: id, gen: b2i(existed)}, typ: r.Type, update: -1, dele: -1}
		action := "create"
		if existed {
			action = "replace"
		}
		in.create = addEvent(false, action, id, atomic)
		in.after = define(during, k, r)
		d.instances = append(d.instances, in)
	}
	for _, id := range sortedIDs(s.old) {
		if _, kept := s.new.Resources[id]; !kept || s.replaced[id] {
			byID[id].dele = addEvent(true, "delete", id, false)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sortedIDs(t *Template) []string {
	if t == nil {
		return nil
	}
	ids := make([]string, 0, len(t.Resources))
	for id := range t.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// define reads what the guard needs of a listener or a service.
func define(v view, stack int, r Resource) *definition {
	p := r.Properties
	switch r.Type {
	case "AWS::ElasticLoadBalancingV2::Listener":
		def := &definition{protocol: fmt.Sprint(p["Protocol"]), port: number(p["Port"], 0)}
		lb := v.resolve(stack, p["LoadBalancerArn"])
		if len(lb.ids) > 0 {
			def.lb = v.d.name(lb.ids[0])
		} else {
			def.lb = v.canon(stack, p["LoadBalancerArn"])
		}
		addTG := func(x any) {
			if x == nil {
				return
			}
			if ids := v.resolve(stack, x).ids; len(ids) > 0 {
				def.tgs = append(def.tgs, ids...)
			} else {
				def.external = append(def.external, v.canon(stack, x))
			}
		}
		actions, _ := p["DefaultActions"].([]any)
		for _, a := range actions {
			m, _ := a.(map[string]any)
			addTG(m["TargetGroupArn"])
			if fc, ok := m["ForwardConfig"].(map[string]any); ok {
				groups, _ := fc["TargetGroups"].([]any)
				for _, g := range groups {
					gm, _ := g.(map[string]any)
					addTG(gm["TargetGroupArn"])
				}
			}
		}
		return def
	case "AWS::ECS::Service":
		def := &definition{desired: number(p["DesiredCount"], 1)}
		lbs, _ := p["LoadBalancers"].([]any)
		for _, l := range lbs {
			m, _ := l.(map[string]any)
			def.tgs = append(def.tgs, v.resolve(stack, m["TargetGroupArn"]).ids...)
		}
		return def
	}
	return nil
}

// number reads a whole number; anything else (an intrinsic) is def.
func number(x any, def int) int {
	switch n := x.(type) {
	case float64:
		return int(n)
	case string:
		var i int
		if _, err := fmt.Sscanf(n, "%d", &i); err == nil {
			return i
		}
	}
	return def
}

// before tells whether event a happens before event b in every order
// CloudFormation may choose.
func (d *deployPlan) before(a, b int) bool {
	ea, eb := d.events[a], d.events[b]
	if ea.group != eb.group {
		return ea.group < eb.group
	}
	if a == b {
		return false
	}
	s := d.stacks[ea.group/2]
	if ea.group%2 == 0 {
		return s.newReach[eb.res][ea.res] // b depends on a
	}
	return s.oldReach[ea.res][eb.res] // a depended on b: a is deleted first
}

// linearize fixes one order of all events consistent with before: group by
// group, each in dependency order.
func (d *deployPlan) linearize() {
	newPos, oldPos := map[int]map[string]int{}, map[int]map[string]int{}
	for k, s := range d.stacks {
		newPos[k], oldPos[k] = map[string]int{}, map[string]int{}
		for i, id := range topo(s.new, localDeps(s.new)) {
			newPos[k][id] = i
		}
		order := topo(s.old, localDeps(s.old))
		for i, id := range order {
			oldPos[k][id] = len(order) - i // dependents are deleted first
		}
	}
	pos := func(e event) int {
		if e.group%2 == 0 {
			return newPos[e.group/2][e.res]
		}
		return oldPos[e.group/2][e.res]
	}
	idx := make([]int, len(d.events))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ea, eb := d.events[idx[a]], d.events[idx[b]]
		if ea.group != eb.group {
			return ea.group < eb.group
		}
		return pos(ea) < pos(eb)
	})
	for o, i := range idx {
		d.events[i].order = o
	}
}
