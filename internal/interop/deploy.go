package interop

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// File is one file of the repository as deployed: a repository-relative path
// with forward slashes, and its content.
type File struct {
	Path string
	Data []byte
}

// EmptyConfig is the config.yml of a repository without Join Servers. TTS
// accepts it as well as an empty file.
const EmptyConfig = "join-servers: []\n"

// EmptyFiles is what to deploy when interop is enabled but the operator has
// no repository: NS and AS fail at start without a config.yml.
func EmptyFiles() []File { return []File{{Path: ConfigFile, Data: []byte(EmptyConfig)}} }

// Files returns the files to deploy, sorted by path: config.yml, the Join
// Server files it names and the certificate and key files those name, byte for
// byte. Files in the folder that the repository does not reference are not
// included. Secret references are left in place: when r.SecretRefs is not
// empty, TTS cannot read these files until Materialize has run on them.
func (r *Repository) Files() []File {
	out := make([]File, 0, len(r.files))
	for p, b := range r.files {
		out = append(out, File{Path: p, Data: append([]byte(nil), b...)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// SecretGetter returns the SecretString of a Secrets Manager secret, given
// its name or ARN (for example with secretsmanager.GetSecretValue).
type SecretGetter func(ctx context.Context, secretID string) (string, error)

// Materialize is the deploy-time resolver. Given the output of Files and the
// repository's SecretRefs, it returns the files TTS reads, with every
// reference replaced:
//
//  1. It fetches each distinct secret once with get.
//  2. If the reference has a json-key, the SecretString must be a JSON object
//     and the field must be a string; that string is the value. Otherwise the
//     whole SecretString is the value.
//  3. SecretInline (basic-auth.password, headers.NAME): the {secret: ...}
//     mapping is replaced by the value as a quoted YAML string.
//  4. SecretPEMFile (tls.key): the value must be one unencrypted PEM private
//     key matching the certificate of the same tls section; it is written to
//     ref.Target, and the mapping is replaced by Target's path relative to
//     the Join Server file's folder (its base name).
//  5. Files without references are returned unchanged; rewritten YAML files
//     keep their comments. No secret value appears in an error.
//
// The result must be stored where only NS and AS can read it (it now holds
// secrets); it is sorted by path.
func Materialize(ctx context.Context, files []File, refs []SecretRef, get SecretGetter) ([]File, error) {
	byPath := map[string][]byte{}
	for _, f := range files {
		byPath[f.Path] = f.Data
	}
	cache := map[string]string{}
	value := func(ref SecretRef) (string, error) {
		raw, ok := cache[ref.SecretID]
		if !ok {
			var err error
			raw, err = get(ctx, ref.SecretID)
			if err != nil {
				return "", fmt.Errorf("%s: %s: cannot get secret %s: %w", ref.File, ref.Path(), ref.SecretID, err)
			}
			cache[ref.SecretID] = raw
		}
		if ref.JSONKey == "" {
			if raw == "" {
				return "", fmt.Errorf("%s: %s: secret %s is empty", ref.File, ref.Path(), ref.SecretID)
			}
			return raw, nil
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(raw), &obj); err != nil {
			return "", fmt.Errorf("%s: %s: secret %s is not a JSON object, so json-key %q cannot select a field; store {\"%s\": \"...\"} or remove json-key", ref.File, ref.Path(), ref.SecretID, ref.JSONKey, ref.JSONKey)
		}
		v, ok := obj[ref.JSONKey]
		if !ok {
			return "", fmt.Errorf("%s: %s: secret %s has no field %q (fields: %s)", ref.File, ref.Path(), ref.SecretID, ref.JSONKey, strings.Join(sortedKeys(obj), ", "))
		}
		s, ok := v.(string)
		if !ok || s == "" {
			return "", fmt.Errorf("%s: %s: field %q of secret %s must be a non-empty string", ref.File, ref.Path(), ref.JSONKey, ref.SecretID)
		}
		return s, nil
	}

	grouped := map[string][]SecretRef{}
	for _, ref := range refs {
		grouped[ref.File] = append(grouped[ref.File], ref)
	}
	for _, file := range sortedKeys(grouped) {
		data, ok := byPath[file]
		if !ok {
			return nil, fmt.Errorf("%s: file with secret references is missing from the files to deploy", file)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
			return nil, fmt.Errorf("%s: cannot parse as YAML: %v", file, err)
		}
		// The checker reads an alias (*name) as the node it names, as TTS
		// does; give each path its own copy, so that replacing one reference
		// does not replace another.
		budget := maxExpandedNodes
		if !expandAliases(&doc, &budget) {
			return nil, fmt.Errorf("%s: the YAML aliases expand to more than %d nodes; write the values out instead of using aliases", file, maxExpandedNodes)
		}
		for _, ref := range grouped[file] {
			node := lookup(doc.Content[0], ref.YAMLPath)
			if node == nil || node.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("%s: %s: no {secret: ...} mapping at this path; load the repository again and pass its SecretRefs", file, ref.Path())
			}
			v, err := value(ref)
			if err != nil {
				return nil, err
			}
			if ref.Kind == SecretInline {
				if msg := headerValueProblem(v); msg != "" {
					return nil, fmt.Errorf("%s: %s: the value of {%s} %s; %s. In Secrets Manager, %s, and deploy again", file, ref.Path(), ref, msg, inlineEffect(ref), headerValueFix(msg))
				}
			}
			replacement := v
			if ref.Kind == SecretPEMFile {
				if msg := checkKeyPEM([]byte(v)); msg != "" {
					return nil, fmt.Errorf("%s: %s: secret %s: %s", file, ref.Path(), ref.SecretID, msg)
				}
				if cert, ok := byPath[ref.Certificate]; ok {
					if _, err := tls.X509KeyPair(cert, []byte(v)); err != nil {
						return nil, fmt.Errorf("%s: %s: the key in secret %s does not match certificate %s (%v); store the key the certificate was issued for", file, ref.Path(), ref.SecretID, ref.Certificate, err)
					}
				}
				if _, clash := byPath[ref.Target]; clash {
					return nil, fmt.Errorf("%s: %s: %s already exists among the files to deploy", file, ref.Path(), ref.Target)
				}
				byPath[ref.Target] = []byte(v)
				replacement = path.Base(ref.Target)
			}
			*node = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: replacement,
				Style: yaml.DoubleQuotedStyle, LineComment: node.LineComment, HeadComment: node.HeadComment}
		}
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(&doc); err != nil {
			return nil, fmt.Errorf("%s: cannot write YAML: %v", file, err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("%s: cannot write YAML: %v", file, err)
		}
		byPath[file] = buf.Bytes()
	}
	out := make([]File, 0, len(byPath))
	for _, p := range sortedKeys(byPath) {
		out = append(out, File{Path: p, Data: byPath[p]})
	}
	return out, nil
}

// inlineEffect says what a control character in the value of an inline
// reference does to the requests TTS sends.
func inlineEffect(ref SecretRef) string {
	if len(ref.YAMLPath) > 0 && ref.YAMLPath[0] == "basic-auth" {
		return "TTS sends it as part of the Basic credentials, so the Join Server would refuse them"
	}
	return "Go's HTTP client refuses it in a header (net/http: invalid header field value), so every request TTS sends to this Join Server would fail"
}

// maxExpandedNodes bounds the copies expandAliases makes.
const maxExpandedNodes = 100000

// expandAliases replaces every alias under n by a copy of the node it names
// and removes the anchors. It returns false when more than *budget nodes
// would be visited.
func expandAliases(n *yaml.Node, budget *int) bool {
	n.Anchor = ""
	for i, child := range n.Content {
		if *budget--; *budget < 0 {
			return false
		}
		if child.Kind == yaml.AliasNode {
			cp := copyNode(diag.YAMLDeref(child))
			// Comments belong where they are written: at the alias.
			cp.HeadComment, cp.LineComment, cp.FootComment = child.HeadComment, child.LineComment, child.FootComment
			n.Content[i] = cp
			child = cp
		}
		if !expandAliases(child, budget) {
			return false
		}
	}
	return true
}

// copyNode copies a node tree; aliases inside stay aliases.
func copyNode(n *yaml.Node) *yaml.Node {
	cp := *n
	cp.Content = make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		cp.Content[i] = copyNode(c)
	}
	return &cp
}

// lookup follows mapping keys from n.
func lookup(n *yaml.Node, keys []string) *yaml.Node {
	for _, k := range keys {
		n = diag.YAMLDeref(n)
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if diag.YAMLDeref(n.Content[i]).Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return diag.YAMLDeref(n)
}
