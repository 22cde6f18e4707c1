package ttsconfig

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

func TestEnvName(t *testing.T) {
	for _, tc := range []struct {
		key, want string
	}{
		{"interop.public-tls-address", "TTN_LW_INTEROP_PUBLIC_TLS_ADDRESS"},
		{"gs.basic-station.listen-tls", "TTN_LW_GS_BASIC_STATION_LISTEN_TLS"},
		{"console.ui.is.base-url", "TTN_LW_CONSOLE_UI_IS_BASE_URL"},
		{"is.oauth.ui.canonical-url", "TTN_LW_IS_OAUTH_UI_CANONICAL_URL"},
		{"ns.interop.blob.bucket", "TTN_LW_NS_INTEROP_BLOB_BUCKET"},
		{"skip-version-check", "TTN_LW_SKIP_VERSION_CHECK"},
	} {
		if got := EnvName(tc.key); got != tc.want {
			t.Errorf("EnvName(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

// requestedKeys are the keys named in the task that must be known.
var requestedKeys = []string{
	"interop.public-tls-address", "is.database-uri",
	"ns.interop.config-source", "ns.interop.blob.bucket", "ns.interop.blob.path",
	"as.interop.config-source",
	"is.network.net-id", "is.network.tenant-id", "is.network.ns-id",
	"interop.packet-broker.enabled", "interop.packet-broker.token-issuer",
	"interop.listen", "interop.listen-tls",
	"cluster.keys", "cluster.identity-server",
	"redis.address", "redis.password", "redis.tls.require",
	"blob.provider", "blob.aws.region",
	"http.cookie.block-key", "http.cookie.hash-key",
	"grpc.listen-tls", "http.listen-tls",
	"gs.mqtt.listen-tls", "gs.mqtt-v2.listen-tls", "gs.basic-station.listen-tls", "as.mqtt.listen-tls",
	"console.oauth.client-id", "console.oauth.client-secret", "console.ui.is.base-url",
	"is.oauth.ui.canonical-url", "is.admin-rights.all",
	"ns.net-id", "ns.cluster-id", "ns.interop.id",
	"events.backend", "tls.source",
}

func TestCheckAcceptsKnownKeys(t *testing.T) {
	if err := Check(requestedKeys...); err != nil {
		t.Fatalf("Check(requested keys) = %v, want nil", err)
	}
	if err := Check(knownKeyList()...); err != nil {
		t.Fatalf("Check(every known key) = %v, want nil", err)
	}
	if err := Check(); err != nil {
		t.Fatalf("Check() = %v, want nil", err)
	}
}

func TestRequestedPrefixesHaveKeys(t *testing.T) {
	keys := knownKeyList()
	for _, prefix := range []string{"console.ui.", "is.oauth.ui.", "is.email.", "is.admin-rights.", "frequency-plans."} {
		found := false
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no known key starts with %q", prefix)
		}
	}
}

func TestCheckRejectsMisspelling(t *testing.T) {
	err := Check("ns.interop.config-source", "ns.interop.confg-source", "interop.public_tls_address")
	got := diag.FromError(err)
	if len(got) != 2 {
		t.Fatalf("Check(misspelt) = %v, want 2 unknown keys", err)
	}
	for i, want := range []struct{ key, suggestion string }{
		{"ns.interop.confg-source", "ns.interop.config-source"},
		{"interop.public_tls_address", "interop.public-tls-address"},
	} {
		if got[i].Code != "ttsconfig.unknown-key" || got[i].Path != want.key || !suggests(got[i], want.suggestion) {
			t.Errorf("unknown[%d] = %s, want ttsconfig.unknown-key for %s suggesting %s", i, got[i], want.key, want.suggestion)
		}
	}
}

func TestCheckExplainsUnavailableKeys(t *testing.T) {
	err := Check("ns.pagination.default-limit", "redis.readonly.address")
	got := diag.FromError(err)
	if len(got) != 2 || got[0].Code != "ttsconfig.unavailable-key" || got[1].Code != "ttsconfig.unavailable-key" {
		t.Fatalf("Check(unavailable) = %v, want 2 unavailable keys", err)
	}
	if r := got[0].Message; !strings.Contains(r, "v3.34.0") {
		t.Errorf("reason for ns.pagination.default-limit = %q, want mention of v3.34.0", r)
	}
	if r := got[1].Message; !strings.Contains(r, "Enterprise") {
		t.Errorf("reason for redis.readonly.address = %q, want mention of Enterprise", r)
	}
}

func TestNoDuplicates(t *testing.T) {
	seen := make(map[string]bool)
	for _, e := range keyEntries() {
		if seen[e.key] {
			t.Errorf("duplicate key %q", e.key)
		}
		seen[e.key] = true
	}
	if len(KnownKeys()) != len(keyEntries()) {
		t.Errorf("KnownKeys has %d keys, table has %d entries", len(KnownKeys()), len(keyEntries()))
	}
}

func TestEnvNamesAreUnique(t *testing.T) {
	byEnv := make(map[string]string)
	for _, k := range knownKeyList() {
		n := EnvName(k)
		if other, ok := byEnv[n]; ok {
			t.Errorf("keys %q and %q share the environment variable %s", other, k, n)
		}
		byEnv[n] = k
	}
}

var wellFormed = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)*$`)

func TestKeysAreWellFormed(t *testing.T) {
	for k, info := range KnownKeys() {
		if k != strings.ToLower(k) {
			t.Errorf("key %q is not lower case", k)
		}
		if !wellFormed.MatchString(k) {
			t.Errorf("key %q is not well formed", k)
		}
		if info.Kind < KindString || info.Kind > KindFileOnly {
			t.Errorf("key %q has invalid kind %d", k, info.Kind)
		}
		if info.Source.Repo == "" || info.Source.Path == "" || info.Source.Version == "" {
			t.Errorf("key %q has incomplete source %+v", k, info.Source)
		}
		if info.Source.Commit != "" && len(info.Source.Commit) != 40 {
			t.Errorf("key %q has malformed commit %q", k, info.Source.Commit)
		}
	}
}

func TestUnavailableKeysAreNotKnown(t *testing.T) {
	known := KnownKeys()
	for k := range unavailableKeys() {
		if _, ok := known[k]; ok {
			t.Errorf("key %q is both known and listed as unavailable", k)
		}
	}
	for k := range known {
		for p := range unavailablePrefixes() {
			if strings.HasPrefix(k, p) {
				t.Errorf("key %q is known but has the unavailable prefix %q", k, p)
			}
		}
	}
	err := Check("as.packages.storage.provider")
	if got := diag.FromError(err); len(got) != 1 || got[0].Code != "ttsconfig.unavailable-key" || !strings.Contains(got[0].Message, "Enterprise") {
		t.Errorf("Check(as.packages.storage.provider) = %v, want an Enterprise-only reason", err)
	}
}

func TestKnownKeysReturnsFreshMap(t *testing.T) {
	m := KnownKeys()
	delete(m, "is.database-uri")
	if _, ok := KnownKeys()["is.database-uri"]; !ok {
		t.Error("modifying the result of KnownKeys changed later results")
	}
}

func TestKindString(t *testing.T) {
	for k := KindString; k <= KindFileOnly; k++ {
		if k.String() == "unknown" {
			t.Errorf("Kind(%d).String() = unknown", k)
		}
	}
	if Kind(0).String() != "unknown" {
		t.Error("Kind(0).String() is not unknown")
	}
}

// suggests tells whether the diagnostic of an unknown key names the known
// key as its "did you mean" hint.
func suggests(d diag.Diagnostic, known string) bool {
	return strings.HasSuffix(d.Message, fmt.Sprintf("did you mean %q?", known))
}

// knownKeyList returns the known keys in lexical order.
func knownKeyList() []string {
	var out []string
	for k := range KnownKeys() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
