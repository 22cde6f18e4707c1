package params

import (
	"testing"
	"testing/fstest"

	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ratelimit"
)

func TestRateLimitingFileReplacesTheDefaults(t *testing.T) {
	p, _ := load(t, good, nil)
	if got := p.RateLimitingProfiles(); len(got) != len(ratelimit.Defaults()) {
		t.Errorf("without RateLimitingFile: %d profiles, want the %d defaults", len(got), len(ratelimit.Defaults()))
	}
	p, problems := loadFS(t, good+"RateLimitingFile: rl/limits.yml\n", fstest.MapFS{"rl/limits.yml": {Data: []byte(
		"profiles:\n  - name: gRPC\n    max-per-min: 120\n    associations: [grpc:method]\n")}})
	if p == nil {
		t.Fatalf("rejected:\n%v", problems)
	}
	if got := p.RateLimitingProfiles(); len(got) != 1 || got[0].MaxPerMin != 120 {
		t.Errorf("profiles %+v, want the file's one profile", got)
	}
	p, problems = loadFS(t, good+"RateLimitingFile: off.yml\n", fstest.MapFS{"off.yml": {Data: []byte("profiles: []\n")}})
	if p == nil || len(p.RateLimitingProfiles()) != 0 {
		t.Errorf("profiles: [] gives %v (%v), want none: rate limiting off", p, problems)
	}
}

func TestBadRateLimitingFiles(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		files       fstest.MapFS
		code, file  string
		line        int
	}{
		{"outside", "../limits.yml", fstest.MapFS{}, "params.rate-limiting-path", "params/test.yaml", 0},
		{"missing", "limits.yml", fstest.MapFS{}, "params.rate-limiting-unreadable", "params/test.yaml", 0},
		{"unknown key", "limits.yml", fstest.MapFS{"limits.yml": {Data: []byte("profiles:\n  - name: a\n    max-per-min: 5\n    max-burts: 9\n    associations: [http]\n")}},
			"ratelimit.unknown-key", "params/limits.yml", 4},
		{"bad class", "limits.yml", fstest.MapFS{"limits.yml": {Data: []byte("profiles:\n  - name: a\n    max-per-min: 5\n    associations: [htp]\n")}},
			"ratelimit.unknown-class", "params/limits.yml", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, problems := loadFS(t, good+"RateLimitingFile: "+tc.value+"\n", tc.files)
			if p != nil {
				t.Errorf("accepted")
			}
			for _, d := range problems {
				if d.Code == tc.code && d.File == tc.file && (tc.line == 0 || d.Line == tc.line) {
					return
				}
			}
			t.Errorf("no %s in %s:%d among\n%v", tc.code, tc.file, tc.line, problems)
		})
	}
}
