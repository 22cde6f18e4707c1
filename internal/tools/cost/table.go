// Package cost estimates the monthly cost of a deployment from its
// synthesized templates (`make cost`): every resource of every stack is priced
// from its type and properties with the table in prices.yaml (list prices per
// region, with their sources and date, and the usage assumptions the
// templates cannot tell), or is free for a reason the table gives. A resource
// type the table neither prices nor calls free refuses the estimate, and so
// does a region the table lacks.
package cost

import (
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed prices.yaml
var pricesYAML []byte

// TableFile is where the table lives in the repository, for messages.
const TableFile = "internal/tools/cost/prices.yaml"

// Table is the pricing table: prices per region, assumptions and the
// resource types that are free.
type Table struct {
	Date          string  `yaml:"date"`
	Currency      string  `yaml:"currency"`
	HoursPerMonth float64 `yaml:"hoursPerMonth"`
	// Prices describes every price key.
	Prices      map[string]PriceInfo  `yaml:"prices"`
	Regions     map[string]Region     `yaml:"regions"`
	Assumptions map[string]Assumption `yaml:"assumptions"`
	// Free are the resource types without a charge of their own, by type
	// (a key ending in ::* covers every type with that prefix).
	Free map[string]FreeType `yaml:"free"`
}

// PriceInfo is the unit and source of one price key.
type PriceInfo struct {
	Unit   string `yaml:"unit"`
	Source string `yaml:"source"`
}

// Region holds the prices of one region.
type Region struct {
	Name   string             `yaml:"name"`
	Prices map[string]float64 `yaml:"prices"`
	// Unconfirmed are the price keys whose figure no page confirmed.
	Unconfirmed []string `yaml:"unconfirmed"`
}

// Assumption is a usage figure the templates do not tell.
type Assumption struct {
	Value float64 `yaml:"value"`
	Unit  string  `yaml:"unit"`
	Doc   string  `yaml:"doc"`
}

// FreeType says why a resource type costs nothing by itself, and what
// charge it can bring that the estimate leaves out.
type FreeType struct {
	Reason string `yaml:"reason"`
	Caveat string `yaml:"caveat"`
}

// LoadTable reads the table of the repository (prices.yaml, embedded).
func LoadTable() (*Table, error) { return ParseTable(pricesYAML) }

// ParseTable parses and checks a pricing table: every region has a price
// for every key and nothing else, unconfirmed keys exist, no type is both
// priced by the code and free.
func ParseTable(data []byte) (*Table, error) {
	var t Table
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%s: %w", TableFile, err)
	}
	var problems []string
	if t.Date == "" || t.Currency == "" || t.HoursPerMonth <= 0 {
		problems = append(problems, "date, currency and hoursPerMonth are required")
	}
	for key, info := range t.Prices {
		if info.Unit == "" || info.Source == "" {
			problems = append(problems, fmt.Sprintf("price %s: give its unit and source", key))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(t.Regions)) {
		r := t.Regions[name]
		for key := range t.Prices {
			if _, ok := r.Prices[key]; !ok {
				problems = append(problems, fmt.Sprintf("region %s: no price for %s; every region needs every price", name, key))
			}
		}
		for key, v := range r.Prices {
			if _, ok := t.Prices[key]; !ok {
				problems = append(problems, fmt.Sprintf("region %s: price %s is not described under prices", name, key))
			}
			if v < 0 {
				problems = append(problems, fmt.Sprintf("region %s: price %s is negative", name, key))
			}
		}
		for _, key := range r.Unconfirmed {
			if _, ok := t.Prices[key]; !ok {
				problems = append(problems, fmt.Sprintf("region %s: unconfirmed %s is not a price key", name, key))
			}
		}
	}
	for typ, f := range t.Free {
		if f.Reason == "" {
			problems = append(problems, fmt.Sprintf("free type %s: give the reason it costs nothing", typ))
		}
		if _, priced := pricers[typ]; priced {
			problems = append(problems, fmt.Sprintf("type %s is priced by the code and listed as free; remove it from free", typ))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("%s:\n  %s", TableFile, strings.Join(problems, "\n  "))
	}
	return &t, nil
}

// Classification of a resource type.
const (
	Priced  = "priced"
	Free    = "free"
	Unknown = "unknown"
)

// Classify tells whether a resource type is priced by the code, free (with
// the table's reason), or unknown to the table.
func (t *Table) Classify(typ string) (class, reason string) {
	if _, ok := pricers[typ]; ok {
		return Priced, ""
	}
	if f, ok := t.free(typ); ok {
		return Free, f.Reason
	}
	return Unknown, ""
}

func (t *Table) free(typ string) (FreeType, bool) {
	if f, ok := t.Free[typ]; ok {
		return f, true
	}
	for key, f := range t.Free {
		if prefix, ok := strings.CutSuffix(key, "*"); ok && strings.HasPrefix(typ, prefix) {
			return f, true
		}
	}
	return FreeType{}, false
}

// RegionNames lists the regions of the table.
func (t *Table) RegionNames() []string { return slices.Sorted(maps.Keys(t.Regions)) }
