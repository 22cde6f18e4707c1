package prdiff

import (
	"fmt"
	"sort"
	"strings"
)

// Rules of the availability guard.
const (
	// RuleListener: a public listener port, public before and after the
	// deploy, has at some moment no listener, a missing target group, no
	// registered target, or a new protocol in front of the same targets.
	RuleListener = "listener"
	// RuleReference: a resource refers to an output or a resource of
	// another stack that is deleted or not created yet at that moment.
	RuleReference = "reference"
	// RuleUnusedTargetGroup: an ECS service is created or updated with a
	// target group that no listener uses at that moment; ECS refuses it.
	RuleUnusedTargetGroup = "target group without listener"
	// RuleListenerRemoved and RuleListenerCreated are informational.
	RuleListenerRemoved = "listener removed"
	RuleListenerCreated = "listener created"
	// RuleTooManyOrders: too many unordered changes to try every order.
	RuleTooManyOrders = "too many orders"
)

// maxCuts bounds the states tried per check and stack phase.
const maxCuts = 200000

// AvailabilityIssue is one window of a deploy in which traffic or a
// reference breaks, or a listener the deploy removes or creates.
type AvailabilityIssue struct {
	Rule string
	// Subject names the listener (load balancer and port) or the
	// reference.
	Subject string
	// Port is the listener port, 0 when the issue is not about a listener.
	Port int
	// From is the step that opens the window; To the step that closes it,
	// nil when it stays open after the deploy.
	From, To *Step
	Reason   string
}

// Failure tells whether the issue fails the guard (the others are
// informational).
func (i AvailabilityIssue) Failure() bool {
	return i.Rule != RuleListenerRemoved && i.Rule != RuleListenerCreated
}

func (i AvailabilityIssue) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", i.Subject, i.Reason)
	switch {
	case i.From != nil && i.To != nil && *i.From == *i.To:
		fmt.Fprintf(&b, ", at %s", i.From)
	case i.From != nil && i.To != nil:
		fmt.Fprintf(&b, ", from %s until %s", i.From, i.To)
	case i.From != nil:
		fmt.Fprintf(&b, ", from %s until after the deploy", i.From)
	}
	return b.String()
}

// AvailabilityReport is the result of the availability guard for one
// environment.
type AvailabilityReport struct {
	Issues []AvailabilityIssue
}

// Failures returns the issues that fail the guard.
func (r AvailabilityReport) Failures() []AvailabilityIssue {
	var out []AvailabilityIssue
	for _, i := range r.Issues {
		if i.Failure() {
			out = append(out, i)
		}
	}
	return out
}

// Notes returns the informational issues: listeners removed or created.
func (r AvailabilityReport) Notes() []AvailabilityIssue {
	var out []AvailabilityIssue
	for _, i := range r.Issues {
		if !i.Failure() {
			out = append(out, i)
		}
	}
	return out
}

// CheckAvailability walks the deploy from the old cloud assembly to the new
// one as CloudFormation applies it (see the package documentation) and
// returns every window in which a public listener loses its targets, a
// reference breaks, or ECS would refuse a service's target group.
func CheckAvailability(old, new *Assembly) AvailabilityReport {
	d := newPlan(old, new)
	c := &checker{d: d, byIdent: map[ident]*instance{}}
	for _, in := range d.instances {
		c.byIdent[in.id] = in
	}
	c.listeners()
	c.targetGroupsInUse()
	c.references()
	sort.SliceStable(c.issues, func(a, b int) bool {
		x, y := c.issues[a], c.issues[b]
		if x.Rule != y.Rule {
			return x.Rule < y.Rule
		}
		if x.Port != y.Port {
			return x.Port < y.Port
		}
		return x.Subject < y.Subject
	})
	return AvailabilityReport{Issues: c.issues}
}

type checker struct {
	d       *deployPlan
	byIdent map[ident]*instance
	issues  []AvailabilityIssue
	seen    map[string]bool
}

