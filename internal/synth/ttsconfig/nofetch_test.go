package ttsconfig

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// ttsBinary returns the ttn-lw-stack of TTS_BINARY (or PATH); without one the
// test skips, except under CI=true.
func ttsBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("TTS_BINARY")
	if bin == "" {
		bin, _ = exec.LookPath("ttn-lw-stack")
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no ttn-lw-stack binary: set TTS_BINARY")
		}
		t.Skip("SKIPPED: no ttn-lw-stack binary (set TTS_BINARY)")
	}
	return bin
}

// effectiveConfig runs `ttn-lw-stack config` with a component's settings in
// the environment, as its task gets them (references and secrets stand-ins),
// and returns every key with the value the component runs with.
func effectiveConfig(t *testing.T, bin string, settings []Setting) map[string]string {
	t.Helper()
	env := []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	for _, s := range settings {
		v := s.Value
		switch {
		case s.Ref != "":
			v = "stand-in-" + string(s.Ref)
		case s.Secret != "":
			v = "00112233445566778899aabbccddeeff" // hex, as the cookie keys must be
		}
		env = append(env, s.Env()+"="+v)
	}
	cmd := exec.Command(bin, "config")
	cmd.Dir = t.TempDir()
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ttn-lw-stack config: %v: %s", err, out)
	}
	re := regexp.MustCompile(`--([a-z0-9.-]+)="(.*)"\s*$`)
	got := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			got[m[1]] = m[2]
		}
	}
	if len(got) < 100 {
		t.Fatalf("ttn-lw-stack config printed %d keys", len(got))
	}
	return got
}

// No component of the deployment fetches from GitHub at run time: with each
// component's configuration applied to The Things Stack's own defaults (the
// binary's `config`), every key whose value still points at GitHub is unused
// because its source is the image, or is a URL The Things Stack hands to
// browsers and never fetches itself. The image's folders are what the
// components read, and no component checks for a new release at start.
func TestNothingIsFetchedFromGitHub(t *testing.T) {
	bin := ttsBinary(t)
	plan, err := New(inputs())
	if err != nil {
		t.Fatal(err)
	}
	// Why a GitHub URL may remain, by key; the condition must hold.
	unused := map[string]func(map[string]string) bool{
		// Read from the directory source, never from the URL
		// (FrequencyPlansConfig.Fetcher).
		"frequency-plans.url": func(c map[string]string) bool {
			return c["frequency-plans.config-source"] == "directory" && c["frequency-plans.directory"] == ImageFrequencyPlansDir
		},
		// Prefixed to picture paths in the Device Repository's answers
		// (devicerepository grpc.go); browsers load them.
		"dr.assets-base-url": func(map[string]string) bool { return true },
	}
	for _, c := range ports.Deployed() {
		conf := effectiveConfig(t, bin, plan.Settings(c))
		for key, value := range conf {
			if !strings.Contains(value, "github.com") && !strings.Contains(value, "githubusercontent.com") {
				continue
			}
			// A key of another component's section (as.webhooks...) is
			// read only by that component.
			if section, _, _ := strings.Cut(key, "."); slices.Contains(ports.Components(), ports.Component(section)) && ports.Component(section).StartedBy() != c {
				continue
			}
			if ok, known := unused[key]; !known || !ok(conf) {
				t.Errorf("%s: %s = %q is a GitHub URL in effect; read the image's copy instead (ttsconfig.Image*Dir), or empty the URL", c, key, value)
			}
		}
		if conf["skip-version-check"] != "true" {
			t.Errorf("%s: skip-version-check = %q; the component would ask thethingsindustries.com for a new release at every start", c, conf["skip-version-check"])
		}
		if c == ports.ApplicationServer && (conf["as.webhooks.templates.directory"] != ImageWebhookTemplatesDir || conf["as.webhooks.templates.url"] != "") {
			t.Errorf("as: webhook templates from %q and %q, want the image's folder only", conf["as.webhooks.templates.directory"], conf["as.webhooks.templates.url"])
		}
		if c == ports.DeviceRepository && conf["dr.store.bleve.search-paths"] != ImageDeviceIndexDir {
			t.Errorf("dr: index searched in %q, want only the image's %s", conf["dr.store.bleve.search-paths"], ImageDeviceIndexDir)
		}
	}
}
