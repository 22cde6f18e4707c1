package certsync

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// file is one file to install.
type file struct {
	name string // base name inside the directory
	data []byte
	mode os.FileMode
}

// readFiles returns the current content of the named files; a file that does
// not exist is returned with nil data.
func readFiles(dir string, names ...string) ([]file, error) {
	out := make([]file, 0, len(names))
	for _, n := range names {
		p := filepath.Join(dir, n)
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			out = append(out, file{name: n})
			continue
		}
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, file{name: n, data: b, mode: st.Mode().Perm()})
	}
	return out, nil
}

// installFiles replaces the files atomically one by one: every file is
// first written completely to a temporary file in the same directory and
// synced, then all temporaries are renamed over their targets and the
// directory is synced. A reader never sees a partly written file. Files with
// nil data are removed.
func installFiles(dir string, files []file) (err error) {
	var temps []string
	defer func() {
		for _, t := range temps {
			if t != "" {
				_ = os.Remove(t)
			}
		}
	}()
	for _, f := range files {
		if f.data == nil {
			temps = append(temps, "")
			continue
		}
		t, err := writeTemp(dir, f)
		if err != nil {
			return err
		}
		temps = append(temps, t)
	}
	for i, f := range files {
		target := filepath.Join(dir, f.name)
		if temps[i] == "" {
			if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove %s: %w", target, err)
			}
			continue
		}
		if err := os.Rename(temps[i], target); err != nil {
			return fmt.Errorf("rename into %s: %w", target, err)
		}
		temps[i] = ""
	}
	return syncDir(dir)
}

func writeTemp(dir string, f file) (string, error) {
	tmp, err := os.CreateTemp(dir, "."+f.name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("create temporary file in %s (is the directory shared with nginx and writable?): %w", dir, err)
	}
	name := tmp.Name()
	fail := func(err error) (string, error) {
		_ = tmp.Close()
		_ = os.Remove(name)
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Chmod(f.mode); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(f.data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(name)
		return "", fmt.Errorf("close %s: %w", name, err)
	}
	return name, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
