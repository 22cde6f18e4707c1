package rehearse

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// An image that `cdk deploy` builds (a container asset) cannot be built here
// (no container engine). What it adds to its base image are Go programs of
// this project; the rehearsal builds them from the asset's own staged build
// context, with the command of the Dockerfile, and runs them from the path the
// Dockerfile copies them to.

var (
	goBuildLine = regexp.MustCompile(`go build\b.*?-o\s+(\S+)\s+(\./\S+)`)
	copyFrom    = regexp.MustCompile(`(?m)^COPY\s+--from=\S+\s+(\S+)\s+(\S+)\s*$`)
)

// dockerAsset is one entry of a stack's *.assets.json dockerImages.
type dockerAsset struct {
	Source struct {
		Directory  string `json:"directory"`
		DockerFile string `json:"dockerFile"`
	} `json:"source"`
}

// assetPrograms returns, for a container image that is a container asset of
// the assembly (its tag is the asset's hash), the programs its Dockerfile
// builds, by the absolute path they have in the image, built for this host.
// It returns nil for any other image.
func (r *run) assetPrograms(ctx context.Context, image string) (map[string]string, error) {
	i := strings.LastIndex(image, ":")
	if i < 0 || !strings.Contains(image, "container-assets") {
		return nil, nil
	}
	hash := image[i+1:]
	if built, ok := r.assetBins[hash]; ok {
		return built, nil
	}
	asset, err := r.findDockerAsset(hash)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(r.a.Dir, asset.Source.Directory)
	dockerfile := asset.Source.DockerFile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	text, err := os.ReadFile(filepath.Join(dir, dockerfile))
	if err != nil {
		return nil, fmt.Errorf("image asset %s: %w", hash, err)
	}
	outputs := map[string]string{} // path in the build stage → local binary
	for _, m := range goBuildLine.FindAllStringSubmatch(string(text), -1) {
		local := filepath.Join(r.binDir, "asset-"+hash[:12], filepath.Base(m[1]))
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", local, m[2])
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("image asset %s: go build %s in its build context: %v: %s", hash, m[2], err, lastLines(string(out), 10))
		}
		outputs[m[1]] = local
	}
	built := map[string]string{}
	for _, m := range copyFrom.FindAllStringSubmatch(string(text), -1) {
		if local, ok := outputs[m[1]]; ok {
			built[m[2]] = local
			r.sub("image asset %s (%s): %s is built here from the asset's build context with the local Go toolchain (no container engine); the base image's programs come from this host", hash[:12], dockerfile, m[2])
		}
	}
	if len(built) == 0 {
		return nil, fmt.Errorf("image asset %s (%s) builds no Go program that the rehearsal knows how to build; it cannot run here", hash, dockerfile)
	}
	r.assetBins[hash] = built
	return built, nil
}

func (r *run) findDockerAsset(hash string) (dockerAsset, error) {
	files, _ := filepath.Glob(filepath.Join(r.a.Dir, "*.assets.json"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return dockerAsset{}, err
		}
		var m struct {
			DockerImages map[string]dockerAsset `json:"dockerImages"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return dockerAsset{}, fmt.Errorf("%s: %w", f, err)
		}
		if a, ok := m.DockerImages[hash]; ok {
			return a, nil
		}
	}
	return dockerAsset{}, fmt.Errorf("no container asset %s in the assembly's *.assets.json", hash)
}
