package params

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// DefaultEnv is the environment used when no `-c env=NAME` is given. Its file
// is embedded, so that a fresh clone synthesizes with no AWS account.
const DefaultEnv = "example"

// EnvContextKey is the context key that names the environment.
const EnvContextKey = "env"

//go:embed example.yaml example-interop
var embedded embed.FS

// Load parses one parameter file, applies the context overrides (keys that
// start with an upper-case letter), fills defaults and validates. It reports
// every problem at once. The returned list may hold warnings even when the
// parameters are usable; Params is nil when there is any error.
func Load(src Source, data []byte, overrides map[string]any) (*Params, diag.List) {
	l := &loader{file: src.File, params: &Params{source: src}, set: map[string]location{}, now: time.Now()}
	l.decodeFile(data)
	if l.unparsable {
		return nil, l.problems
	}
	l.applyOverrides(overrides)
	l.applyDefaults()
	if !l.problems.HasErrors() {
		l.validate()
	}
	// Report in the order of the file; overrides ("-c Key=value") come first.
	l.problems.Sort()
	if l.problems.HasErrors() {
		return nil, l.problems
	}
	return l.params, l.problems
}

// FromContext loads the environment named by the context key env (default
// DefaultEnv) with the context's parameter overrides. A named environment is
// read from dir/NAME.yaml on disk (dir is the project's params folder); the
// default environment is embedded in the binary.
func FromContext(ctx map[string]any, dir string) (*Params, diag.List) {
	name := DefaultEnv
	if v, ok := ctx[EnvContextKey]; ok {
		s, isString := v.(string)
		if !isString || !regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`).MatchString(s) {
			return nil, diag.List{diag.Errorf("params.bad-env", "env",
				"name an environment file of the params folder without its extension, e.g. -c env=prod for params/prod.yaml").At(fmt.Sprintf("-c env=%v", v), 0, 0)}
		}
		name = s
	}
	if name == DefaultEnv {
		return LoadEmbedded(ctx)
	}
	file := path.Join(dir, name+".yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, diag.List{diag.Errorf("params.env-unreadable", "env",
			"cannot read the parameter file of environment %q (%v); create %s, or pick another environment with -c env=NAME", name, err, file).At(file, 0, 0)}
	}
	return Load(Source{File: file, FS: os.DirFS(dir), Dir: "."}, data, ctx)
}

// LoadEmbedded loads the embedded default environment with overrides.
func LoadEmbedded(overrides map[string]any) (*Params, diag.List) {
	data, err := fs.ReadFile(embedded, DefaultEnv+".yaml")
	if err != nil {
		panic(fmt.Sprintf("params: the embedded %s.yaml is missing: %v", DefaultEnv, err))
	}
	return Load(Source{File: "params/" + DefaultEnv + ".yaml", FS: embedded, Dir: "."}, data, overrides)
}
