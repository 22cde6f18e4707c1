package interop

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// ConfigFile is the name of the repository's root file, as TTS expects it.
const ConfigFile = "config.yml"

// Readers returns the components that read the interop repository, the only
// ones a join-servers entry's components list may name.
func Readers() []ports.Component {
	return []ports.Component{ports.ApplicationServer, ports.NetworkServer}
}

// ParseComponent accepts "ns" or "as", the components that read the
// repository.
func ParseComponent(s string) (ports.Component, error) {
	if c := ports.Component(s); slices.Contains(Readers(), c) {
		return c, nil
	}
	return "", fmt.Errorf("unknown component %q: use ns (Network Server) or as (Application Server)", s)
}

// Repository is a loaded interop repository.
type Repository struct {
	// Entries are the join-servers entries of config.yml, in file order.
	Entries []*Entry
	// JoinServers are the loaded Join Server files by repository-relative path.
	JoinServers map[string]*JoinServer
	// SecretRefs are all Secrets Manager references, in file and line order.
	SecretRefs []SecretRef

	files map[string][]byte // repository-relative path -> content, of every file to deploy
}

// Entry is one item of config.yml's join-servers list.
type Entry struct {
	Index int
	Line  int
	// File is the value as written; Path is it resolved against the repository root.
	File, Path string
	// Components as written; nil when the key is absent or empty (both NS and AS).
	Components []ports.Component
	JoinEUIs   []Prefix
	// prefixLines holds the line of each JoinEUIs item.
	prefixLines []int
	// JoinServer is nil when the file could not be loaded.
	JoinServer *JoinServer
}

// AppliesTo reports whether TTS component c uses this entry.
func (e *Entry) AppliesTo(c ports.Component) bool {
	if len(e.Components) == 0 {
		return true
	}
	for _, x := range e.Components {
		if x == c {
			return true
		}
	}
	return false
}

func (e *Entry) components() []ports.Component {
	if len(e.Components) == 0 {
		return Readers() // absent means both
	}
	return e.Components
}

// Options tune Load. The zero value is the strictest setting.
type Options struct {
	// Now is the time certificate validity is checked against.
	Now time.Time
	// NSInteropID is the Network Server's ns.interop.id, if the deployment sets
	// one. TTS uses it as the BI 1.1 SenderNSID when a Join Server file has no
	// sender-ns-id; without either, every join-request to that Join Server fails.
	NSInteropID *EUI64
}

// Load loads the repository whose config.yml is at dir in fsys (use "." for
// the root of os.DirFS), checks it, and returns every problem found. The
// Repository is returned even when there are errors, with what could be read.
func Load(fsys fs.FS, dir string, now time.Time) (*Repository, diag.List) {
	return LoadWithOptions(fsys, dir, Options{Now: now})
}

