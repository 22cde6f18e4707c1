package certsync_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/imageref"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/proxy"
)

// The image of proxy TLS mode (internal/run/certsync/Dockerfile) runs the same nginx as the
// stock image of the other mode, and every base image is pinned.
func TestDockerfileRunsImage(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	froms := regexp.MustCompile(`(?m)^FROM\s+(?:--platform=\S+\s+)?(\S+)`).FindAllStringSubmatch(string(data), -1)
	if len(froms) < 2 {
		t.Fatalf("Dockerfile has %d FROM lines, want a builder and the runtime image", len(froms))
	}
	for _, f := range froms {
		if problem := imageref.Check(f[1]); problem != imageref.None {
			t.Errorf("base image %s %s", f[1], problem.Reason())
		}
	}
	if last := froms[len(froms)-1][1]; last != proxy.Image {
		t.Errorf("the runtime image is %s, want proxy.Image %s", last, proxy.Image)
	}
	if !strings.Contains(string(data), "go build") || !strings.Contains(string(data), "./internal/run/cmd/certsync") {
		t.Error("Dockerfile does not build certsync")
	}
}