func (c *checker) add(i AvailabilityIssue) {
	key := fmt.Sprint(i.Rule, i.Subject, i.Reason, i.From, i.To)
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	if !c.seen[key] {
		c.seen[key] = true
		c.issues = append(c.issues, i)
	}
}

// moment is the state of every event at one moment: 0 not started,
// 1 running, 2 done.
type moment func(e int) int8

func exists(in *instance, st moment) bool {
	if in.create >= 0 && st(in.create) != 2 {
		return false
	}
	return in.dele < 0 || st(in.dele) == 0
}

// definitions returns the definitions of in that count at the moment: both
// while it is being updated.
func definitions(in *instance, st moment) []*definition {
	if in.create >= 0 {
		return []*definition{in.after}
	}
	if in.update < 0 {
		return []*definition{in.before}
	}
	switch st(in.update) {
	case 0:
		return []*definition{in.before}
	case 1:
		return []*definition{in.before, in.after}
	}
	return []*definition{in.after}
}

func (in *instance) events() []int {
	var out []int
	for _, e := range []int{in.create, in.update, in.dele} {
		if e >= 0 {
			out = append(out, e)
		}
	}
	return out
}

type listenerKey struct {
	lb   string
	port int
}

func (k listenerKey) String() string { return fmt.Sprintf("listener %d of %s", k.port, k.lb) }

func (def *definition) key() listenerKey { return listenerKey{def.lb, def.port} }

func isListener(in *instance) bool {
	return in.typ == "AWS::ElasticLoadBalancingV2::Listener"
}

// listeners checks rules 1 and 2.
func (c *checker) listeners() {
	before := c.publicListeners(view{d: c.d, upto: 0})
	after := c.publicListeners(view{d: c.d, upto: len(c.d.stacks)})
	var keys []listenerKey
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if !before[k] {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].port != keys[b].port {
			return keys[a].port < keys[b].port
		}
		return keys[a].lb < keys[b].lb
	})
	for _, k := range keys {
		switch {
		case before[k] && after[k]:
			c.listener(k)
		case before[k]:
			c.listenerNote(k, RuleListenerRemoved, "the deploy removes this public listener (or it stops being public)")
		default:
			c.listenerNote(k, RuleListenerCreated, "the deploy creates this public listener")
		}
	}
}

func (c *checker) listenerNote(k listenerKey, rule, reason string) {
	issue := AvailabilityIssue{Rule: rule, Subject: k.String(), Port: k.port, Reason: reason}
	for _, in := range c.d.instances {
		if !isListener(in) {
			continue
		}
		switch {
		case rule == RuleListenerCreated && in.after != nil && in.after.key() == k:
			e := in.create
			if e < 0 {
				e = in.update
			}
			if e >= 0 {
				issue.From = &c.d.events[e].step
			}
		case rule == RuleListenerRemoved && in.before != nil && in.before.key() == k:
			if in.dele >= 0 {
				issue.From = &c.d.events[in.dele].step
			} else if in.update >= 0 {
				issue.From = &c.d.events[in.update].step
			}
		}
	}
	issue.To = issue.From
	c.add(issue)
}

