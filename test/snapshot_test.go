package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/prdiff"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// Snapshots of the synthesized templates, under test/snapshots:
//
//	env/NAME/STACK.json     every stack of environment NAME (params/NAME.yaml)
//	combo/SET/STACK.json    a stack of a combination of SupportProxyTLS,
//	                        InteropEnabled and InteropPacketBrokerEnabled
//	                        (overrides of the example environment), only where
//	                        it differs from env/example/STACK.json
//	combo/SET/ERROR.txt     the validation error of an invalid combination
//	                        (Packet Broker without interop)
//
// Volatile values are masked: asset hashes (64 hex digits) become <hash>.
// After an intended change, rewrite them with `make snapshots`
// (UPDATE_SNAPSHOTS=1 go test ./test -run TestSnapshots) and commit them.

const snapshotDir = "snapshots"

func updatingSnapshots() bool { return os.Getenv("UPDATE_SNAPSHOTS") == "1" }

const updateHint = "if the change is intended, run `make snapshots` (UPDATE_SNAPSHOTS=1 go test ./test -run TestSnapshots) and commit test/snapshots"

// snapshotCombo is one combination of the three switches, as the override
// maps of the other combination tests (so that synthOnce's cache is shared).
type snapshotCombo struct{ proxyTLS, interop, packetBroker bool }

func (c snapshotCombo) overrides() map[string]string {
	return map[string]string{
		"SupportProxyTLS":            fmt.Sprint(c.proxyTLS),
		"InteropEnabled":             fmt.Sprint(c.interop),
		"InteropPacketBrokerEnabled": fmt.Sprint(c.packetBroker),
	}
}

func (c snapshotCombo) name() string {
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	return fmt.Sprintf("proxytls-%s.interop-%s.packetbroker-%s", onOff(c.proxyTLS), onOff(c.interop), onOff(c.packetBroker))
}

func snapshotCombos() []snapshotCombo {
	var out []snapshotCombo
	for _, p := range []bool{false, true} {
		for _, i := range []bool{false, true} {
			for _, b := range []bool{false, true} {
				out = append(out, snapshotCombo{p, i, b})
			}
		}
	}
	return out
}

func TestSnapshots(t *testing.T) {
	envs, err := prdiff.Environments("..")
	if err != nil {
		t.Fatal(err)
	}
	app := &appBinary{}
	defer app.remove()
	base := map[string][]byte{} // the example environment's snapshots, by stack
	for _, env := range envs {
		t.Run("env/"+env, func(t *testing.T) {
			var templates map[string][]byte
			if env == params.DefaultEnv {
				templates = rawTemplates(synthOnce(t, nil))
			} else {
				templates = app.synthesize(t, env)
			}
			masked := maskAll(t, templates)
			if env == params.DefaultEnv {
				base = masked
			}
			checkSnapshotDir(t, filepath.Join(snapshotDir, "env", env), masked, nil)
		})
	}
	checkNoStaleDirs(t, filepath.Join(snapshotDir, "env"), envs)

	if len(base) == 0 {
		t.Fatalf("no snapshot of the %s environment to compare the combinations with", params.DefaultEnv)
	}
	var names []string
	for _, c := range snapshotCombos() {
		names = append(names, c.name())
		t.Run("combo/"+c.name(), func(t *testing.T) {
			dir := filepath.Join(snapshotDir, "combo", c.name())
			if !c.interop && c.packetBroker {
				checkValidationError(t, dir, c)
				return
			}
			checkSnapshotDir(t, dir, maskAll(t, rawTemplates(synthOnce(t, c.overrides()))), base)
		})
	}
	checkNoStaleDirs(t, filepath.Join(snapshotDir, "combo"), names)
}

// checkValidationError compares the error of an invalid combination with
// ERROR.txt: the combination must be refused, with this text.
func checkValidationError(t *testing.T, dir string, c snapshotCombo) {
	t.Helper()
	ctx := map[string]any{}
	for k, v := range c.overrides() {
		ctx[k] = v
	}
	p, problems := params.LoadEmbedded(ctx)
	if p != nil {
		t.Fatalf("%s is accepted; want a validation error", c.name())
	}
	got := []byte(problems.Errors().String() + "\n")
	file := filepath.Join(dir, "ERROR.txt")
	if updatingSnapshots() {
		writeSnapshots(t, dir, map[string][]byte{"ERROR.txt": got})
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("no snapshot %s (%v); %s", file, err, updateHint)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: the validation error changed:\nsnapshot: %s\nnow:      %s\n%s", file, want, got, updateHint)
	}
}

// checkSnapshotDir compares the masked templates with the snapshots in dir.
// With a base, a stack equal to the base's is not stored in dir.
func checkSnapshotDir(t *testing.T, dir string, masked, base map[string][]byte) {
	t.Helper()
	want := map[string][]byte{}
	for stack, data := range masked {
		if base == nil || !bytes.Equal(base[stack], data) {
			want[stack+".json"] = data
		}
	}
	if updatingSnapshots() {
		writeSnapshots(t, dir, want)
		return
	}
	stored := readSnapshots(t, dir)
	for _, stack := range sortedKeys(masked) {
		file := filepath.Join(dir, stack+".json")
		expected, ok := stored[stack+".json"]
		if !ok && base != nil {
			expected, ok = base[stack], true
			file = fmt.Sprintf("%s (the same as env/%s, so not stored)", file, params.DefaultEnv)
		}
		if !ok {
			t.Errorf("no snapshot %s; %s", file, updateHint)
			continue
		}
		if !bytes.Equal(expected, masked[stack]) {
			t.Errorf("%s differs from the synthesized template:\n%s\n%s", file, firstDifferences(expected, masked[stack], 5), updateHint)
		}
	}
	for name, data := range stored {
		stack := strings.TrimSuffix(name, ".json")
		if _, ok := masked[stack]; !ok {
			t.Errorf("%s: no stack %s is synthesized any more; %s", filepath.Join(dir, name), stack, updateHint)
		} else if base != nil && bytes.Equal(base[stack], data) {
			t.Errorf("%s is the same as env/%s/%s and need not be stored; %s", filepath.Join(dir, name), params.DefaultEnv, name, updateHint)
		}
	}
}

