package cost

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
)

// maxDrivers is the number of resources listed as what drives the cost.
const maxDrivers = 6

// Markdown renders the estimate: the cost per stack and kind, what drives
// it, the assumptions it rests on and what it leaves out.
func (e *Estimate) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Environment `%s`: %s a month\n\n", e.Env, money(e.Total()))
	fmt.Fprintf(&b, "%s, %s: on-demand list prices of %s (%s), without free tiers or taxes. ", e.RegionName, e.Region, e.Date, e.Currency)
	fmt.Fprintf(&b, "With every scaling resource at its maximum all month (service tasks, database capacity): %s.", money(e.Ceiling()))
	if e.Unconfirmed > 0 {
		fmt.Fprintf(&b, " %s of the estimate rests on prices not confirmed against a published page (`unconfirmed` in %s).", money(e.Unconfirmed), TableFile)
	}
	b.WriteString("\n\n")

	byKind := e.ByKind()
	var kinds []string
	for _, k := range Kinds() {
		if round(byKind[k], 2) != 0 {
			kinds = append(kinds, k)
		}
	}
	b.WriteString("| stack | " + strings.Join(kinds, " | ") + " | total |\n")
	b.WriteString("| --- |" + strings.Repeat(" ---: |", len(kinds)+1) + "\n")
	byStack := e.ByStackKind()
	for _, stack := range slices.Sorted(maps.Keys(byStack)) {
		row := []string{"`" + stack + "`"}
		var total float64
		for _, k := range kinds {
			row = append(row, cell(byStack[stack][k]))
			total += byStack[stack][k]
		}
		row = append(row, money(total))
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	row := []string{"**total**"}
	for _, k := range kinds {
		row = append(row, "**"+money(byKind[k])+"**")
	}
	row = append(row, "**"+money(e.Total())+"**")
	b.WriteString("| " + strings.Join(row, " | ") + " |\n\n")

	b.WriteString("What drives it (the largest resources):\n\n")
	for _, d := range e.drivers(maxDrivers) {
		fmt.Fprintf(&b, "- %s: `%s` %s (%s): %s\n", money(d.monthly), d.stack, d.id, d.typ, strings.Join(d.what, "; "))
	}
	b.WriteString("\nAssumptions (usage the templates do not tell):\n\n")
	for _, key := range e.Assumptions {
		a := e.table.Assumptions[key]
		fmt.Fprintf(&b, "- %s: %g %s, %s\n", key, a.Value, a.Unit, a.Doc)
	}
	if len(e.Caveats) > 0 {
		b.WriteString("\nNot estimated:\n\n")
		for _, typ := range slices.Sorted(maps.Keys(e.Caveats)) {
			fmt.Fprintf(&b, "- %s: %s\n", typ, e.Caveats[typ])
		}
	}
	return b.String()
}

type driver struct {
	stack, id, typ string
	what           []string
	monthly        float64
}

// drivers returns the n resources with the largest monthly cost.
func (e *Estimate) drivers(n int) []driver {
	byRes := map[string]*driver{}
	var order []string
	for _, l := range e.Lines {
		key := l.Stack + "/" + l.LogicalID
		d, ok := byRes[key]
		if !ok {
			d = &driver{stack: l.Stack, id: l.LogicalID, typ: l.Type}
			byRes[key] = d
			order = append(order, key)
		}
		d.what = append(d.what, l.What)
		d.monthly += l.Monthly
	}
	out := make([]driver, 0, len(order))
	for _, k := range order {
		out = append(out, *byRes[k])
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].monthly != out[j].monthly {
			return out[i].monthly > out[j].monthly
		}
		return out[i].stack+out[i].id < out[j].stack+out[j].id
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// DeltaMarkdown renders the change of the estimate from base to head (base
// nil: a new environment) per kind and per stack.
func DeltaMarkdown(base, head *Estimate) string {
	var b strings.Builder
	if base == nil {
		fmt.Fprintf(&b, "Estimated monthly cost (`make cost`): %s (new environment).\n", money(head.Total()))
		return b.String()
	}
	d := head.Total() - base.Total()
	fmt.Fprintf(&b, "Estimated monthly cost (`make cost`): %s before, %s after: **%s**", money(base.Total()), money(head.Total()), signed(d))
	if base.Total() > 0 && round(d, 2) != 0 {
		fmt.Fprintf(&b, " (%+.1f%%)", 100*d/base.Total())
	}
	b.WriteString(".\n")
	if round(d, 2) == 0 && round(head.Ceiling()-base.Ceiling(), 2) == 0 {
		return b.String()
	}
	bk, hk := base.ByKind(), head.ByKind()
	var parts []string
	for _, k := range Kinds() {
		if diff := hk[k] - bk[k]; round(diff, 2) != 0 {
			parts = append(parts, fmt.Sprintf("%s %s", k, signed(diff)))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(&b, "- per kind: %s\n", strings.Join(parts, ", "))
	}
	bs, hs := base.ByStackKind(), head.ByStackKind()
	stacks := map[string]bool{}
	for s := range bs {
		stacks[s] = true
	}
	for s := range hs {
		stacks[s] = true
	}
	parts = nil
	for _, s := range slices.Sorted(maps.Keys(stacks)) {
		var diff float64
		for _, v := range hs[s] {
			diff += v
		}
		for _, v := range bs[s] {
			diff -= v
		}
		if round(diff, 2) != 0 {
			parts = append(parts, fmt.Sprintf("`%s` %s", s, signed(diff)))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(&b, "- per stack: %s\n", strings.Join(parts, ", "))
	}
	if c := head.Ceiling() - base.Ceiling(); round(c, 2) != 0 {
		fmt.Fprintf(&b, "- at the scaling maximum: %s before, %s after (%s)\n", money(base.Ceiling()), money(head.Ceiling()), signed(c))
	}
	return b.String()
}

func cell(v float64) string {
	if round(v, 2) == 0 {
		return ""
	}
	return money(v)
}

// Money formats an amount of dollars with two decimals and thousands
// separators.
func Money(v float64) string { return money(v) }

func money(v float64) string {
	neg := v < 0
	cents := int64(math.Round(math.Abs(v) * 100))
	whole, frac := cents/100, cents%100
	s := fmt.Sprintf("%d", whole)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	out := fmt.Sprintf("$%s.%02d", s, frac)
	if neg && cents != 0 {
		out = "-" + out
	}
	return out
}

func signed(v float64) string {
	if round(v, 2) > 0 {
		return "+" + money(v)
	}
	return money(v)
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
