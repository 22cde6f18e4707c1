package cost

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/assembly"
)

// Kinds of cost, in the order of the report's columns.
const (
	KindTasks     = "tasks"
	KindNAT       = "NAT"
	KindLB        = "load balancer"
	KindIPv4      = "public IPv4"
	KindDatabase  = "database"
	KindCache     = "cache"
	KindLogs      = "logs"
	KindMonitor   = "metrics, alarms, dashboards"
	KindSecrets   = "secrets, keys"
	KindStorage   = "S3, CDN"
	KindFunctions = "functions"
	KindOther     = "other"
)

// Kinds lists every kind in report order.
func Kinds() []string {
	return []string{KindTasks, KindNAT, KindLB, KindIPv4, KindDatabase, KindCache, KindLogs, KindMonitor, KindSecrets, KindStorage, KindFunctions, KindOther}
}

// StackTemplate is one stack to price.
type StackTemplate struct {
	Name     string
	Template assembly.Template
}

// Line is the monthly cost of one part of one resource.
type Line struct {
	Stack, LogicalID, Type string
	Kind                   string
	// What says what is counted, e.g. "2 tasks x (0.5 vCPU, 1 GB) ARM64".
	What string
	// Monthly is the estimate; Ceiling is the cost when the resource runs at
	// its configured maximum all month (scaling), equal to Monthly when it
	// does not scale.
	Monthly, Ceiling float64
}

// Estimate is the monthly cost of one environment.
type Estimate struct {
	Env, Region, RegionName, Date, Currency string
	Lines                                   []Line
	// Assumptions are the keys of the assumptions the lines use.
	Assumptions []string
	// Caveats are charges the estimate leaves out, by resource type.
	Caveats map[string]string
	// Unconfirmed is the part of Monthly that rests on unconfirmed prices.
	Unconfirmed float64
	table       *Table
}

// Total is the estimated monthly cost.
func (e *Estimate) Total() float64 {
	var sum float64
	for _, l := range e.Lines {
		sum += l.Monthly
	}
	return sum
}

// Ceiling is the monthly cost with every scaling resource at its maximum.
func (e *Estimate) Ceiling() float64 {
	var sum float64
	for _, l := range e.Lines {
		sum += l.Ceiling
	}
	return sum
}

// ByKind sums the lines per kind.
func (e *Estimate) ByKind() map[string]float64 {
	out := map[string]float64{}
	for _, l := range e.Lines {
		out[l.Kind] += l.Monthly
	}
	return out
}

// ByStackKind sums the lines per stack and kind.
func (e *Estimate) ByStackKind() map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, l := range e.Lines {
		if out[l.Stack] == nil {
			out[l.Stack] = map[string]float64{}
		}
		out[l.Stack][l.Kind] += l.Monthly
	}
	return out
}

// UnknownType is a resource type the table neither prices nor calls free.
type UnknownType struct {
	Type   string
	Where  []string // stack/logical id
	Reason string
}

// UnknownTypes returns the resource types of the stacks that the table
// neither prices nor calls free, with where they occur.
func (t *Table) UnknownTypes(stacks []StackTemplate) []UnknownType {
	found := map[string][]string{}
	for _, s := range stacks {
		for _, id := range slices.Sorted(maps.Keys(s.Template.Resources)) {
			typ := s.Template.Resources[id].Type
			if class, _ := t.Classify(typ); class == Unknown {
				found[typ] = append(found[typ], s.Name+"/"+id)
			}
		}
	}
	var out []UnknownType
	for _, typ := range slices.Sorted(maps.Keys(found)) {
		out = append(out, UnknownType{Type: typ, Where: found[typ]})
	}
	return out
}

// Estimate prices the stacks of environment env in region.
func (t *Table) Estimate(env, region string, stacks []StackTemplate) (*Estimate, error) {
	r, ok := t.Regions[region]
	if !ok {
		return nil, fmt.Errorf("environment %s: region %q has no prices in %s (it has %s); add the region's prices there with their source and date, or estimate in one of those regions", env, region, TableFile, strings.Join(t.RegionNames(), ", "))
	}
	if unknown := t.UnknownTypes(stacks); len(unknown) > 0 {
		var parts []string
		for _, u := range unknown {
			parts = append(parts, fmt.Sprintf("%s (%s)", u.Type, strings.Join(u.Where, ", ")))
		}
		return nil, fmt.Errorf("environment %s: resource types with neither a price nor a reason to be free: %s; price them in internal/tools/cost/pricers.go, or list them under free in %s with the reason", env, strings.Join(parts, "; "), TableFile)
	}
	e := &Estimate{Env: env, Region: region, RegionName: r.Name, Date: t.Date, Currency: t.Currency, Caveats: map[string]string{}, table: t}
	p := &pricing{table: t, region: r, used: map[string]bool{}, unconfirmed: map[string]bool{}}
	for _, k := range r.Unconfirmed {
		p.unconfirmed[k] = true
	}
	sorted := append([]StackTemplate{}, stacks...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var errs []string
	for _, s := range sorted {
		idx := indexTemplate(s.Template)
		for _, id := range slices.Sorted(maps.Keys(s.Template.Resources)) {
			res := s.Template.Resources[id]
			if f, ok := t.free(res.Type); ok {
				if _, priced := pricers[res.Type]; !priced && f.Caveat != "" {
					e.Caveats[res.Type] = f.Caveat
				}
				continue
			}
			p.touched = false
			lines, err := pricers[res.Type](p, idx, id, res)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s/%s (%s): %v", s.Name, id, res.Type, err))
				continue
			}
			for _, l := range lines {
				if p.touched {
					p.unconfirmedTotal += l.Monthly
				}
				l.Stack, l.LogicalID, l.Type = s.Name, id, res.Type
				if l.Ceiling < l.Monthly {
					l.Ceiling = l.Monthly
				}
				e.Lines = append(e.Lines, l)
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("environment %s: cannot price:\n  %s", env, strings.Join(errs, "\n  "))
	}
	e.Assumptions = slices.Sorted(maps.Keys(p.used))
	e.Unconfirmed = p.unconfirmedTotal
	return e, nil
}

// pricing is the state of one estimate: the region's prices and what was
// used of the table.
type pricing struct {
	table       *Table
	region      Region
	used        map[string]bool // assumptions
	unconfirmed map[string]bool
	// touched tells whether the resource being priced used an unconfirmed
	// price; unconfirmedTotal sums the lines of such resources.
	touched          bool
	unconfirmedTotal float64
}

// cost returns quantity x the price of key, and marks the resource being
// priced when the figure is unconfirmed. A missing key is an error that
// names it.
func (p *pricing) cost(key string, quantity float64) (float64, error) {
	v, ok := p.region.Prices[key]
	if !ok {
		return 0, fmt.Errorf("no price %s for %s in %s; add it (with its source) to every region", key, p.region.Name, TableFile)
	}
	if p.unconfirmed[key] {
		p.touched = true
	}
	return v * quantity, nil
}

// assume returns the value of an assumption and records its use.
func (p *pricing) assume(key string) float64 {
	a, ok := p.table.Assumptions[key]
	if !ok {
		panic(fmt.Sprintf("cost: assumption %s is missing from %s", key, TableFile))
	}
	p.used[key] = true
	return a.Value
}

func (p *pricing) hours() float64 { return p.table.HoursPerMonth }
