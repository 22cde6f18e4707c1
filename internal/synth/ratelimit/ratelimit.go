// Package ratelimit is the rate limiting of The Things Stack in this
// deployment: the profile set every component enforces (TTS pkg/ratelimit),
// its defaults, the strict reader of an operator's override file, and the
// rate-limiting.yml that the components read at start.
//
// The Things Stack reads profiles from `rate-limiting.profiles` (a list, which
// only its configuration file can hold, not the environment) and from a
// rate-limiting.yml found through `rate-limiting.config-source`. Here the file
// is deployed beside the interop repository in its bucket and read with the
// blob source, so the environment stays the only configuration of a task.
//
// The Things Stack reads the file with yaml.v2 into
// []config.RateLimitingProfile: an unknown key is ignored, a profile without
// associations is skipped, and of two profiles naming the same class the last
// one wins, all silently; a rate of 0 stops the component at start. Load
// refuses all of these with the file and line.
package ratelimit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// FileName is the file The Things Stack fetches from its source
// (pkg/ratelimit New: fetcher.File("rate-limiting.yml")).
const FileName = "rate-limiting.yml"

// Profile is one rate limiting profile (TTS config.RateLimitingProfile).
type Profile struct {
	// Name describes the profile; it is not a class.
	Name string `yaml:"name"`
	// MaxPerMin is the sustained rate per resource key, per minute.
	MaxPerMin uint `yaml:"max-per-min"`
	// MaxBurst is how many accesses a key may make at once; 0 means
	// MaxPerMin.
	MaxBurst uint `yaml:"max-burst,omitempty"`
	// Associations are the rate limiting classes the profile applies to.
	Associations []string `yaml:"associations"`
}

// Defaults is the profile set of a deployment without a RateLimitingFile.
//
// Derived from the example of The Things Stack's documentation ("Rate
// Limiting", The Things Stack Enterprise > Manage), with these differences:
//
//   - The documentation's downlink methods are misspelt
//     (/ttn.v3.lorawan.v3.AppAs/...); these are the real ones.
//   - The classes whose key is the client's IP address are left out or
//     raised: the Network Load Balancer does not pass client addresses to
//     the tasks (TCP target groups without client IP preservation, no PROXY
//     protocol), so every client behind one load balancer node shares one
//     key. gs:accept:mqtt (5 per minute in the example) would admit 5
//     gateways per minute across the whole network after a Gateway Server
//     restart; it is left out. The HTTP classes (account login, OAuth,
//     Backend Interfaces, Gateway Configuration Server) key unauthenticated
//     requests by address and URL path: "http" is 600 per minute instead of
//     30 and the login 60 instead of 10, and Backend Interfaces, where Packet
//     Broker asks the Identity Server for home networks without a token of
//     The Things Stack, get their own 3000.
//   - Every other limit is the documentation's: keys of gRPC methods and
//     streams name the caller's token and the entity, so they are per
//     client; calls between the components (cluster authentication) are
//     never limited.
func Defaults() []Profile {
	return []Profile{
		{Name: "HTTP servers", MaxPerMin: 600, Associations: []string{"http"}},
		{Name: "User login", MaxPerMin: 60, Associations: []string{"http:account"}},
		{Name: "Backend Interfaces", MaxPerMin: 3000, Associations: []string{"http:interop"}},
		{Name: "Create new users", MaxPerMin: 10, Associations: []string{"grpc:method:/ttn.lorawan.v3.UserRegistry/Create"}},
		{Name: "Application downlink traffic", MaxPerMin: 10, Associations: []string{
			"as:down:web", "as:down:mqtt",
			"grpc:method:/ttn.lorawan.v3.AppAs/DownlinkQueuePush", "grpc:method:/ttn.lorawan.v3.AppAs/DownlinkQueueReplace",
		}},
		{Name: "Gateway connections", MaxPerMin: 5, Associations: []string{
			"gs:accept:semtechws/lbslns", "grpc:stream:accept:/ttn.lorawan.v3.GtwGs/LinkGateway",
		}},
		{Name: "gRPC API", MaxPerMin: 60, Associations: []string{"grpc:method", "grpc:stream:accept"}},
		{Name: "Override rate for uplink simulation", MaxPerMin: 5, Associations: []string{"grpc:method:/ttn.lorawan.v3.AppAs/SimulateUplink"}},
		{Name: "Gateway uplink traffic", MaxPerMin: 1000, MaxBurst: 1500, Associations: []string{"gs:up"}},
	}
}

// Render returns the rate-limiting.yml of a profile set.
func Render(profiles []Profile) []byte {
	var b bytes.Buffer
	b.WriteString("# The rate limiting profiles of every component (rate-limiting.config-source: blob).\n")
	b.WriteString("# Generated at synth; edit the parameters' RateLimitingFile instead.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if profiles == nil {
		profiles = []Profile{}
	}
	if err := enc.Encode(struct {
		Profiles []Profile `yaml:"profiles"`
	}{profiles}); err != nil {
		// Encoding plain structs of strings and integers cannot fail.
		panic(fmt.Sprintf("ratelimit: %v", err))
	}
	_ = enc.Close()
	return b.Bytes()
}

// Digest summarises a rendered file, for the task definitions of the
// components, which read it only at start.
func Digest(rendered []byte) string {
	sum := sha256.Sum256(rendered)
	return hex.EncodeToString(sum[:])[:16]
}

// Summary is one line per profile, for messages and the README.
func Summary(profiles []Profile) string {
	var lines []string
	for _, p := range profiles {
		burst := ""
		if p.MaxBurst != 0 {
			burst = fmt.Sprintf(" (burst %d)", p.MaxBurst)
		}
		lines = append(lines, fmt.Sprintf("%s: %d per minute%s: %s", p.Name, p.MaxPerMin, burst, strings.Join(p.Associations, ", ")))
	}
	return strings.Join(lines, "\n")
}
