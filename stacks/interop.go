package stacks

import (
	"path"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/interop"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// LoadInterop loads and checks the interop repository that the parameters
// name (InteropRepository, relative to the parameter file), as of now. It
// returns nil and no problems when the parameters name none. Problems name
// files as the operator sees them, e.g. params/example-interop/tti/ns.yml.
func LoadInterop(p *params.Params, now time.Time) (*interop.Repository, diag.List) {
	if p.InteropRepository == "" {
		return nil, nil
	}
	src := p.Source()
	dir := path.Join(src.Dir, p.InteropRepository)
	opts := interop.Options{Now: now}
	if p.NSID != "" {
		if id, err := interop.ParseEUI64(p.NSID); err == nil {
			opts.NSInteropID = &id
		}
	}
	repo, problems := interop.LoadWithOptions(src.FS, dir, opts)
	shown := path.Join(path.Dir(src.File), p.InteropRepository)
	for i := range problems {
		problems[i].File = path.Join(shown, problems[i].File)
	}
	return repo, problems
}
