package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The images the app builds (the Certbot task's and the proxy's of proxy TLS
// mode) copy only parts of the module into their build stage. Nothing here can
// run docker, so this test does what the build stage does: every package of
// the module that the programs built in a Dockerfile import must lie in a
// folder the Dockerfile copies, or the image build fails at deploy time.
func TestDockerfilesCopyEveryPackageTheyBuild(t *testing.T) {
	copyLine := regexp.MustCompile(`(?m)^COPY\s+(?:--chown=\S+\s+)?(.+)$`)
	buildTarget := regexp.MustCompile(`go build [^\n]*?(\./\S+)`)
	module := strings.TrimSpace(runInModule(t, "go", "list", "-m"))
	dockerfiles := []string{filepath.Join("certbot", "Dockerfile"), filepath.Join("internal", "run", "certsync", "Dockerfile")}
	for _, df := range dockerfiles {
		data, err := os.ReadFile(filepath.Join("..", df))
		if err != nil {
			t.Fatal(err)
		}
		var copied []string
		for _, m := range copyLine.FindAllStringSubmatch(string(data), -1) {
			if strings.HasPrefix(m[1], "--from") {
				continue
			}
			fields := strings.Fields(m[1])
			for _, src := range fields[:len(fields)-1] {
				copied = append(copied, strings.TrimSuffix(src, "/"))
			}
		}
		var targets []string
		for _, m := range buildTarget.FindAllStringSubmatch(string(data), -1) {
			targets = append(targets, m[1])
		}
		if len(targets) == 0 {
			t.Fatalf("%s builds no Go program", df)
		}
		deps := runInModule(t, "go", append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, targets...)...)
		for _, pkg := range strings.Fields(deps) {
			rel, ok := strings.CutPrefix(pkg, module+"/")
			if !ok {
				continue
			}
			covered := false
			for _, c := range copied {
				if rel == c || strings.HasPrefix(rel, c+"/") {
					covered = true
				}
			}
			if !covered {
				t.Errorf("%s builds %s, which imports %s, but copies only %v into the build stage: add COPY %s/ %s/", df, strings.Join(targets, " "), pkg, copied, rel, rel)
			}
		}
	}
}

func runInModule(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}