func readSnapshots(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = data
	}
	return out
}

// writeSnapshots makes dir hold exactly the given files (none: no dir).
func writeSnapshots(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Logf("%s: nothing to store", dir)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%s: wrote %s", dir, strings.Join(sortedKeys(files), ", "))
}

// checkNoStaleDirs finds snapshot folders of environments or combinations
// that no longer exist (and removes them when updating).
func checkNoStaleDirs(t *testing.T, parent string, names []string) {
	t.Helper()
	entries, err := os.ReadDir(parent)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if contains(names, e.Name()) {
			continue
		}
		stale := filepath.Join(parent, e.Name())
		if updatingSnapshots() {
			if err := os.RemoveAll(stale); err != nil {
				t.Fatal(err)
			}
			t.Logf("removed %s", stale)
			continue
		}
		t.Errorf("%s: no such environment or combination any more; %s", stale, updateHint)
	}
}

func rawTemplates(a *Assembly) map[string][]byte {
	out := map[string][]byte{}
	for name, tpl := range a.Templates {
		out[name] = []byte(tpl.Raw)
	}
	return out
}

// assetHash is a CDK asset hash (sha256, hex): file and image assets, and
// the Lambda code built from them, change it whenever their bytes change.
var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

func maskAll(t *testing.T, templates map[string][]byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for stack, raw := range templates {
		data, err := maskTemplate(raw)
		if err != nil {
			t.Fatalf("%s: %v", stack, err)
		}
		out[stack] = data
	}
	return out
}

// maskTemplate masks the volatile values of a template and prints it
// stably: keys sorted, two-space indent, numbers as written, no HTML escapes.
func maskTemplate(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(maskValue(v)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func maskValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[assetHash.ReplaceAllString(k, "<hash>")] = maskValue(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = maskValue(val)
		}
		return out
	case string:
		return assetHash.ReplaceAllString(x, "<hash>")
	}
	return v
}

// firstDifferences names up to n JSON paths where two templates differ.
func firstDifferences(want, got []byte, n int) string {
	var a, b any
	if json.Unmarshal(want, &a) != nil || json.Unmarshal(got, &b) != nil {
		return "  (not JSON)"
	}
	var diffs []string
	jsonDiff("", a, b, &diffs)
	more := ""
	if len(diffs) > n {
		more = fmt.Sprintf("\n  ... and %d more", len(diffs)-n)
		diffs = diffs[:n]
	}
	return "  " + strings.Join(diffs, "\n  ") + more
}

func jsonDiff(path string, a, b any, out *[]string) {
	if reflect.DeepEqual(a, b) {
		return
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for _, k := range sortedKeys(keys) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			av, ina := am[k]
			bv, inb := bm[k]
			switch {
			case !inb:
				*out = append(*out, fmt.Sprintf("%s: only in the snapshot", p))
			case !ina:
				*out = append(*out, fmt.Sprintf("%s: new, %s", p, short(bv)))
			default:
				jsonDiff(p, av, bv, out)
			}
		}
		return
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok && len(al) == len(bl) {
		for i := range al {
			jsonDiff(fmt.Sprintf("%s[%d]", path, i), al[i], bl[i], out)
		}
		return
	}
	*out = append(*out, fmt.Sprintf("%s: snapshot %s, now %s", path, short(a), short(b)))
}

func short(v any) string {
	s := jsonText(v)
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}

// appBinary synthesizes environments other than the embedded example the
// way the CDK CLI runs the app: the built app, with cdk.json's context and
// `env` in CDK_CONTEXT_JSON.
type appBinary struct {
	dir, bin string
}

func (a *appBinary) synthesize(t *testing.T, env string) map[string][]byte {
	t.Helper()
	if a.bin == "" {
		dir, err := os.MkdirTemp("", "tts-app-")
		if err != nil {
			t.Fatal(err)
		}
		a.dir, a.bin = dir, filepath.Join(dir, "app")
		build := exec.Command("go", "build", "-o", a.bin, ".")
		build.Dir = ".."
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	ctx, err := cdkJSONContext()
	if err != nil {
		t.Fatal(err)
	}
	ctx[params.EnvContextKey] = env
	ctxJSON, err := json.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(a.dir, "cdk.out-"+env)
	cmd := exec.Command(a.bin)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CDK_CONTEXT_JSON="+string(ctxJSON), "CDK_OUTDIR="+out)
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("synthesis of environment %s: %v\n%s", env, err, log)
	}
	asm, err := prdiff.ReadAssembly(out)
	if err != nil {
		t.Fatal(err)
	}
	templates := map[string][]byte{}
	for _, s := range asm.Stacks {
		templates[s.Name] = s.Raw
	}
	return templates
}

func (a *appBinary) remove() {
	if a.dir != "" {
		os.RemoveAll(a.dir)
	}
}
