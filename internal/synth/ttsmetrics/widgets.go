package ttsmetrics

import (
	"fmt"
)

// WidgetPeriod is the period of the traffic widgets, in seconds.
const WidgetPeriod = 300

// GaugeScrapesPerPeriod is how many datapoints one task sends for a gauge
// in WidgetPeriod: dividing the Sum over the period by it adds the tasks'
// values (the estimate is off by at most one scrape per task at the edges).
const GaugeScrapesPerPeriod = WidgetPeriod / 60

// Widget is a CloudWatch dashboard widget, as the dashboard body's JSON
// writes it.
type Widget struct {
	Type       string           `json:"type"`
	X          int              `json:"x"`
	Y          int              `json:"y"`
	Width      int              `json:"width"`
	Height     int              `json:"height"`
	Properties WidgetProperties `json:"properties"`
}

// WidgetProperties of a metric widget.
type WidgetProperties struct {
	Title   string  `json:"title"`
	View    string  `json:"view"`
	Region  string  `json:"region"`
	Period  int     `json:"period"`
	Stat    string  `json:"stat"`
	Stacked bool    `json:"stacked"`
	Metrics [][]any `json:"metrics"`
}

// MetricRef is one metric a widget or an alarm reads.
type MetricRef struct {
	Namespace, Name string
	Dimensions      map[string]string
}

// metric is a widget's metric row: namespace, name, dimension pairs, options.
func metric(ns string, s Series, labels map[string]string, opts map[string]any) []any {
	row := []any{ns, s.Name, ComponentDimension, string(s.Component)}
	for _, l := range s.Labels {
		row = append(row, l, labels[l])
	}
	return append(row, opts)
}

func mustSeries(name string) Series {
	s, ok := Lookup(name)
	if !ok {
		panic("ttsmetrics: " + name + " is not in the table")
	}
	return s
}

// Widgets returns the dashboard's traffic row at height y: uplinks,
// downlinks, joins and gateways connected, all across tasks, from the table's
// series only.
func Widgets(prefix, region string, y int) []Widget {
	ns := Namespace(prefix)
	w := func(x int, title, stat string, rows ...[]any) Widget {
		return Widget{Type: "metric", X: x, Y: y, Width: 6, Height: 6, Properties: WidgetProperties{
			Title: title, View: "timeSeries", Region: region, Period: WidgetPeriod, Stat: stat, Metrics: rows,
		}}
	}
	per := fmt.Sprintf(" per %d min", WidgetPeriod/60)
	gw := mustSeries(GatewaysConnected)
	return []Widget{
		w(0, "Uplinks"+per, "Sum",
			metric(ns, mustSeries(GSUplinks), nil, map[string]any{"label": "received by the Gateway Servers"}),
			metric(ns, mustSeries(NSUplinks), map[string]string{MessageTypeLabel: "unconfirmed_up"}, map[string]any{"label": "unconfirmed data uplinks at the Network Server"}),
			metric(ns, mustSeries(NSUplinks), map[string]string{MessageTypeLabel: "confirmed_up"}, map[string]any{"label": "confirmed data uplinks at the Network Server"}),
		),
		w(6, "Downlinks"+per, "Sum",
			metric(ns, mustSeries(GSDownlinks), nil, map[string]any{"label": "scheduled on gateways"}),
		),
		w(12, "Joins"+per, "Sum",
			metric(ns, mustSeries(NSUplinks), map[string]string{MessageTypeLabel: "join_request"}, map[string]any{"label": "join-requests at the Network Server"}),
			metric(ns, mustSeries(JoinsAccepted), nil, map[string]any{"label": "accepted by the Join Server"}),
			metric(ns, mustSeries(JoinsRejected), nil, map[string]any{"label": "refused or unknown at the Join Server"}),
		),
		w(18, "Gateways connected", "Maximum",
			[]any{map[string]any{"expression": fmt.Sprintf("m1 / %d", GaugeScrapesPerPeriod), "label": "all Gateway Server tasks", "id": "e1"}},
			metric(ns, gw, nil, map[string]any{"id": "m1", "stat": "Sum", "visible": false}),
			metric(ns, gw, nil, map[string]any{"id": "m2", "label": "busiest task"}),
		),
	}
}

// WidgetMetrics returns every metric the widgets read (expressions read
// metrics by id, which are rows too).
func WidgetMetrics(ws []Widget) ([]MetricRef, error) {
	var out []MetricRef
	for _, w := range ws {
		for _, row := range w.Properties.Metrics {
			if len(row) < 2 {
				continue // an expression row
			}
			ns, ok1 := row[0].(string)
			name, ok2 := row[1].(string)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("widget %q: a row that is not [namespace, name, ...]: %v", w.Properties.Title, row)
			}
			ref := MetricRef{Namespace: ns, Name: name, Dimensions: map[string]string{}}
			rest := row[2:]
			if len(rest) > 0 {
				if _, isOpts := rest[len(rest)-1].(map[string]any); isOpts {
					rest = rest[:len(rest)-1]
				}
			}
			if len(rest)%2 != 0 {
				return nil, fmt.Errorf("widget %q: odd dimension list %v", w.Properties.Title, rest)
			}
			for i := 0; i < len(rest); i += 2 {
				k, _ := rest[i].(string)
				v, _ := rest[i+1].(string)
				ref.Dimensions[k] = v
			}
			out = append(out, ref)
		}
	}
	return out, nil
}

// CheckRef tells why a metric reference is not one the collectors of the
// deployment prefix export ("" when it is): the namespace, a kept name, and
// exactly its dimensions, the component's value among them.
func CheckRef(prefix string, r MetricRef) string {
	if r.Namespace != Namespace(prefix) {
		return fmt.Sprintf("%s: namespace %q, the collectors write %q", r.Name, r.Namespace, Namespace(prefix))
	}
	s, ok := Lookup(r.Name)
	if !ok {
		return fmt.Sprintf("%s is not a kept series", r.Name)
	}
	if len(r.Dimensions) != len(s.Dimensions()) {
		return fmt.Sprintf("%s: dimensions %v, the collector exports %v", r.Name, r.Dimensions, s.Dimensions())
	}
	for _, d := range s.Dimensions() {
		if _, ok := r.Dimensions[d]; !ok {
			return fmt.Sprintf("%s: dimensions %v lack %s", r.Name, r.Dimensions, d)
		}
	}
	if r.Dimensions[ComponentDimension] != string(s.Component) {
		return fmt.Sprintf("%s: %s=%q, its collector sets %q", r.Name, ComponentDimension, r.Dimensions[ComponentDimension], s.Component)
	}
	return ""
}
