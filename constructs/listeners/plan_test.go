package listeners

import (
	"fmt"
	"slices"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

func allModes() []Mode {
	var out []Mode
	for _, tls := range []bool{false, true} {
		for _, interop := range []bool{false, true} {
			for _, plain := range []bool{false, true} {
				out = append(out, Mode{ProxyTLS: tls, Interop: interop, PlainPorts: plain})
			}
		}
	}
	return out
}

func mustPlan(t *testing.T, m Mode) Plan {
	t.Helper()
	p, err := NewPlan(m)
	if err != nil {
		t.Fatalf("NewPlan(%+v): %v", m, err)
	}
	return p
}

// For every switch of TLS mode or interop state, each port that has a
// listener before and after can be switched without a moment with no
// registered target: either the new target group already has registered
// targets before the switch (the listener may switch first), or the old one
// keeps them after it (the listener may switch last). And the target group
// a service must register in before a public listener uses it has a staging
// listener.
func TestPlanSwitchesKeepTargets(t *testing.T) {
	for _, from := range allModes() {
		for _, to := range []Mode{
			{ProxyTLS: !from.ProxyTLS, Interop: from.Interop, PlainPorts: from.PlainPorts},
			{ProxyTLS: from.ProxyTLS, Interop: !from.Interop, PlainPorts: from.PlainPorts},
		} {
			t.Run(fmt.Sprintf("%+v to %+v", from, to), func(t *testing.T) {
				a, b := mustPlan(t, from), mustPlan(t, to)
				after := map[int]ListenerSpec{}
				for _, l := range b.Listeners {
					after[l.Port] = l
				}
				for _, la := range a.Listeners {
					lb, ok := after[la.Port]
					if !ok || la.Target == lb.Target {
						continue
					}
					newBefore, _ := a.Target(lb.Target)
					oldAfter, _ := b.Target(la.Target)
					if !newBefore.Registered && !oldAfter.Registered {
						t.Errorf("port %d switches from %s to %s: neither is registered on both sides of the switch", la.Port, la.Target, lb.Target)
					}
					tb, _ := b.Target(lb.Target)
					if tb.Staging == 0 {
						t.Errorf("port %d switches to %s, which has no staging listener", la.Port, lb.Target)
					}
				}
			})
		}
	}
}

// Target groups that the other TLS mode or interop state uses stay, so that
// a deploy never deletes one a listener of a later stack still forwards to;
// a proxy TLS port exists only in proxy TLS mode (it needs the certificate).
func TestPlanKeepsTargetGroupsAcrossModes(t *testing.T) {
	interop := ports.Interop()
	http := ports.HTTP()
	for _, m := range allModes() {
		p := mustPlan(t, m)
		is, ok := p.Target(fmt.Sprintf("%s-TCP%d", ports.ServerIS, interop.Plain))
		if !ok {
			t.Errorf("%+v: no Identity Server interop target group", m)
		} else if is.Registered != m.Interop {
			t.Errorf("%+v: Identity Server interop target group registered = %v, want %v", m, is.Registered, m.Interop)
		}
		if plain, ok := p.Target(fmt.Sprintf("%s-TCP%d", ports.ServerProxy, http.Plain)); !ok || !plain.Registered {
			t.Errorf("%+v: the proxy's plain HTTP target group is missing or unregistered: %+v", m, plain)
		}
		for _, tg := range p.Targets {
			if tg.PassThrough && !m.ProxyTLS {
				t.Errorf("%+v: proxy TLS target group %s without proxy TLS", m, tg.Key)
			}
		}
		public := map[int]bool{}
		for _, l := range p.Listeners {
			public[l.Port] = true
			if _, ok := p.Target(l.Target); !ok {
				t.Errorf("%+v: listener %d forwards to %s, which the plan lacks", m, l.Port, l.Target)
			}
		}
		for _, tg := range p.Targets {
			if tg.Staging != 0 && public[tg.Staging] {
				t.Errorf("%+v: staging port %d is public", m, tg.Staging)
			}
		}
	}
}

// A staging port that two target groups share, or that a public listener
// uses, is refused; every problem at once.
func TestPlanStagingPortsAreChecked(t *testing.T) {
	shared := []TargetSpec{{Key: "a", Staging: 20443}, {Key: "b", Staging: 20443}, {Key: "c"}}
	public := []ListenerSpec{{Port: 443, Target: "a"}, {Port: 20443, Target: "c"}}
	for _, c := range []struct {
		name string
		plan Plan
		want []string
	}{
		{"shared staging port", Plan{Targets: shared, Listeners: public[:1]}, []string{"listeners.shared-staging-port"}},
		{"public staging port", Plan{Targets: shared[1:], Listeners: public}, []string{"listeners.public-staging-port"}},
		{"both", Plan{Targets: shared, Listeners: public}, []string{"listeners.shared-staging-port", "listeners.public-staging-port"}},
	} {
		err := c.plan.checkStaging()
		if got := diag.FromError(err).Codes(); !slices.Equal(got, c.want) {
			t.Errorf("%s: codes %v, want %v (error %v)", c.name, got, c.want, err)
		}
	}
	for _, m := range allModes() {
		if err := mustPlan(t, m).checkStaging(); err != nil {
			t.Errorf("%+v: %v", m, err)
		}
	}
}
