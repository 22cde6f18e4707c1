package imageref

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestCheck(t *testing.T) {
	digest := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, c := range []struct {
		ref  string
		want Problem
		tag  string
	}{
		{"thethingsnetwork/lorawan-stack:3.32.1", None, "3.32.1"},
		{"nginx:1.27.3-alpine", None, "1.27.3-alpine"},
		{"registry.example.com:5000/team/proxy:2", None, "2"},
		{"thethingsnetwork/lorawan-stack@" + digest, None, digest},
		{"thethingsnetwork/lorawan-stack", Untagged, ""},
		{"registry.example.com:5000/team/proxy", Untagged, ""},
		{"nginx:latest", Latest, "latest"},
		{"", Malformed, ""},
		{"Not An Image", Malformed, ""},
	} {
		if got := Check(c.ref); got != c.want {
			t.Errorf("Check(%q) = %v, want %v", c.ref, got, c.want)
		}
		if got := Tag(c.ref); got != c.tag {
			t.Errorf("Tag(%q) = %q, want %q", c.ref, got, c.tag)
		}
		if (Check(c.ref) == None) != (Check(c.ref).Reason() == "") {
			t.Errorf("Reason of %q disagrees with Check", c.ref)
		}
	}
}

// Every image the project builds starts from pinned base images.
func TestDockerfilesPinTheirBaseImages(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	from := regexp.MustCompile(`(?m)^FROM\s+(?:--platform=\S+\s+)?(\S+)`)
	found := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "cdk.out" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != "Dockerfile" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found++
		for _, m := range from.FindAllStringSubmatch(string(data), -1) {
			if problem := Check(m[1]); problem != None {
				t.Errorf("%s: base image %s %s", path, m[1], problem.Reason())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 2 {
		t.Fatalf("found %d Dockerfiles under %s, want the Certbot and proxy images at least", found, root)
	}
}
