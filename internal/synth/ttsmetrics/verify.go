package ttsmetrics

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// Verify compares what collector c of component comp keeps of a real scrape
// with the table: the kept metric names must be exactly the table's series of
// comp, each with its declared Prometheus type and every kept label, and each
// must be exported under exactly its dimension set (the component label and
// the kept labels), with no dimension rollup. It returns the problems (none:
// nil) and a one-line summary.
func Verify(comp ports.Component, c *Collector, e *Exposition) (problems []string, summary string) {
	want := ForComponent(comp)
	if c.Labels[ComponentDimension] != string(comp) {
		problems = append(problems, fmt.Sprintf("the scrape adds %s=%q, want %q", ComponentDimension, c.Labels[ComponentDimension], comp))
	}
	if c.Rollup != "NoDimensionRollup" {
		problems = append(problems, fmt.Sprintf("awsemf dimension_rollup_option %q: every rollup is another billed metric", c.Rollup))
	}
	kept := map[string][]Sample{}
	for _, s := range e.Samples {
		labels := map[string]string{}
		for k, v := range s.Labels {
			labels[k] = v
		}
		// Target labels are attached before metric relabelling.
		for k, v := range c.Labels {
			labels[k] = v
		}
		if c.Keeps(labels) {
			kept[s.Name()] = append(kept[s.Name()], Sample{Labels: labels, Value: s.Value})
		}
	}
	var keptNames []string
	for n := range kept {
		keptNames = append(keptNames, n)
	}
	sort.Strings(keptNames)
	for _, n := range keptNames {
		if _, ok := Lookup(n); !ok {
			problems = append(problems, fmt.Sprintf("the filter keeps %s, which is not in the table", n))
		}
	}
	for _, s := range want {
		samples := kept[s.Name]
		if len(samples) == 0 {
			problems = append(problems, fmt.Sprintf("%s is not in what the component exports (or the filter drops it)", s.Name))
			continue
		}
		if typ := e.Types[s.Name]; typ != string(s.Kind) {
			problems = append(problems, fmt.Sprintf("%s is a %q, the table says %s", s.Name, typ, s.Kind))
		}
		for _, l := range s.Dimensions() {
			for _, smp := range samples {
				if _, ok := smp.Labels[l]; !ok {
					problems = append(problems, fmt.Sprintf("%s has a series without the label %s: %v", s.Name, l, smp.Labels))
					break
				}
			}
		}
		sets := c.DimensionSets(s.Name)
		if len(sets) != 1 || !slices.Equal(sets[0], s.Dimensions()) {
			problems = append(problems, fmt.Sprintf("awsemf exports %s under the dimension sets %v, want exactly [%s]", s.Name, sets, strings.Join(s.Dimensions(), " ")))
		}
	}
	series := 0
	for _, n := range keptNames {
		series += len(kept[n])
	}
	return problems, fmt.Sprintf("%s: %d of %d samples kept (%s)", comp, series, len(e.Samples), strings.Join(keptNames, ", "))
}
