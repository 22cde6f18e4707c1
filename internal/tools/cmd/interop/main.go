// Command interop checks an interop repository the way The Things Stack reads
// it, and tells which Join Server the Network Server or Application Server
// contacts for a JoinEUI.
//
//	interop check DIR
//	interop resolve DIR --component ns|as --join-eui EC656E0000001234
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/interop"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

const usage = `Usage:
  interop check DIR [--ns-interop-id EUI]
      Check the interop repository in DIR (the folder that holds config.yml).
      Prints every problem as FILE:LINE: error|warning: message.
      Exit status 1 if there is an error, 0 otherwise (warnings included).

  interop resolve DIR --component ns|as --join-eui EUI [--ns-interop-id EUI]
      Print the Join Server that the Network Server (ns) or Application
      Server (as) contacts for the JoinEUI, the matching prefix, the file and
      the effective settings (defaults filled in, secrets never shown).
      Exit status 1 if no Join Server matches or the repository has errors.

Flags:
  --component ns|as     component that contacts the Join Server (resolve)
  --join-eui EUI        JoinEUI, 16 hexadecimal digits (resolve)
  --ns-interop-id EUI   the deployment's ns.interop.id, if set: BI1.1 files
                        used by ns may then omit sender-ns-id
  -h, --help            show this help
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, time.Now()))
}

// run executes the command and returns the exit status: 0 success, 1 problem
// found or no match, 2 usage error.
func run(args []string, stdout, stderr io.Writer, now time.Time) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "check", "resolve":
	default:
		fmt.Fprintf(stderr, "interop: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	cmd := args[0]
	fs := flag.NewFlagSet("interop "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	component := fs.String("component", "", "")
	joinEUI := fs.String("join-eui", "", "")
	nsID := fs.String("ns-interop-id", "", "")
	positional, err := parseInterleaved(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "interop %s: %v\n\n%s", cmd, err, usage)
		return 2
	}
	if len(positional) != 1 {
		fmt.Fprintf(stderr, "interop %s: want exactly one DIR (the folder holding config.yml), got %d arguments\n\n%s", cmd, len(positional), usage)
		return 2
	}
	dir := positional[0]
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "interop %s: %s is not a folder; give the folder that holds config.yml\n", cmd, dir)
		return 2
	}
	opts := interop.Options{Now: now}
	if *nsID != "" {
		eui, err := interop.ParseEUI64(*nsID)
		if err != nil {
			fmt.Fprintf(stderr, "interop %s: --ns-interop-id: %v\n", cmd, err)
			return 2
		}
		opts.NSInteropID = &eui
	}

	var comp ports.Component
	var eui interop.EUI64
	if cmd == "resolve" {
		if *component == "" || *joinEUI == "" {
			fmt.Fprintf(stderr, "interop resolve: --component and --join-eui are required\n\n%s", usage)
			return 2
		}
		if comp, err = interop.ParseComponent(*component); err != nil {
			fmt.Fprintf(stderr, "interop resolve: --component: %v\n", err)
			return 2
		}
		if eui, err = interop.ParseEUI64(*joinEUI); err != nil {
			fmt.Fprintf(stderr, "interop resolve: --join-eui: %v\n", err)
			return 2
		}
	}

	repo, probs := interop.LoadWithOptions(os.DirFS(dir), ".", opts)
	if cmd == "check" {
		for _, p := range probs {
			fmt.Fprintln(stdout, display(dir, p))
		}
		errs, warns := len(probs.Errors()), len(probs.Warnings())
		if errs > 0 {
			fmt.Fprintf(stderr, "%s: %d error(s), %d warning(s); fix the errors before deploying\n", dir, errs, warns)
			return 1
		}
		fmt.Fprintf(stderr, "%s: OK, %d Join Server file(s), %d warning(s)\n", dir, len(repo.JoinServers), warns)
		return 0
	}

	if probs.HasErrors() {
		for _, p := range probs.Errors() {
			fmt.Fprintln(stderr, display(dir, p))
		}
		fmt.Fprintf(stderr, "interop resolve: the repository has errors; fix them first (interop check %s)\n", dir)
		return 1
	}
	res := interop.Resolve(repo, comp, eui)
	if !res.Found() {
		fmt.Fprintf(stdout, "No Join Server for JoinEUI %s from %s: no join-servers entry for %s has a matching prefix.\n", eui, comp, comp)
		fmt.Fprintf(stdout, "TTS uses only its cluster-local Join Server for this JoinEUI (add a prefix, or a '0000000000000000/0' fallback entry, to change that).\n")
		return 1
	}
	printResolution(stdout, res, opts)
	return 0
}

// parseInterleaved parses flags that may come before or after positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func display(dir string, p diag.Diagnostic) string {
	p.File = filepath.ToSlash(filepath.Join(dir, p.File))
	return p.String()
}

func printResolution(w io.Writer, res interop.Resolution, opts interop.Options) {
	m := res.Chosen
	js := m.JoinServer()
	fmt.Fprintf(w, "JoinEUI %s from %s -> Join Server %s\n", res.JoinEUI, res.Component, m.Entry.Path)
	fmt.Fprintf(w, "  matching prefix:  %s (%s:%d, join-servers[%d])\n", m.Prefix, interop.ConfigFile, m.Line, m.Entry.Index)
	for _, t := range res.Ties {
		fmt.Fprintf(w, "  ALSO this prefix: %s -> %s (%s:%d); TTS picks arbitrarily between them\n", t.Prefix, t.Entry.Path, interop.ConfigFile, t.Line)
	}
	for _, s := range res.Shadowed {
		fmt.Fprintf(w, "  less specific:    %s -> %s (%s:%d), not used for this JoinEUI\n", s.Prefix, s.Entry.Path, interop.ConfigFile, s.Line)
	}
	if js == nil {
		fmt.Fprintf(w, "  (the Join Server file could not be loaded)\n")
		return
	}
	def := func(set bool) string {
		if set {
			return ""
		}
		return " (default)"
	}
	fmt.Fprintf(w, "effective settings:\n")
	fmt.Fprintf(w, "  scheme:        %s%s\n", js.EffectiveScheme(), def(js.Scheme != ""))
	fmt.Fprintf(w, "  fqdn:          %s\n", js.FQDN)
	fmt.Fprintf(w, "  port:          %d%s\n", js.EffectivePort(), def(js.Port != 0))
	fmt.Fprintf(w, "  protocol:      %s\n", js.Protocol)
	used := map[string]ports.Component{"join": ports.NetworkServer, "app-s-key": ports.ApplicationServer}
	paths := []struct{ name, val string }{
		{"join", js.Paths.Join}, {"rejoin", js.Paths.Rejoin}, {"app-s-key", js.Paths.AppSKey}, {"home-ns", js.Paths.HomeNS},
	}
	fmt.Fprintf(w, "  paths:\n")
	for _, p := range paths {
		note := ""
		if c, ok := used[p.name]; ok && c == res.Component {
			note = "   <- used by " + string(c)
		}
		fmt.Fprintf(w, "    %-10s   %s%s\n", p.name+":", js.URL(p.val), note)
	}
	switch {
	case js.Protocol != interop.BI11:
		fmt.Fprintf(w, "  sender-ns-id:  (none; BI1.0 sends no NSID)\n")
	case res.Component == ports.ApplicationServer:
		fmt.Fprintf(w, "  sender-ns-id:  (not used by as)\n")
	case js.SenderNSID != nil:
		fmt.Fprintf(w, "  sender-ns-id:  %s\n", js.SenderNSID)
	case opts.NSInteropID != nil:
		fmt.Fprintf(w, "  sender-ns-id:  %s (from ns.interop.id)\n", opts.NSInteropID)
	default:
		fmt.Fprintf(w, "  sender-ns-id:  (none)\n")
	}
	if ba := js.BasicAuth; ba != nil {
		fmt.Fprintf(w, "  basic-auth:\n    username:    %s\n    password:    %s\n", ba.Username, ba.Password)
	} else {
		fmt.Fprintf(w, "  basic-auth:    (none)\n")
	}
	if t := js.TLS; t != nil {
		source := t.Source
		if source == "" {
			source = "file (implied by certificate and key)"
		}
		fmt.Fprintf(w, "  tls:\n    source:      %s\n", source)
		rootCA := t.RootCA
		if rootCA == "" {
			rootCA = "(system root CAs)"
		}
		fmt.Fprintf(w, "    root-ca:     %s\n", rootCA)
		if t.Source != "key-vault" {
			fmt.Fprintf(w, "    certificate: %s\n", t.Certificate)
			switch {
			case t.KeyRef != nil:
				fmt.Fprintf(w, "    key:         {%s} -> written to %s at deploy time\n", t.KeyRef, t.KeyRef.Target)
			case t.KeyFile != "":
				fmt.Fprintf(w, "    key:         %s (literal file, hidden)\n", t.KeyFile)
			}
		}
	} else {
		fmt.Fprintf(w, "  tls:           (none: system root CAs, no client certificate)\n")
	}
	if len(js.Headers) == 0 {
		fmt.Fprintf(w, "  headers:       (none)\n")
	} else {
		fmt.Fprintf(w, "  headers:\n")
		names := make([]string, 0, len(js.Headers))
		for k := range js.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			v := js.Headers[k]
			shown := v.String()
			if v.Ref == nil && !looksSecret(k) {
				shown = v.Literal
			}
			fmt.Fprintf(w, "    %s: %s\n", k, shown)
		}
	}
}

func looksSecret(header string) bool {
	h := strings.ToLower(header)
	return strings.Contains(h, "auth") || strings.Contains(h, "key") || strings.Contains(h, "token") ||
		strings.Contains(h, "secret") || strings.Contains(h, "cookie")
}
