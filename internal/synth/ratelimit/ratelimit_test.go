package ratelimit

import (
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v2"
)

// ttsProfile is how The Things Stack v3.32.1 reads a profile of
// rate-limiting.yml (pkg/config RateLimitingProfile, pkg/ratelimit New:
// gopkg.in/yaml.v2 into a `profiles` list).
type ttsProfile struct {
	Name         string   `yaml:"name"`
	MaxPerMin    uint     `yaml:"max-per-min"`
	MaxBurst     uint     `yaml:"max-burst"`
	Associations []string `yaml:"associations"`
}

// The defaults pass our own check, and the rendered file reads back, with
// the decoder The Things Stack uses, as the same profiles.
func TestDefaultsRenderAsTheThingsStackReadsThem(t *testing.T) {
	rendered := Render(Defaults())
	back, probs := Load("rendered", rendered)
	if probs.HasErrors() {
		t.Fatalf("the rendered defaults fail the check:\n%s\n%s", probs, rendered)
	}
	var tts struct {
		Profiles []ttsProfile `yaml:"profiles"`
	}
	if err := yaml.Unmarshal(rendered, &tts); err != nil {
		t.Fatal(err)
	}
	if len(tts.Profiles) != len(Defaults()) || len(back) != len(Defaults()) {
		t.Fatalf("read back %d (TTS) and %d (ours) profiles, want %d", len(tts.Profiles), len(back), len(Defaults()))
	}
	for i, want := range Defaults() {
		got := tts.Profiles[i]
		if got.Name != want.Name || got.MaxPerMin != want.MaxPerMin || got.MaxBurst != want.MaxBurst || !slices.Equal(got.Associations, want.Associations) {
			t.Errorf("profile %d reads back as %+v, want %+v", i, got, want)
		}
	}
	if Digest(rendered) != Digest(Render(Defaults())) || Digest(rendered) == Digest(Render(Defaults()[1:])) {
		t.Error("the digest does not follow the content")
	}
}

func TestLoadRefusesWhatTheThingsStackWouldIgnore(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		code       string
		line       int
	}{
		{"unknown top key", "profile:\n  - name: a\n", "ratelimit.unknown-key", 1},
		{"unknown profile key", "profiles:\n  - name: a\n    max-per-minute: 5\n    associations: [http]\n", "ratelimit.unknown-key", 3},
		{"rate zero", "profiles:\n  - name: a\n    max-per-min: 0\n    associations: [http]\n", "ratelimit.bad-rate", 3},
		{"rate negative", "profiles:\n  - name: a\n    max-per-min: -5\n    associations: [http]\n", "ratelimit.bad-rate", 3},
		{"rate text", "profiles:\n  - name: a\n    max-per-min: lots\n    associations: [http]\n", "ratelimit.wrong-type", 3},
		{"no rate", "profiles:\n  - name: a\n    associations: [http]\n", "ratelimit.missing-rate", 2},
		{"burst float", "profiles:\n  - name: a\n    max-per-min: 5\n    max-burst: 1.5\n    associations: [http]\n", "ratelimit.wrong-type", 4},
		{"no associations", "profiles:\n  - name: a\n    max-per-min: 5\n", "ratelimit.no-associations", 2},
		{"empty associations", "profiles:\n  - name: a\n    max-per-min: 5\n    associations: []\n", "ratelimit.no-associations", 4},
		{"misspelt service", "profiles:\n  - name: a\n    max-per-min: 5\n    associations:\n      - grpc:method:/ttn.v3.lorawan.v3.AppAs/DownlinkQueuePush\n", "ratelimit.unknown-class", 5},
		{"unknown class", "profiles:\n  - name: a\n    max-per-min: 5\n    associations: [grpc:methods]\n", "ratelimit.unknown-class", 4},
		{"class twice", "profiles:\n  - name: a\n    max-per-min: 5\n    associations: [http]\n  - name: b\n    max-per-min: 6\n    associations: [http]\n", "ratelimit.duplicate-class", 7},
		{"name twice", "profiles:\n  - name: a\n    max-per-min: 5\n    associations: [http]\n  - name: a\n    max-per-min: 6\n    associations: [gs:up]\n", "ratelimit.duplicate-name", 5},
		{"syntax", "profiles:\n  - name: a\n   max-per-min: 5\n", "ratelimit.yaml-syntax", 0},
		{"empty", "# nothing\n", "ratelimit.empty-file", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, probs := Load("rl.yml", []byte(tc.text))
			if got != nil {
				t.Errorf("profiles %+v returned with errors", got)
			}
			if !probs.Has(tc.code) {
				t.Fatalf("problems %v, want %s", probs.Codes(), tc.code)
			}
			for _, d := range probs {
				if d.Code == tc.code && d.File == "rl.yml" && (tc.line == 0 || d.Line == tc.line) {
					return
				}
			}
			t.Errorf("no %s at rl.yml:%d in\n%s", tc.code, tc.line, probs)
		})
	}
}

func TestLoadAcceptsSpecificClassesAndOff(t *testing.T) {
	got, probs := Load("rl.yml", []byte(`profiles:
  - name: Downlinks
    max-per-min: 20
    max-burst: 5
    associations:
      - grpc:method:/ttn.lorawan.v3.AppAs/DownlinkQueuePush
      - grpc:stream:accept:/ttn.lorawan.v3.GtwGs/LinkGateway
      - http:account:/oauth/api/auth/login
      - as:down:mqtt
`))
	if probs.HasErrors() || len(got) != 1 || got[0].MaxBurst != 5 || len(got[0].Associations) != 4 {
		t.Fatalf("got %+v, %s", got, probs)
	}
	off, probs := Load("rl.yml", []byte("profiles: []\n"))
	if probs.HasErrors() || off == nil || len(off) != 0 {
		t.Fatalf("profiles: [] gives %#v, %s; want an empty set (rate limiting off)", off, probs)
	}
	if !strings.Contains(string(Render(off)), "profiles: []") {
		t.Errorf("an empty set renders as\n%s", Render(off))
	}
}
