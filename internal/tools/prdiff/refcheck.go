package prdiff

import (
	"fmt"
	"sort"
)

// references checks rule 3: every cross-stack reference of a stack's old
// template resolves, and the resource behind it exists, from the start of
// the deploy until the stack is updated (while its resources run with them,
// and for its rollback); those of its new template from its update to the
// end of the deploy. A stack that is not updated keeps its old references
// to the end.
func (c *checker) references() {
	d := c.d
	last := 2 * len(d.stacks)
	for k, s := range d.stacks {
		until := last
		if s.changed {
			until = 2 * k
		}
		for _, id := range sortedIDs(s.old) {
			r := s.old.Resources[id]
			to := c.stepOf(k, id)
			if !s.changed {
				to = nil
			}
			deleted := map[ident]bool{}
			for _, target := range crossStack(view{d: d, upto: 0}.resolve(k, r.Properties).ids, k) {
				if watchesOnly(r.Type) {
					// Its references must still resolve (below).
					break
				}
				if del := c.deletion(target); del >= 0 && d.events[del].group <= until {
					deleted[target] = true
					c.addRef(k, id, target, &d.events[del].step, to, "refers to %s, which is deleted", d.name(target))
				}
			}
			// Its old template must also resolve after every earlier stack's
			// update: the stack rolls back to it.
			for j := 0; j < k && s.changed; j++ {
				if !d.stacks[j].changed {
					continue
				}
				for _, m := range (view{d: d, upto: j + 1}).resolve(k, r.Properties).missing {
					if m.stack == j && !c.behindDeleted(m, deleted) {
						from := &Step{Stack: d.stacks[j].name, Action: "remove output", LogicalID: m.name}
						c.addRef(k, id, ident{stack: j, id: m.name}, from, to, "its old template (the rollback) refers to %s, which is removed", d.describe(m))
					}
				}
			}
		}
		if !s.changed {
			continue
		}
		during := view{d: d, upto: k + 1}
		for _, id := range sortedIDs(s.new) {
			r := s.new.Resources[id]
			from := c.stepOf(k, id)
			if from == nil {
				from = &Step{Stack: s.name, Action: "update"}
			}
			res := during.resolve(k, r.Properties)
			for _, m := range res.missing {
				c.addRef(k, id, ident{stack: m.stack, id: m.name}, from, nil, "refers to %s, which does not exist when the stack updates", d.describe(m))
			}
			for _, target := range crossStack(res.ids, k) {
				in := c.byIdent[target]
				if in == nil {
					continue
				}
				if in.create >= 0 && d.events[in.create].group > 2*k {
					c.addRef(k, id, target, from, &d.events[in.create].step, "refers to %s, which is not created yet", d.name(target))
				}
				if in.dele >= 0 && d.events[in.dele].group > 2*k {
					c.addRef(k, id, target, &d.events[in.dele].step, nil, "refers to %s, which a later stack deletes", d.name(target))
				}
			}
		}
	}
}

// watchesOnly tells whether a resource type only names the resources it
// refers to, by the values of metric dimensions: a CloudWatch alarm or
// dashboard whose resource is deleted receives no data (an alarm's missing
// data is its TreatMissingData) and fails nothing. The values must still
// resolve: a removed output fails the stack's update and its rollback.
func watchesOnly(typ string) bool {
	return typ == "AWS::CloudWatch::Alarm" || typ == "AWS::CloudWatch::Dashboard"
}

func (c *checker) addRef(k int, id string, target ident, from, to *Step, format string, args ...any) {
	c.add(AvailabilityIssue{
		Rule:    RuleReference,
		Subject: fmt.Sprintf("%s/%s -> %s", c.d.stacks[k].name, id, c.d.name(target)),
		From:    from, To: to,
		Reason: fmt.Sprintf(format, args...),
	})
}

// behindDeleted tells whether the resource behind an output before the
// deploy is among deleted (then that deletion is the issue reported).
func (c *checker) behindDeleted(m missingRef, deleted map[ident]bool) bool {
	t := c.d.stacks[m.stack].old
	if t == nil {
		return false
	}
	o, ok := t.Outputs[m.name]
	if !ok {
		return false
	}
	for _, i := range (view{d: c.d, upto: 0}).resolve(m.stack, o.Value).ids {
		if deleted[i] {
			return true
		}
	}
	return false
}

// stepOf returns the first step of stack k on a logical id, or nil.
func (c *checker) stepOf(k int, id string) *Step {
	for i := range c.d.events {
		e := &c.d.events[i]
		if e.group/2 == k && e.res == id {
			return &e.step
		}
	}
	return nil
}

// deletion returns the event that deletes a physical resource, or -1.
func (c *checker) deletion(target ident) int {
	if in := c.byIdent[target]; in != nil {
		return in.dele
	}
	return -1
}

// crossStack returns the distinct identities of other stacks than k.
func crossStack(ids []ident, k int) []ident {
	seen := map[ident]bool{}
	var out []ident
	for _, i := range ids {
		if i.stack != k && !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].stack != out[b].stack {
			return out[a].stack < out[b].stack
		}
		return out[a].id < out[b].id
	})
	return out
}
