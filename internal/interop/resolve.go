package interop

import (
	"sort"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// Match is one join-servers entry prefix that matches a JoinEUI.
type Match struct {
	Prefix Prefix
	Entry  *Entry
	// Line is the line of the prefix in config.yml.
	Line int
}

// JoinServer returns the loaded Join Server file of the match (nil if it failed to load).
func (m Match) JoinServer() *JoinServer { return m.Entry.JoinServer }

// Resolution is the answer to "which Join Server does component C contact for
// JoinEUI E". Chosen is nil when no entry matches: TTS then has no Join Server
// for that JoinEUI beyond the cluster-local one, and reports it not registered.
type Resolution struct {
	JoinEUI   EUI64
	Component ports.Component
	Chosen    *Match
	// Ties are other entries with the same most specific prefix. A checked
	// repository has none (they are an error); for /64 prefixes TTS contacts
	// all of them, otherwise it picks one arbitrarily.
	Ties []Match
	// Shadowed are less specific matching prefixes, most specific first.
	Shadowed []Match
}

// Found reports whether a Join Server was found.
func (r Resolution) Found() bool { return r.Chosen != nil }

// Resolve applies TTS's selection: entries whose components exclude c are
// ignored; of the remaining prefixes that match joinEUI, the longest wins.
func Resolve(repo *Repository, c ports.Component, joinEUI EUI64) Resolution {
	res := Resolution{JoinEUI: joinEUI, Component: c}
	if repo == nil {
		return res
	}
	var matches []Match
	for _, e := range repo.Entries {
		if !e.AppliesTo(c) {
			continue
		}
		for i, p := range e.JoinEUIs {
			if p.Matches(joinEUI) {
				matches = append(matches, Match{Prefix: p, Entry: e, Line: e.prefixLines[i]})
			}
		}
	}
	if len(matches) == 0 {
		return res
	}
	// Longest prefix first; file order among equals, which is deterministic
	// here although TTS's own order among equals is not.
	sort.SliceStable(matches, func(i, j int) bool { return matches[i].Prefix.Bits > matches[j].Prefix.Bits })
	best := matches[0]
	res.Chosen = &best
	for _, m := range matches[1:] {
		if m.Prefix.Bits == best.Prefix.Bits {
			res.Ties = append(res.Ties, m)
		} else {
			res.Shadowed = append(res.Shadowed, m)
		}
	}
	return res
}
