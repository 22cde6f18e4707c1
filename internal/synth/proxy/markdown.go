package proxy

import (
	"fmt"
	"strings"
)

// README markers around the generated route table.
const (
	MarkdownBegin = "<!-- BEGIN GENERATED ROUTES: proxy.RoutesMarkdown() -->"
	MarkdownEnd   = "<!-- END GENERATED ROUTES -->"
)

// RoutesMarkdown returns the route table as Markdown: HTTP path prefixes,
// gRPC services per component, and the inter-component services that are not
// routed. proxy/README.md holds a copy between MarkdownBegin and MarkdownEnd.
func RoutesMarkdown() string {
	r := Table()
	var b strings.Builder
	fmt.Fprintf(&b, "Routes of The Things Stack %s, longest prefix wins (nginx prefix locations).\n\n", TTSVersion)
	b.WriteString("### HTTP (ports 1885 and 443)\n\n")
	b.WriteString("| path prefix | component | source | note |\n| --- | --- | --- | --- |\n")
	for _, h := range r.sortedHTTP() {
		prefix := "`" + h.Prefix + "`"
		if h.Exact {
			prefix += " (exact)"
		}
		note := h.Note
		if h.Stream {
			note = strings.TrimSpace("streaming, long idle timeout. " + note)
		}
		fmt.Fprintf(&b, "| %s | %s (`%s`) | `%s` | %s |\n", prefix, h.Component.Title(), h.Component, h.Source, mdEscape(note))
	}
	for _, d := range r.Deny {
		fmt.Fprintf(&b, "| `%s` | none: 404 at the proxy | `pkg/component/web.go` | component internals, not public |\n", d)
	}
	b.WriteString("\n### gRPC (port 1884, behind 8884)\n\n")
	b.WriteString("| component | services (`ttn.lorawan.v3.`) |\n| --- | --- |\n")
	for _, c := range r.UsedComponents() {
		var svcs []string
		for _, g := range r.GRPC {
			if g.Component == c {
				svcs = append(svcs, "`"+strings.TrimPrefix(g.Service, pkgPrefix)+"`")
			}
		}
		if len(svcs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "| %s (`%s`) | %s |\n", c.Title(), c, strings.Join(svcs, ", "))
	}
	b.WriteString("\nNot routed (inter-component, dialled via cluster addresses; the proxy answers gRPC status 12 UNIMPLEMENTED): ")
	var internal []string
	for _, s := range InternalServices() {
		internal = append(internal, "`"+strings.TrimPrefix(s.Service, pkgPrefix)+"`")
	}
	b.WriteString(strings.Join(internal, ", "))
	b.WriteString(".\n")
	return b.String()
}

func mdEscape(s string) string {
	return strings.ReplaceAll(s, "|", "\\|")
}
