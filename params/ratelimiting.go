package params

import (
	"io/fs"
	"path"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ratelimit"
)

// MaxRateLimitingBytes bounds RateLimitingFile: it is deployed with the
// interop repository, whose files travel in one custom resource's
// properties (interoprepo.MaxBytes in all).
const MaxRateLimitingBytes = 16 * 1024

// checkRateLimiting loads and checks RateLimitingFile, reporting its
// problems at their line in that file.
func (l *loader) checkRateLimiting() {
	p := l.params
	file := p.RateLimitingFile
	if file == "" {
		return
	}
	clean := path.Clean(file)
	if path.IsAbs(file) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(file, `\`) {
		l.errorf("params.rate-limiting-path", "RateLimitingFile", "%q must be a file below the parameter file's folder, written with '/' (e.g. prod-rate-limiting.yml)", file)
		return
	}
	src := p.source
	shown := path.Join(path.Dir(src.File), clean)
	if src.FS == nil {
		l.errorf("params.rate-limiting-unreadable", "RateLimitingFile", "%s cannot be read: the parameters were not loaded from a folder", shown)
		return
	}
	data, err := fs.ReadFile(src.FS, path.Join(src.Dir, clean))
	if err != nil {
		l.errorf("params.rate-limiting-unreadable", "RateLimitingFile", "cannot read %s (%v); write the profiles there, or correct the path (it is relative to the parameter file)", shown, err)
		return
	}
	if len(data) > MaxRateLimitingBytes {
		l.errorf("params.rate-limiting-too-large", "RateLimitingFile", "%s holds %d bytes, more than %d; it is deployed with the interop repository in one custom resource", shown, len(data), MaxRateLimitingBytes)
		return
	}
	profiles, probs := ratelimit.Load(shown, data)
	l.problems.Add(probs...)
	if probs.HasErrors() {
		return
	}
	p.rateLimiting = profiles
}
