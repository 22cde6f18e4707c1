package ttsmetrics

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

func collectorFor(t *testing.T, c ports.Component) *Collector {
	t.Helper()
	cfg, err := CollectorConfig(CollectorInputs{Component: c, Namespace: Namespace("tts"), LogGroup: "metrics-group", Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cfg, "s3cret") {
		t.Fatal("the configuration holds a password value")
	}
	expanded, err := Expand(cfg, map[string]string{PasswordVariable: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	col, err := ParseCollector(expanded)
	if err != nil {
		t.Fatal(err)
	}
	return col
}

// TestCollectorKeepsExactlyTheTable applies the generated keep rule with
// Prometheus's anchoring to the table's names and to names that share a
// prefix or a suffix with them (TTS exports ttn_lw_gs_uplink_received_total
// beside ttn_lw_gs_uplink_forwarded_total, and histograms add _bucket).
func TestCollectorKeepsExactlyTheTable(t *testing.T) {
	for _, c := range Collected() {
		col := collectorFor(t, c)
		if col.Target != "localhost:1885" || col.Path != "/metrics" || col.Username != "metrics" || col.Password != "s3cret" {
			t.Errorf("%s: scrape %s%s as %s:%s", c, col.Target, col.Path, col.Username, col.Password)
		}
		for _, s := range Table() {
			for _, name := range []string{s.Name, s.Name + "_bucket", "x" + s.Name, strings.TrimSuffix(s.Name, "_total")} {
				want := name == s.Name && s.Component == c
				if got := col.Keeps(map[string]string{"__name__": name}); got != want {
					t.Errorf("%s collector keeps %s: %v, want %v", c, name, got, want)
				}
			}
			sets := col.DimensionSets(s.Name)
			if s.Component == c && (len(sets) != 1 || !slices.Equal(sets[0], s.Dimensions())) {
				t.Errorf("%s: %s exported under %v, want [%v]", c, s.Name, sets, s.Dimensions())
			}
		}
		if col.Rollup != "NoDimensionRollup" || col.Namespace != "TheThingsStack/tts" || col.LogGroup != "metrics-group" {
			t.Errorf("%s: awsemf %+v", c, col)
		}
	}
}

func TestNoCollectorWithoutSeries(t *testing.T) {
	if _, err := CollectorConfig(CollectorInputs{Component: ports.Console, Namespace: "n", LogGroup: "g", Region: "r"}); err == nil {
		t.Error("a collector for a component the table keeps nothing of")
	}
}

func TestExpandIsTheCollectorsSyntax(t *testing.T) {
	got, err := Expand("a$$b ${env:X} c", map[string]string{"X": "v"})
	if err != nil || got != "a$b v c" {
		t.Errorf("%q %v", got, err)
	}
	for _, bad := range []string{"$X", "${X}", "${env:Y}"} {
		if _, err := Expand(bad, map[string]string{"X": "v"}); err == nil {
			t.Errorf("%q expanded", bad)
		}
	}
}

// TestWidgetsReadOnlyWhatTheCollectorsExport renders the widgets as a
// dashboard body and reads every metric back from the JSON.
func TestWidgetsReadOnlyWhatTheCollectorsExport(t *testing.T) {
	ws := Widgets("tts", "eu-west-1", 0)
	body, err := json.Marshal(map[string]any{"widgets": ws})
	if err != nil {
		t.Fatal(err)
	}
	var back struct{ Widgets []Widget }
	if err := json.Unmarshal(body, &back); err != nil {
		t.Fatal(err)
	}
	refs, err := WidgetMetrics(back.Widgets)
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, r := range refs {
		if why := CheckRef("tts", r); why != "" {
			t.Error(why)
		}
		shown[r.Name] = true
	}
	for _, s := range Table() {
		if !shown[s.Name] {
			t.Errorf("%s is kept (and billed) but no widget shows it", s.Name)
		}
	}
	if len(back.Widgets) != 4 {
		t.Errorf("%d widgets, want the traffic row of 4", len(back.Widgets))
	}
	if why := CheckRef("tts", MetricRef{Namespace: "TheThingsStack/tts", Name: GSUplinks, Dimensions: map[string]string{"component": "ns"}}); why == "" {
		t.Error("a wrong component value passes")
	}
}

func TestExpositionParser(t *testing.T) {
	e, err := ParseExposition("# HELP x y\n# TYPE ttn_lw_ns_uplink_received_total counter\n" +
		`ttn_lw_ns_uplink_received_total{message_type="join_request",x="a\"b,c"} 3` + "\n" + "up 1 1700000000\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Samples) != 2 || e.Samples[0].Labels["x"] != `a"b,c` || e.Samples[0].Value != 3 || e.Types[NSUplinks] != "counter" {
		t.Errorf("%+v", e)
	}
}