// LoadWithOptions is Load with Options.
func LoadWithOptions(fsys fs.FS, dir string, opts Options) (*Repository, diag.List) {
	l := &loader{
		fsys: fsys,
		dir:  path.Clean(dir),
		opts: opts,
		repo: &Repository{JoinServers: map[string]*JoinServer{}, files: map[string][]byte{}},
	}
	l.load()
	// config.yml first: it is where a reader starts.
	l.probs.Sort(ConfigFile)
	sort.SliceStable(l.repo.SecretRefs, func(i, j int) bool {
		a, b := l.repo.SecretRefs[i], l.repo.SecretRefs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return l.repo, l.probs
}

type loader struct {
	fsys  fs.FS
	dir   string
	opts  Options
	repo  *Repository
	probs diag.List
	// referenced holds every repository file the configuration names.
	referenced map[string]bool
}

func (l *loader) check(file string) *fileCheck { return &fileCheck{file: file, probs: &l.probs} }

func (l *loader) load() {
	l.referenced = map[string]bool{ConfigFile: true}
	c := l.check(ConfigFile)
	data, err := fs.ReadFile(l.fsys, path.Join(l.dir, ConfigFile))
	if err != nil {
		c.errorf("interop.missing-config", nil, "", "cannot read %s in %s (%v); every interop repository needs it, and TTS fails at start without it. For a repository without Join Servers write 'join-servers: []'", ConfigFile, l.dir, unwrapPathError(err))
		return
	}
	l.repo.files[ConfigFile] = data
	root, ok := c.parseYAML(data)
	if !ok {
		return
	}
	fields, ok := c.mapping(root, "", []string{"join-servers"})
	if !ok {
		return
	}
	f, has := fields["join-servers"]
	if !has {
		l.scanUnreferenced()
		return
	}
	items, ok := c.seq(f)
	if !ok {
		return
	}
	for i, item := range items {
		l.entry(c, i, item)
	}
	l.loadJoinServers()
	l.checkDuplicatePrefixes()
	l.scanUnreferenced()
}

func (l *loader) entry(c *fileCheck, i int, n *yaml.Node) {
	p := fmt.Sprintf("join-servers[%d]", i)
	fields, ok := c.mapping(n, p, []string{"file", "components", "join-euis"})
	e := &Entry{Index: i, Line: diag.YAMLDeref(n).Line}
	l.repo.Entries = append(l.repo.Entries, e)
	if !ok {
		return
	}
	if diag.YAMLIsNull(n) {
		c.errorf("interop.empty-entry", n, p, "empty entry; give 'file:' and 'join-euis:'")
		return
	}
	if f, has := fields["file"]; !has {
		c.errorf("interop.missing-file", n, p, "missing 'file:'; name the Join Server file, relative to %s", ConfigFile)
	} else if v, ok := c.str(f); ok {
		e.File = v
		e.Path = l.resolvePath(c, f.val, f.path, ConfigFile, v, "Join Server file")
	}
	if f, has := fields["components"]; has {
		items, ok := c.seq(f)
		if ok && len(items) == 0 {
			c.warnf("interop.empty-components", f.key, f.path, "an empty list means 'both as and ns' to TTS, not 'none'; remove the key for both, or list the components")
		}
		seen := map[ports.Component]bool{}
		for j, item := range items {
			ip := fmt.Sprintf("%s[%d]", f.path, j)
			v, ok := c.str(field{key: item, val: item, path: ip})
			if !ok {
				continue
			}
			comp, err := ParseComponent(v)
			if err != nil {
				c.errorf("interop.unknown-component", item, ip, "%v; TTS silently ignores unknown components, so this entry would never be used by it", err)
				continue
			}
			if seen[comp] {
				c.warnf("interop.duplicate-component", item, ip, "%s is listed twice; list it once", comp)
				continue
			}
			seen[comp] = true
			e.Components = append(e.Components, comp)
		}
	}
	if f, has := fields["join-euis"]; !has {
		c.warnf("interop.no-join-euis", n, p, "no 'join-euis:'; this entry matches no JoinEUI, yet TTS still loads its file. Add prefixes like 'EC656E0000000000/24' or remove the entry")
	} else if items, ok := c.seq(f); ok {
		if len(items) == 0 {
			c.warnf("interop.no-join-euis", f.key, f.path, "empty list; this entry matches no JoinEUI. Add prefixes like 'EC656E0000000000/24' or remove the entry")
		}
		for j, item := range items {
			ip := fmt.Sprintf("%s[%d]", f.path, j)
			item = diag.YAMLDeref(item)
			if item.Kind != yaml.ScalarNode || diag.YAMLIsNull(item) {
				c.errorf("interop.wrong-type", item, ip, "expected a JoinEUI prefix like 'EC656E0000000000/24', got %s", diag.YAMLDescribe(item))
				continue
			}
			// TTS reads the scalar text whatever its YAML type; so do we.
			pre, err := ParsePrefix(item.Value)
			if err != nil {
				if item.Value == "" {
					c.errorf("interop.empty-prefix", item, ip, "empty prefix; TTS would read it as 0000000000000000/0 and match every JoinEUI. Write '0000000000000000/0' if that is what you mean")
				} else {
					c.errorf("interop.bad-prefix", item, ip, "%v", err)
				}
				continue
			}
			e.JoinEUIs = append(e.JoinEUIs, pre)
			e.prefixLines = append(e.prefixLines, item.Line)
		}
	}
}

// resolvePath resolves ref, written in file from, against from's directory.
// It reports and returns "" when the path is unusable or the file is missing.
func (l *loader) resolvePath(c *fileCheck, n *yaml.Node, key, from, ref, what string) string {
	switch {
	case strings.HasPrefix(ref, "/"):
		c.errorf("interop.absolute-path", n, key, "%q is an absolute path; write the path relative to %s (TTS resolves absolute paths against the repository source, not the file system)", ref, from)
		return ""
	case strings.Contains(ref, `\`):
		c.errorf("interop.backslash-path", n, key, "%q contains a backslash; use forward slashes", ref)
		return ""
	}
	p := path.Clean(path.Join(path.Dir(from), ref))
	if p == ".." || strings.HasPrefix(p, "../") {
		c.errorf("interop.path-outside", n, key, "%q points outside the repository; keep every file inside the folder that holds %s", ref, ConfigFile)
		return ""
	}
	if p == "." {
		c.errorf("interop.path-is-folder", n, key, "%q names a folder, not a file", ref)
		return ""
	}
	if problem := l.exactFile(p); problem != "" {
		c.errorf("interop.bad-reference", n, key, "%s %q (%s): %s", what, ref, p, problem)
		return ""
	}
	l.referenced[p] = true
	return p
}

// exactFile checks that repository path p is a regular file whose name has
// exactly this case (S3, where the repository is deployed, is case-sensitive
// even when the local file system is not). It returns "" or what is wrong.
func (l *loader) exactFile(p string) string {
	parts := strings.Split(p, "/")
	dir := l.dir
	for i, part := range parts {
		entries, err := fs.ReadDir(l.fsys, dir)
		if err != nil {
			return "not found; create it or fix the path"
		}
		var found fs.DirEntry
		var caseOnly string
		for _, e := range entries {
			if e.Name() == part {
				found = e
				break
			}
			if strings.EqualFold(e.Name(), part) {
				caseOnly = e.Name()
			}
		}
		if found == nil {
			if caseOnly != "" {
				return fmt.Sprintf("not found, but %q exists; names are case-sensitive once deployed to S3, so match the case exactly", caseOnly)
			}
			return "not found; create it or fix the path (paths are relative to the file that names them)"
		}
		last := i == len(parts)-1
		if last && found.IsDir() {
			return "is a folder, not a file"
		}
		if !last && !found.IsDir() {
			return fmt.Sprintf("%q is a file, not a folder", path.Join(parts[:i+1]...))
		}
		dir = path.Join(dir, part)
	}
	return ""
}

func (l *loader) read(p string) ([]byte, error) {
	if b, ok := l.repo.files[p]; ok {
		return b, nil
	}
	b, err := fs.ReadFile(l.fsys, path.Join(l.dir, p))
	if err != nil {
		return nil, err
	}
	l.repo.files[p] = b
	return b, nil
}

func (l *loader) loadJoinServers() {
	// Which components use each file: TTS loads a file for a component only if
	// an entry that applies to that component names it.
	usedBy := map[string]map[ports.Component]bool{}
	var order []string
	for _, e := range l.repo.Entries {
		if e.Path == "" {
			continue
		}
		if usedBy[e.Path] == nil {
			usedBy[e.Path] = map[ports.Component]bool{}
			order = append(order, e.Path)
		}
		for _, c := range e.components() {
			usedBy[e.Path][c] = true
		}
	}
	for _, p := range order {
		js := l.joinServer(p, usedBy[p])
		if js != nil {
			l.repo.JoinServers[p] = js
		}
	}
	for _, e := range l.repo.Entries {
		if e.Path != "" {
			e.JoinServer = l.repo.JoinServers[e.Path]
		}
	}
}

func (l *loader) checkDuplicatePrefixes() {
	type key struct {
		c ports.Component
		p Prefix
	}
	type where struct {
		e    *Entry
		line int
	}
	seen := map[key]where{}
	c := l.check(ConfigFile)
	for _, e := range l.repo.Entries {
		for i, pre := range e.JoinEUIs {
			var dupComps []string
			var first where
			for _, comp := range e.components() {
				k := key{comp, pre}
				if w, dup := seen[k]; dup {
					dupComps = append(dupComps, string(comp))
					first = w
					continue
				}
				seen[k] = where{e, e.prefixLines[i]}
			}
			if len(dupComps) == 0 {
				continue
			}
			what := "TTS sorts prefixes with an unstable sort, so it would pick one of the two files arbitrarily, and possibly differently after a restart"
			if pre.Bits == 64 {
				what = "for a /64 prefix TTS sends every request to all listed Join Servers at once and takes the first successful answer"
			}
			same := ""
			if first.e == e {
				same = " (in this same entry)"
			}
			n := &yaml.Node{Line: e.prefixLines[i]}
			c.errorf("interop.duplicate-prefix", n, fmt.Sprintf("join-servers[%d].join-euis[%d]", e.Index, i),
				"%s is already listed for %s on line %d%s; %s. List each prefix once per component, or restrict the entries with 'components: [ns]' / 'components: [as]'",
				pre, strings.Join(dupComps, " and "), first.line, same, what)
		}
	}
}

// scanUnreferenced warns about files that look like they belong to the
// repository but are not named by it: they are not deployed, and a private
// key among them sits in git for nothing.
func (l *loader) scanUnreferenced() {
	_ = fs.WalkDir(l.fsys, l.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, l.dir), "/")
		if l.dir == "." {
			rel = p
		}
		if l.referenced[rel] {
			return nil
		}
		ext := strings.ToLower(path.Ext(rel))
		switch ext {
		case ".yml", ".yaml":
			l.probs.Add(diag.Warnf("interop.unreferenced-file", "", "not referenced from %s, so TTS never reads it and it is not deployed; reference it from a join-servers entry or delete it", ConfigFile).At(rel, 0, 0))
		case ".pem", ".key", ".crt", ".cer":
			b, err := fs.ReadFile(l.fsys, p)
			if err == nil && strings.Contains(string(b), "PRIVATE KEY-----") {
				l.probs.Add(diag.Warnf("interop.unreferenced-key", "", "private key in the repository folder (and so probably in git) but not referenced; delete it and keep keys in AWS Secrets Manager").At(rel, 0, 0))
			}
		}
		return nil
	})
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
