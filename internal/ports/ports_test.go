package ports

import (
	"slices"
	"testing"
)

// The rows' names name construct IDs and container port mappings, and their
// ports listeners and target groups: two rows must never share one.
func TestRowsAreDistinct(t *testing.T) {
	names, plain, public := map[string]bool{}, map[int]string{}, map[int]string{}
	for _, p := range Table() {
		if names[p.Name] {
			t.Errorf("two rows are named %q", p.Name)
		}
		names[p.Name] = true
		if other, dup := plain[p.Plain]; dup {
			t.Errorf("%s and %s share the plain port %d", other, p.Name, p.Plain)
		}
		plain[p.Plain] = p.Name
		if p.HasTLS() {
			if other, dup := public[p.PublicTLS()]; dup {
				t.Errorf("%s and %s share the public TLS port %d", other, p.Name, p.PublicTLS())
			}
			public[p.PublicTLS()] = p.Name
		}
	}
}

// Every row is served by a server of the load balancer and admitted for a
// group, so that it gets a task security group and ingress CIDRs.
func TestRowsHaveAServerAndAGroup(t *testing.T) {
	for _, p := range Table() {
		if !slices.Contains(Servers(), p.ServedBy) {
			t.Errorf("%s is served by %q, not one of %v", p, p.ServedBy, Servers())
		}
		if !slices.Contains(Groups(), p.Group) {
			t.Errorf("%s is in group %q, not one of %v", p, p.Group, Groups())
		}
	}
}

// A deployed component's tasks sit in a server's security group, and every
// component of the route table is started by a deployed component or by
// none (then the proxy omits it), never by another component that is itself
// started by a third.
func TestComponentsMapToServersAndDeployedStarters(t *testing.T) {
	for _, c := range Deployed() {
		if !slices.Contains(Components(), c) {
			t.Errorf("deployed component %q is not among Components()", c)
		}
		if !slices.Contains(Servers(), c.Server()) {
			t.Errorf("%s's server %q is not among Servers()", c.Title(), c.Server())
		}
		if c.StartedBy() != c {
			t.Errorf("deployed component %s is started by %s, not by its own service", c.Title(), c.StartedBy().Title())
		}
	}
	for _, c := range Components() {
		if s := c.StartedBy(); s.StartedBy() != s {
			t.Errorf("%s is started by %s, which is started by %s", c.Title(), s.Title(), s.StartedBy().Title())
		}
		if c.Title() == string(c) {
			t.Errorf("component %q has no full name", c)
		}
	}
}

// Every server but the internal one answers on a row; the internal one groups
// the components without a public port.
func TestEveryServerButInternalServesARow(t *testing.T) {
	for _, s := range Servers() {
		if s != ServerInternal && len(ServedBy(s)) == 0 {
			t.Errorf("server %q serves no row", s)
		}
	}
	if len(ServedBy(ServerInternal)) != 0 {
		t.Errorf("the internal server serves %v; its components have no public port", ServedBy(ServerInternal))
	}
}
