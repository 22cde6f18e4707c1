package prdiff

import "testing"

func TestPrintMainFlips(t *testing.T) {
	for _, flip := range [][2]string{{"example", "proxytls-on"}, {"proxytls-on", "example"}, {"example", "interop-off"}, {"interop-off", "example"}, {"example", "example"}} {
		r := CheckAvailability(mainAssembly(t, flip[0]), mainAssembly(t, flip[1]))
		t.Logf("=== %s -> %s", flip[0], flip[1])
		for _, i := range r.Issues {
			t.Logf("[%s] %s", i.Rule, i)
		}
	}
}
