package rehearse

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// deviceRepository is the rehearsal's own device repository, in the layout
// of TheThingsNetwork/lorawan-devices (vendor/index.yaml, one folder per
// vendor with its index.yaml and one file per end device).
//
//go:embed devicerepo
var deviceRepository embed.FS

// DeviceBrand is the vendor of the rehearsal's device repository.
const DeviceBrand = "rehearsal-sensors"

// imageDeviceIndex is the Device Repository's index in the image.
const imageDeviceIndex = "/srv/ttn-lorawan/lorawan-devices-index"

// deviceIndex builds the index that the image has in
// /srv/ttn-lorawan/lorawan-devices-index, which the shared build of the
// binary lacks: the rehearsal's repository is written out and indexed by the
// binary's own `ttn-lw-stack dr-db init`, as the image's index is built from
// lorawan-devices. It returns the folder, built once per rehearsal.
func (r *run) deviceIndex() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := filepath.Join(r.work, "srv", "lorawan-devices-index")
	if r.deviceIndexBuilt {
		return out, nil
	}
	src := filepath.Join(r.work, "lorawan-devices")
	err := fs.WalkDir(deviceRepository, "devicerepo", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(src, strings.TrimPrefix(p, "devicerepo"))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := deviceRepository.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.tts, "dr-db", "init", "--skip-version-check",
		"--dr.source", "directory", "--dr.directory", src, "--dr.store.bleve.search-paths", out)
	cmd.Dir = r.work
	cmd.Env = []string{"HOME=" + r.work, "PATH=/usr/bin:/bin"}
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("ttn-lw-stack dr-db init: %v: %s", err, lastLines(string(b), 5))
	}
	if _, err := os.Stat(filepath.Join(out, "index.bleve")); err != nil {
		return "", fmt.Errorf("ttn-lw-stack dr-db init made no index: %v", err)
	}
	r.deviceIndexBuilt = true
	r.subs = append(r.subs, fmt.Sprintf("image folder %s → %s, built by `ttn-lw-stack dr-db init` from the rehearsal's device repository (vendor %s, one end device)", imageDeviceIndex, out, DeviceBrand))
	return out, nil
}
