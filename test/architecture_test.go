package test

import (
	"testing"
)

func x86() map[string]string { return map[string]string{"CpuArchitecture": "X86_64"} }

// Every task of the deployment runs on CpuArchitecture (ARM64 by default),
// and every image the app builds is built for it: a task whose image lacks
// its platform does not start.
func TestTasksAndBuiltImagesFollowCpuArchitecture(t *testing.T) {
	for _, c := range []struct {
		overrides     map[string]string
		cpu, platform string
	}{
		{proxyOn(), "ARM64", "linux/arm64"},
		{mergeOverrides(proxyOn(), x86()), "X86_64", "linux/amd64"},
	} {
		a := synthOnce(t, c.overrides)
		tasks := 0
		for name, tpl := range a.Templates {
			for id, r := range tpl.OfType("AWS::ECS::TaskDefinition") {
				tasks++
				if got := get(r.Properties, "RuntimePlatform", "CpuArchitecture"); got != c.cpu {
					t.Errorf("%v: %s/%s runs on %v, want %s", c.overrides, name, id, got, c.cpu)
				}
			}
		}
		if tasks < 10 {
			t.Errorf("%v: only %d task definitions", c.overrides, tasks)
		}
		images := 0
		for _, img := range containerAssets(t, a) {
			images++
			if img.Platform != c.platform {
				t.Errorf("%v: image of %s is built for %q, want %s", c.overrides, img.DockerFile, img.Platform, c.platform)
			}
		}
		if images < 2 {
			t.Errorf("%v: %d built images in proxy TLS mode, want the Certbot and the proxy image", c.overrides, images)
		}
	}
}

// mergeOverrides returns the union of parameter overrides; later ones win.
func mergeOverrides(sets ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		for k, v := range s {
			out[k] = v
		}
	}
	return out
}