// publicListeners returns the listeners of the view that a CIDR can reach.
func (c *checker) publicListeners(v view) map[listenerKey]bool {
	type rule struct {
		proto    string
		from, to int
	}
	ingress := map[string][]rule{} // by security group
	addRule := func(groups []ident, p map[string]any) {
		if p["CidrIp"] == nil && p["CidrIpv6"] == nil {
			return
		}
		r := rule{proto: strings.ToLower(fmt.Sprint(p["IpProtocol"])), from: number(p["FromPort"], -1), to: number(p["ToPort"], -1)}
		for _, g := range groups {
			ingress[c.d.name(g)] = append(ingress[c.d.name(g)], r)
		}
	}
	type lb struct {
		groups []ident
		known  bool
	}
	lbs := map[string]lb{}
	var listeners []*definition
	for k := range c.d.stacks {
		t, _ := v.template(k)
		if t == nil {
			continue
		}
		for _, id := range sortedIDs(t) {
			r := t.Resources[id]
			switch r.Type {
			case "AWS::EC2::SecurityGroup":
				self, _ := v.ident(k, id)
				list, _ := r.Properties["SecurityGroupIngress"].([]any)
				for _, e := range list {
					if m, ok := e.(map[string]any); ok {
						addRule([]ident{self}, m)
					}
				}
			case "AWS::EC2::SecurityGroupIngress":
				addRule(v.resolve(k, r.Properties["GroupId"]).ids, r.Properties)
			case "AWS::ElasticLoadBalancingV2::LoadBalancer":
				self, _ := v.ident(k, id)
				lbs[c.d.name(self)] = lb{groups: v.resolve(k, r.Properties["SecurityGroups"]).ids, known: true}
			case "AWS::ElasticLoadBalancingV2::Listener":
				listeners = append(listeners, define(v, k, r))
			}
		}
	}
	matches := func(r rule, protocol string, port int) bool {
		proto := "tcp"
		switch protocol {
		case "UDP":
			proto = "udp"
		case "TCP_UDP":
			proto = r.proto
		}
		if r.proto != "-1" && r.proto != proto && !(r.proto == "6" && proto == "tcp") && !(r.proto == "17" && proto == "udp") {
			return false
		}
		return r.proto == "-1" || r.from == -1 || (r.from <= port && port <= r.to)
	}
	out := map[listenerKey]bool{}
	for _, l := range listeners {
		b := lbs[l.lb]
		public := !b.known || len(b.groups) == 0
		for _, g := range b.groups {
			for _, r := range ingress[c.d.name(g)] {
				public = public || matches(r, l.protocol, l.port)
			}
		}
		if public {
			out[l.key()] = true
		}
	}
	return out
}

// listener checks rule 1 for one listener port.
func (c *checker) listener(k listenerKey) {
	var ls, tgs, svcs []*instance
	tgSet := map[ident]bool{}
	var initial *definition
	for _, in := range c.d.instances {
		if !isListener(in) {
			continue
		}
		matched := false
		for _, def := range []*definition{in.before, in.after} {
			if def != nil && def.key() == k {
				matched = true
				for _, tg := range def.tgs {
					tgSet[tg] = true
				}
			}
		}
		if matched {
			ls = append(ls, in)
		}
		if in.before != nil && in.before.key() == k && in.create < 0 {
			initial = in.before
		}
	}
	for tg := range tgSet {
		if in := c.byIdent[tg]; in != nil {
			tgs = append(tgs, in)
		}
	}
	for _, in := range c.d.instances {
		if in.typ != "AWS::ECS::Service" {
			continue
		}
		for _, def := range []*definition{in.before, in.after} {
			if def != nil && anyIn(def.tgs, tgSet) {
				svcs = append(svcs, in)
				break
			}
		}
	}
	check := func(st moment) (bool, string) {
		var cur []*definition
		for _, l := range ls {
			if exists(l, st) {
				if def := definitions(l, st)[0]; def.key() == k {
					cur = append(cur, def)
				}
			}
		}
		switch {
		case len(cur) == 0:
			return false, "no listener on the port"
		case len(cur) > 1:
			return false, "two listeners on the port (creating the second one fails)"
		}
		def := cur[0]
		if len(def.tgs) == 0 && len(def.external) == 0 {
			return false, "the listener forwards to no target group"
		}
		for _, tg := range def.tgs {
			in := c.byIdent[tg]
			if in == nil {
				continue // not in this app
			}
			if !exists(in, st) {
				return false, fmt.Sprintf("forwards to %s, which does not exist at that moment", c.d.name(tg))
			}
			if !c.hasTargets(tg, svcs, st) {
				return false, fmt.Sprintf("forwards to %s, in which no service registers targets", c.d.name(tg))
			}
		}
		if initial != nil && def.protocol != initial.protocol {
			for _, tg := range def.tgs {
				if anyIn(initial.tgs, map[ident]bool{tg: true}) {
					return false, fmt.Sprintf("protocol %s -> %s with the same target group %s: its targets get different traffic", initial.protocol, def.protocol, c.d.name(tg))
				}
			}
			for _, tg := range def.external {
				for _, t0 := range initial.external {
					if tg == t0 {
						return false, fmt.Sprintf("protocol %s -> %s with the same target group %s: its targets get different traffic", initial.protocol, def.protocol, tg)
					}
				}
			}
		}
		return true, ""
	}
	var rel []int
	for _, group := range [][]*instance{ls, tgs, svcs} {
		for _, in := range group {
			rel = append(rel, in.events()...)
		}
	}
	c.windows(AvailabilityIssue{Rule: RuleListener, Subject: k.String(), Port: k.port}, rel, check)
}

