// Package imageref is the one rule for container image references: every
// image a task runs has a pinned tag or digest, never none and never latest,
// because ECS pulls a moving tag again for every task and tasks would run
// different versions.
package imageref

import (
	"regexp"
	"strings"
)

// reference is a Docker image reference: repository, optional tag, optional
// sha256 digest.
var reference = regexp.MustCompile(`^[a-z0-9]+(?:[._/:-][a-z0-9]+)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$`)

// Problem is what is wrong with an image reference.
type Problem int

// Problems. None is the zero value.
const (
	None Problem = iota
	// Malformed: not an image reference at all.
	Malformed
	// Untagged: no tag and no digest, which means latest.
	Untagged
	// Latest: the moving tag latest.
	Latest
)

// Reason says what is wrong in words that end a message about ref.
func (p Problem) Reason() string {
	switch p {
	case Malformed:
		return "is not an image reference"
	case Untagged:
		return "has no tag, which means latest"
	case Latest:
		return "uses the moving tag latest: ECS pulls it again for every task, so tasks would run different versions"
	}
	return ""
}

// Check returns what is wrong with ref, None when it is pinned.
func Check(ref string) Problem {
	switch tag := Tag(ref); {
	case !reference.MatchString(ref):
		return Malformed
	case tag == "":
		return Untagged
	case tag == "latest":
		return Latest
	}
	return None
}

// Tag returns the tag of ref, or its digest when it has one, and "" when it
// has neither.
func Tag(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		return ref[i+1:]
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		return ref[i+1:]
	}
	return ""
}
