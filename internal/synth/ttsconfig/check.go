package ttsconfig

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// EnvPrefix is the prefix of the environment variables that TTS reads.
const EnvPrefix = "TTN_LW"

// EnvName returns the name of the environment variable that ttn-lw-stack
// reads for the configuration key, such as TTN_LW_INTEROP_PUBLIC_TLS_ADDRESS
// for interop.public-tls-address.
//
// The rule is taken from TheThingsNetwork/lorawan-stack (root.go read at
// commit 05dfbde87b107c2fae105f7a89332b2a677059c7, config.go at
// 01fac1c23db716755d9a8bcd61c0763d2aadbda7; see SOURCES.md):
//   - cmd/ttn-lw-stack/commands/root.go initialises the configuration manager
//     with conf.InitializeWithDefaults(name, "ttn_lw", DefaultConfig, ...),
//     so the prefix is "ttn_lw";
//   - pkg/config/config.go sets the environment key replacer
//     strings.NewReplacer(".", "_", "-", "_") in DefaultOptions, enables
//     viper's SetEnvPrefix, AutomaticEnv and AllowEmptyEnv(true) in
//     Initialize, and defines Manager.EnvironmentForKey as
//     strings.ToUpper(replacer.Replace(envPrefix + "." + key)).
//
// So "." and "-" both become "_", and the result is upper case. Because
// AllowEmptyEnv is set, a variable that is set to the empty string overrides
// the default (for example, an empty TTN_LW_INTEROP_LISTEN_TLS disables that
// listener).
func EnvName(key string) string {
	r := strings.NewReplacer(".", "_", "-", "_")
	return strings.ToUpper(r.Replace(strings.ToLower(EnvPrefix) + "." + key))
}

// unknownKey is a key that Check did not find.
type unknownKey struct {
	// key is the key as given.
	key string
	// suggestion is the closest known key (or environment variable name).
	suggestion string
	// reason explains why a key that appears in documentation is not
	// accepted, such as a key of the commercial editions only or one added
	// after TargetVersion. It is empty for plain misspellings.
	reason string
}

// unknownKeysError returns nil for no unknown keys, and otherwise an error
// that wraps one diagnostic per key (see diag.FromError): code
// ttsconfig.unknown-key for a misspelling, ttsconfig.unavailable-key for a
// key of another edition or release, with the reason and the closest known
// key in the message.
func unknownKeysError(unknown []unknownKey) error {
	var errs diag.List
	for _, u := range unknown {
		code, parts := "ttsconfig.unknown-key", []string{"unknown"}
		if u.reason != "" {
			code, parts = "ttsconfig.unavailable-key", append(parts, u.reason)
		}
		if u.suggestion != "" {
			parts = append(parts, fmt.Sprintf("did you mean %q?", u.suggestion))
		}
		errs.Errorf(code, u.key, "%s", strings.Join(parts, "; "))
	}
	err := errs.Err()
	if err == nil {
		return nil
	}
	noun := "key"
	if len(unknown) != 1 {
		noun = "keys"
	}
	return fmt.Errorf("ttsconfig: %d unknown The Things Stack %s configuration %s:\n%w", len(unknown), TargetVersion, noun, err)
}

// Check reports every key that is not a known ttn-lw-stack configuration key,
// each with the closest known key as a suggestion. It returns nil if all keys
// are known, and otherwise an error with one diagnostic per unknown key
// (see unknownKeysError). Keys are compared exactly:
// TTS keys are lower case.
func Check(keys ...string) error {
	known := KnownKeys()
	candidates := make([]string, 0, len(known))
	for k := range known {
		candidates = append(candidates, k)
	}
	sort.Strings(candidates)
	reasons, prefixReasons := unavailableKeys(), unavailablePrefixes()

	var unknown []unknownKey
	for _, k := range keys {
		if _, ok := known[k]; ok {
			continue
		}
		lower := strings.ToLower(k)
		unknown = append(unknown, unknownKey{
			key:        k,
			suggestion: diag.Closest(lower, candidates, -1),
			reason:     reasonFor(lower, reasons, prefixReasons),
		})
	}
	return unknownKeysError(unknown)
}

// reasonFor returns the reason why key is not accepted, looking it up in the
// exact reasons first and then in the reasons per prefix.
func reasonFor(key string, exact, prefixes map[string]string) string {
	if r, ok := exact[key]; ok {
		return r
	}
	for p, r := range prefixes {
		if strings.HasPrefix(key, p) {
			return r
		}
	}
	return ""
}

// reasonEnterprise is the reason given for keys of the commercial editions.
const reasonEnterprise = "documented for The Things Stack Cloud/Enterprise only; not in the open-source configuration structs"

// unavailablePrefixes returns key prefixes (ending in a dot) of sections
// that exist only in The Things Stack Cloud/Enterprise, with the reason.
func unavailablePrefixes() map[string]string {
	out := make(map[string]string)
	for _, p := range []string{
		"license.", "tenancy.", "key-vault.aws.",
		"redis.readonly.", "cache.redis.readonly.", "events.redis.readonly.",
		"cluster.claim.", "is.tenancy.",
		"as.aws.", "as.packages.storage.", "as.packages.azure-iot-hub.",
	} {
		out[p] = reasonEnterprise
	}
	return out
}

// unavailableKeys returns keys that appear in TTS documentation or in newer
// releases but are not keys of the open-source ttn-lw-stack at
// TargetVersion, with the reason. Whole sections of the commercial editions
// are in unavailablePrefixes instead.
func unavailableKeys() map[string]string {
	const (
		enterprise = reasonEnterprise
		v3340      = "added in v3.34.0 according to the TTS CHANGELOG; not in " + TargetVersion
		v3361      = "added in v3.36.1 according to the TTS CHANGELOG; not in " + TargetVersion
	)
	out := map[string]string{
		"ns.pagination.default-limit": v3340,
		"as.pagination.default-limit": v3340,
		"is.user-login.session-ttl":   v3361,
	}
	for _, k := range []string{
		"cluster.discovery-mode",
		"is.read-database-uri", "is.database-max-idle-conns", "is.database-max-open-conns",
		"is.user-login.disable-credentials-login",
		"ns.switch-peering-tenant-context",
		"pba.cluster-id-template",
	} {
		out[k] = enterprise
	}
	for _, ui := range []string{"is.oauth.ui", "console.ui"} {
		for _, k := range []string{
			"branding-cluster-id", "branding-text", "cluster-picker-url",
			"fair-use-policy-information-url", "sla-applies", "sla-information-url",
			"support-plan-applies", "support-plan-information-url",
		} {
			out[ui+"."+k] = enterprise
		}
	}
	return out
}