func anyIn(list []ident, set map[ident]bool) bool {
	for _, i := range list {
		if set[i] {
			return true
		}
	}
	return false
}

func (c *checker) hasTargets(tg ident, svcs []*instance, st moment) bool {
	for _, s := range svcs {
		if !exists(s, st) {
			continue
		}
		for _, def := range definitions(s, st) {
			if def.desired > 0 && anyIn(def.tgs, map[ident]bool{tg: true}) {
				return true
			}
		}
	}
	return false
}

// windows finds the moments at which check fails: along the plan's fixed
// order, and, for every phase in which the relevant events may run in
// another order, along an order that reaches a failing state. Each maximal
// failing stretch of an order is one issue.
func (c *checker) windows(proto AvailabilityIssue, rel []int, check func(moment) (bool, string)) {
	rel = uniqueSorted(rel, c.d)
	c.walk(proto, c.linear(rel, -1, nil), check)
	for _, g := range groupsOf(rel, c.d) {
		seen := map[string]bool{}
		c.eachCut(proto, rel, g, func(cut map[int]int8) bool {
			if ok, reason := check(c.stateIn(g, cut)); !ok && !seen[reason] {
				seen[reason] = true
				c.walk(proto, c.linear(rel, g, cut), check)
			}
			return true
		})
	}
}

