package test

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The images the app builds (the Certbot task's and the proxy's of proxy TLS
// mode) are container assets: the CDK stages a filtered copy of the module
// (the construct's Exclude list) as the build context, and the Dockerfile's
// build stage copies parts of it (COPY). Nothing here can run docker, so this
// test does what the build stage does with every staged container asset of
// the synthesis: copy what the Dockerfile copies, out of the staged context,
// and load every package the Dockerfile's `go build` lines build. A package
// that the Exclude list or a COPY line leaves out fails the image build at
// deploy time; here it fails the test.
func TestContainerAssetsBuildFromTheirContext(t *testing.T) {
	a := synthOnce(t, proxyOn())
	copyLine := regexp.MustCompile(`(?m)^COPY\s+(.+)$`)
	buildTarget := regexp.MustCompile(`go build [^\n]*?(\./\S+)`)
	assets := map[string]string{} // staged folder -> Dockerfile
	for _, img := range containerAssets(t, a) {
		assets[filepath.Join(a.Dir, img.Directory)] = img.DockerFile
	}
	if len(assets) < 2 {
		t.Fatalf("%d container assets in proxy TLS mode, want the Certbot and the proxy image", len(assets))
	}
	for dir, dockerfile := range assets {
		text, err := os.ReadFile(filepath.Join(dir, dockerfile))
		if err != nil {
			t.Fatalf("the staged context %s lacks its own Dockerfile %s: %v", dir, dockerfile, err)
		}
		stage := t.TempDir()
		for _, m := range copyLine.FindAllStringSubmatch(string(text), -1) {
			fields := strings.Fields(m[1])
			if strings.HasPrefix(fields[0], "--from") {
				continue
			}
			dst := fields[len(fields)-1]
			for _, src := range fields[:len(fields)-1] {
				target := filepath.Join(stage, dst)
				if !strings.HasSuffix(dst, "/") || dst == "./" {
					target = filepath.Join(stage, dst, filepath.Base(src))
				}
				if strings.HasSuffix(src, "/") {
					target = filepath.Join(stage, dst)
				}
				if err := copyTree(filepath.Join(dir, src), target); err != nil {
					t.Errorf("%s: COPY %s: %v (is it excluded from the container asset?)", dockerfile, src, err)
				}
			}
		}
		var targets []string
		for _, m := range buildTarget.FindAllStringSubmatch(string(text), -1) {
			targets = append(targets, m[1])
		}
		if len(targets) == 0 {
			t.Fatalf("%s builds no Go program", dockerfile)
		}
		cmd := exec.Command("go", append([]string{"list", "-deps"}, targets...)...)
		cmd.Dir = stage
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0", "GOWORK=off")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if _, err := cmd.Output(); err != nil {
			t.Errorf("%s: the build stage cannot load %s from what it copies out of the staged context: %v\n%s", dockerfile, strings.Join(targets, " "), err, stderr.String())
		}
	}
}

// copyTree copies a file, or a folder with everything in it, to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
}

// containerAsset is one entry of the dockerImages of a stack's *.assets.json:
// what the CDK CLI builds (staged folder, Dockerfile, platform).
type containerAsset struct {
	Directory  string `json:"directory"`
	DockerFile string `json:"dockerFile"`
	Platform   string `json:"platform"`
}

// containerAssets returns every container image asset of the assembly.
func containerAssets(t *testing.T, a *Assembly) []containerAsset {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(a.Dir, "*.assets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []containerAsset
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			DockerImages map[string]struct {
				Source containerAsset `json:"source"`
			} `json:"dockerImages"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, img := range m.DockerImages {
			out = append(out, img.Source)
		}
	}
	return out
}
