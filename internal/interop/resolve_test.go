package interop

import (
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

func mustEUI(t *testing.T, s string) EUI64 {
	t.Helper()
	e, err := ParseEUI64(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// resolverRepo has overlapping prefixes (/0, /24, /32, /64) and a prefix
// served by different files for NS and AS.
func resolverRepo(t *testing.T) *Repository {
	t.Helper()
	files := map[string]string{
		"config.yml": `join-servers:
  - file: 'fallback.yml'
    join-euis: ['0000000000000000/0']
  - file: 'tti-ns.yml'
    components: ['ns']
    join-euis: ['EC656E0000000000/24']
  - file: 'tti-as.yml'
    components: ['as']
    join-euis: ['EC656E0000000000/24']
  - file: 'special.yml'
    join-euis: ['EC656E1200000000/32']
  - file: 'one-device.yml'
    join-euis: ['EC656E1234567890/64']
  - file: 'ns-only.yml'
    components: ['ns']
    join-euis: ['7000000000000000/4']
`,
		"fallback.yml":   "fqdn: 'fallback.example.com'\nprotocol: 'BI1.0'\n",
		"tti-ns.yml":     "fqdn: 'tti.example.com'\nprotocol: 'BI1.1'\nsender-ns-id: '0102030405060708'\n",
		"tti-as.yml":     "fqdn: 'tti.example.com'\nprotocol: 'BI1.1'\n",
		"special.yml":    "fqdn: 'special.example.com'\nprotocol: 'BI1.0'\n",
		"one-device.yml": "fqdn: 'one.example.com'\nprotocol: 'BI1.0'\n",
		"ns-only.yml":    "fqdn: 'ns-only.example.com'\nprotocol: 'BI1.0'\n",
	}
	repo, probs := Load(repoFS(files), ".", testNow)
	if len(probs) != 0 {
		t.Fatalf("resolver repository must be valid:\n%s", dump(probs))
	}
	return repo
}

func TestResolve(t *testing.T) {
	repo := resolverRepo(t)
	cases := []struct {
		comp     ports.Component
		eui      string
		file     string
		prefix   string
		shadowed int
	}{
		{ports.NetworkServer, "EC656E0000001234", "tti-ns.yml", "EC656E0000000000/24", 1},
		{ports.ApplicationServer, "EC656E0000001234", "tti-as.yml", "EC656E0000000000/24", 1},
		{ports.NetworkServer, "EC656E12ABCDEF00", "special.yml", "EC656E1200000000/32", 2},     // /32 beats /24 and /0
		{ports.ApplicationServer, "EC656E12ABCDEF00", "special.yml", "EC656E1200000000/32", 2}, // entry without components serves both
		{ports.NetworkServer, "EC656E1234567890", "one-device.yml", "EC656E1234567890/64", 3},
		{ports.NetworkServer, "EC656E1234567891", "special.yml", "EC656E1200000000/32", 2},
		{ports.NetworkServer, "0016C00000000001", "fallback.yml", "0000000000000000/0", 0},
		{ports.ApplicationServer, "FFFFFFFFFFFFFFFF", "fallback.yml", "0000000000000000/0", 0},
		{ports.NetworkServer, "7123456789ABCDEF", "ns-only.yml", "7000000000000000/4", 1},
		{ports.ApplicationServer, "7123456789ABCDEF", "fallback.yml", "0000000000000000/0", 0}, // ns-only entry ignored by as
	}
	for _, c := range cases {
		res := Resolve(repo, c.comp, mustEUI(t, c.eui))
		if !res.Found() {
			t.Errorf("%s %s: no Join Server, want %s", c.comp, c.eui, c.file)
			continue
		}
		if res.Chosen.Entry.Path != c.file || res.Chosen.Prefix.String() != c.prefix {
			t.Errorf("%s %s: got %s via %s, want %s via %s", c.comp, c.eui, res.Chosen.Entry.Path, res.Chosen.Prefix, c.file, c.prefix)
		}
		if len(res.Shadowed) != c.shadowed || len(res.Ties) != 0 {
			t.Errorf("%s %s: %d shadowed, %d ties; want %d shadowed, no ties", c.comp, c.eui, len(res.Shadowed), len(res.Ties), c.shadowed)
		}
		if js := res.Chosen.JoinServer(); js == nil || js.Path != c.file {
			t.Errorf("%s %s: Join Server not attached to the match", c.comp, c.eui)
		}
	}
}

func TestResolveNoMatch(t *testing.T) {
	files := map[string]string{
		"config.yml": "join-servers:\n  - file: 'ns.yml'\n    components: ['ns']\n    join-euis: ['EC656E0000000000/24']\n",
		"ns.yml":     goodJS,
	}
	repo, probs := Load(repoFS(files), ".", testNow)
	if len(probs) != 0 {
		t.Fatal(dump(probs))
	}
	if res := Resolve(repo, ports.NetworkServer, mustEUI(t, "EC656F0000000000")); res.Found() {
		t.Errorf("EC656F... is outside EC656E/24, got %s", res.Chosen.Entry.Path)
	}
	if res := Resolve(repo, ports.ApplicationServer, mustEUI(t, "EC656E0000000001")); res.Found() {
		t.Errorf("the only entry is ns-only, so as has no Join Server; got %s", res.Chosen.Entry.Path)
	}
	empty, _ := Load(repoFS(map[string]string{"config.yml": EmptyConfig}), ".", testNow)
	if Resolve(empty, ports.NetworkServer, mustEUI(t, "EC656E0000000001")).Found() {
		t.Error("an empty repository resolves nothing")
	}
	if Resolve(nil, ports.NetworkServer, EUI64{}).Found() {
		t.Error("a nil repository resolves nothing")
	}
}

func TestResolveReportsTiesOfInvalidRepository(t *testing.T) {
	files := map[string]string{
		"config.yml": "join-servers:\n  - file: 'a.yml'\n    join-euis: ['EC656E0000000000/24']\n  - file: 'b.yml'\n    join-euis: ['EC656E0000000000/24']\n",
		"a.yml":      goodJS, "b.yml": goodJS,
	}
	repo, probs := Load(repoFS(files), ".", testNow)
	if !probs.HasErrors() {
		t.Fatal("duplicate prefixes must be an error")
	}
	res := Resolve(repo, ports.NetworkServer, mustEUI(t, "EC656E0000000001"))
	if !res.Found() || len(res.Ties) != 1 {
		t.Fatalf("want a match with one tie, got %+v", res)
	}
}