func uniqueSorted(events []int, d *deployPlan) []int {
	seen := map[int]bool{}
	var out []int
	for _, e := range events {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	sort.Slice(out, func(a, b int) bool { return d.events[out[a]].order < d.events[out[b]].order })
	return out
}

func groupsOf(events []int, d *deployPlan) []int {
	var out []int
	for _, e := range events {
		g := d.events[e].group
		if len(out) == 0 || out[len(out)-1] != g {
			out = append(out, g)
		}
	}
	return out
}

// stateIn returns the moment inside group g where the events of g are as
// in cut; earlier groups are done, later ones not started.
func (c *checker) stateIn(g int, cut map[int]int8) moment {
	return func(e int) int8 {
		switch eg := c.d.events[e].group; {
		case eg < g:
			return 2
		case eg > g:
			return 0
		}
		return cut[e]
	}
}

// eachCut calls fn with every state of the relevant events of group g
// that CloudFormation may reach (an event starts only when every event it
// depends on is done), until fn returns false.
func (c *checker) eachCut(proto AvailabilityIssue, rel []int, g int, fn func(cut map[int]int8) bool) {
	var in []int
	for _, e := range rel {
		if c.d.events[e].group == g {
			in = append(in, e)
		}
	}
	cut := map[int]int8{}
	tried := 0
	var try func(i int) bool // false stops
	try = func(i int) bool {
		if i == len(in) {
			tried++
			return tried <= maxCuts && fn(cut)
		}
		e := in[i]
		for _, s := range []int8{0, 1, 2} {
			if s == 1 && c.d.events[e].atomic {
				continue
			}
			ok := true
			for _, p := range in[:i] {
				if s > 0 && c.d.before(p, e) && cut[p] != 2 {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			cut[e] = s
			if !try(i + 1) {
				return false
			}
		}
		delete(cut, e)
		return true
	}
	try(0)
	if tried > maxCuts {
		p := proto
		p.From, p.To = nil, nil
		p.Rule, p.Reason = RuleTooManyOrders, fmt.Sprintf("more than %d states of the unordered changes of one stack; not every order was tried (add dependencies between them)", maxCuts)
		c.add(p)
	}
}

// point is a start (or, for an atomic event, the whole) or the end of an
// event.
type point struct {
	event int
	end   bool
}

// linear orders the points of events: the plan's fixed order, except in
// group g where the events follow cut (done ones first, then the starts of
// running ones).
func (c *checker) linear(events []int, g int, cut map[int]int8) []point {
	var out []point
	emit := func(e int, start, end bool) {
		if start && !c.d.events[e].atomic {
			out = append(out, point{event: e})
		}
		if end {
			out = append(out, point{event: e, end: true})
		}
	}
	group := func(e int) int { return c.d.events[e].group }
	for _, e := range events {
		if g < 0 || group(e) < g {
			emit(e, true, true)
		}
	}
	if g < 0 {
		return out
	}
	for _, e := range events {
		if group(e) == g && cut[e] == 2 {
			emit(e, true, true)
		}
	}
	for _, e := range events {
		if group(e) == g && cut[e] == 1 {
			emit(e, true, false)
		}
	}
	for _, e := range events {
		switch {
		case group(e) == g && cut[e] == 1:
			emit(e, false, true)
		case group(e) == g && cut[e] == 0, group(e) > g:
			emit(e, true, true)
		}
	}
	return out
}

// walk applies the points in order and adds an issue per failing stretch.
func (c *checker) walk(proto AvailabilityIssue, points []point, check func(moment) (bool, string)) {
	st := map[int]int8{}
	cur := func(e int) int8 { return st[e] }
	var open *AvailabilityIssue
	if ok, reason := check(cur); !ok {
		i := proto
		i.From, i.Reason = &Step{Action: "before the deploy"}, reason+" (already before the deploy)"
		open = &i
	}
	for _, p := range points {
		if p.end {
			st[p.event] = 2
		} else {
			st[p.event] = 1
		}
		step := &c.d.events[p.event].step
		ok, reason := check(cur)
		switch {
		case !ok && open == nil:
			i := proto
			i.From, i.Reason = step, reason
			open = &i
		case ok && open != nil:
			open.To = step
			c.add(*open)
			open = nil
		}
	}
	if open != nil {
		c.add(*open)
	}
}

// targetGroupsInUse checks rule 4: ECS refuses to create or update a
// service with a target group that no listener uses at that moment.
func (c *checker) targetGroupsInUse() {
	for _, svc := range c.d.instances {
		if svc.typ != "AWS::ECS::Service" || svc.after == nil {
			continue
		}
		ev := svc.create
		if ev < 0 {
			ev = svc.update
		}
		for _, tg := range svc.after.tgs {
			tgIn := c.byIdent[tg]
			if tgIn == nil {
				continue
			}
			var ls []*instance
			rel := append([]int{ev}, tgIn.events()...)
			for _, in := range c.d.instances {
				if !isListener(in) {
					continue
				}
				for _, def := range []*definition{in.before, in.after} {
					if def != nil && anyIn(def.tgs, map[ident]bool{tg: true}) {
						ls = append(ls, in)
						rel = append(rel, in.events()...)
						break
					}
				}
			}
			used := func(st moment) bool {
				for _, l := range ls {
					if exists(l, st) && anyIn(definitions(l, st)[0].tgs, map[ident]bool{tg: true}) {
						return true
					}
				}
				return false
			}
			step := &c.d.events[ev].step
			proto := AvailabilityIssue{Rule: RuleUnusedTargetGroup, Subject: fmt.Sprintf("%s/%s -> %s", c.d.stacks[svc.id.stack].name, svc.id.id, c.d.name(tg)), From: step, To: step,
				Reason: "ECS refuses a target group that no listener uses (\"does not have an associated load balancer\")"}
			g := c.d.events[ev].group
			c.eachCut(proto, uniqueSorted(rel, c.d), g, func(cut map[int]int8) bool {
				if st := c.stateIn(g, cut); st(ev) == 1 && !used(st) {
					c.add(proto)
					return false
				}
				return true
			})
		}
	}
}
