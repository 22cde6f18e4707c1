package test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/prdiff"
)

// flipState is one value of the switches that move traffic: the TLS mode and
// interop (Packet Broker with it, as in the example environment, since it
// needs interop).
type flipState struct{ proxyTLS, interop bool }

func (s flipState) overrides() map[string]string {
	return snapshotCombo{proxyTLS: s.proxyTLS, interop: s.interop, packetBroker: s.interop}.overrides()
}

func (s flipState) String() string {
	return fmt.Sprintf("SupportProxyTLS=%v,InteropEnabled=%v", s.proxyTLS, s.interop)
}

// readAssembly reads a synthesized parameter set as the guard of make diff
// reads a cloud assembly.
func readAssembly(t *testing.T, a *Assembly) *prdiff.Assembly {
	t.Helper()
	out, err := prdiff.ReadAssembly(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// guardNotes returns the informational issues by rule, as "rule port".
func guardNotes(r prdiff.AvailabilityReport) []string {
	var out []string
	for _, n := range r.Notes() {
		out = append(out, fmt.Sprintf("%s %d", n.Rule, n.Port))
	}
	sort.Strings(out)
	return out
}

// Every switch of a parameter that moves traffic, walked by the availability
// guard of make diff as CloudFormation applies it stack by stack, on the
// app's own templates: at no moment does a public listener that exists
// before and after forward to a target group without registered targets, and
// no resource refers to something deleted or not yet created (also for a
// rollback of a later stack). The same guard fails on the templates of the
// layout before this one (prdiff's fixture testdata/main).
func TestFlipsKeepListenersServing(t *testing.T) {
	var states []flipState
	for _, tls := range []bool{false, true} {
		for _, interop := range []bool{true, false} {
			states = append(states, flipState{proxyTLS: tls, interop: interop})
		}
	}
	type flip struct {
		name     string
		from, to map[string]string
		// notes are the listeners the deploy removes or creates.
		notes []string
	}
	var flips []flip
	for _, a := range states {
		for _, b := range states {
			if a == b || (a.proxyTLS != b.proxyTLS && a.interop != b.interop) {
				continue
			}
			var notes []string
			switch {
			case a.interop && !b.interop:
				notes = []string{prdiff.RuleListenerRemoved + " 8886"}
			case !a.interop && b.interop:
				notes = []string{prdiff.RuleListenerCreated + " 8886"}
			}
			flips = append(flips, flip{name: a.String() + " to " + b.String(), from: a.overrides(), to: b.overrides(), notes: notes})
		}
	}
	plain := map[string]string{"PlainPortsEnabled": "true"}
	var plainNotes []string
	for _, port := range []int{1881, 1882, 1883, 1884, 1885, 1886, 1887} {
		plainNotes = append(plainNotes, fmt.Sprintf("%s %d", prdiff.RuleListenerCreated, port))
	}
	var plainRemoved []string
	for _, port := range []int{1881, 1882, 1883, 1884, 1885, 1886, 1887} {
		plainRemoved = append(plainRemoved, fmt.Sprintf("%s %d", prdiff.RuleListenerRemoved, port))
	}
	cidrs := map[string]string{"GatewayIngressCidrs": "192.0.2.0/24", "ApplicationIngressCidrs": "198.51.100.0/24,203.0.113.0/24"}
	tasks := map[string]string{"GatewayServerTasks": "3", "ProxyTasks": "3", "IdentityServerTasks": "3"}
	flips = append(flips,
		flip{name: "PlainPortsEnabled on", from: nil, to: plain, notes: plainNotes},
		flip{name: "PlainPortsEnabled off", from: plain, to: nil, notes: plainRemoved},
		flip{name: "ingress CIDRs narrowed", from: nil, to: cidrs},
		flip{name: "ingress CIDRs widened", from: cidrs, to: nil},
		flip{name: "task counts up", from: nil, to: tasks},
		flip{name: "task counts down", from: tasks, to: nil},
		// The example sends e-mail; EmailSender empty turns it off.
		flip{name: "EmailSender off", from: nil, to: emailOff()},
		flip{name: "EmailSender on", from: emailOff(), to: nil},
		flip{name: "PacketBrokerEnabled on", from: nil, to: pbaOn},
		flip{name: "PacketBrokerEnabled off", from: pbaOn, to: nil},
		flip{name: "PicturesEnabled off", from: nil, to: map[string]string{"PicturesEnabled": "false"}},
		flip{name: "PicturesEnabled on", from: map[string]string{"PicturesEnabled": "false"}, to: nil},
		// Every task definition is replaced and every service rolls.
		flip{name: "CpuArchitecture X86_64", from: nil, to: x86()},
		flip{name: "CpuArchitecture ARM64", from: x86(), to: nil},
		// Every service of The Things Stack rolls (the init process);
		// the session log group and its key stay.
		flip{name: "OpsAccess off", from: nil, to: opsOff()},
		flip{name: "OpsAccess on", from: opsOff(), to: nil},
	)
	for _, f := range flips {
		t.Run(f.name, func(t *testing.T) {
			from, to := readAssembly(t, synthOnce(t, f.from)), readAssembly(t, synthOnce(t, f.to))
			r := prdiff.CheckAvailability(from, to)
			for _, i := range r.Failures() {
				t.Errorf("%s", i)
			}
			sort.Strings(f.notes)
			if got := guardNotes(r); fmt.Sprint(got) != fmt.Sprint(f.notes) {
				t.Errorf("notes %v, want %v", got, f.notes)
			}
		})
	}
}
