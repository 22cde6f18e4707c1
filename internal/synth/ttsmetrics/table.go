// Package ttsmetrics decides which of The Things Stack's Prometheus metrics
// reach CloudWatch: the table of kept series, the CloudWatch namespace of a
// deployment, the configuration of the collector that runs beside each
// component (the AWS Distro for OpenTelemetry collector: a prometheus
// receiver scraping the component's /metrics, the awsemf exporter), and the
// dashboard's traffic widgets. The alarms and widgets are built from the
// table only, and the rehearsal checks the table against what a real
// ttn-lw-stack exports.
//
// Every kept series and every value of a kept label is a billed CloudWatch
// custom metric, so the table is short on purpose; see Cost.
package ttsmetrics

import (
	"slices"
	"sort"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// Kind is the Prometheus type of a series.
type Kind string

// Kinds.
const (
	// Counter: the collector sends the increase since its previous scrape
	// (awsemf turns cumulative sums into deltas), so the CloudWatch Sum over
	// a period, across tasks, is the number of events in that period.
	Counter Kind = "counter"
	// Gauge: the value at the scrape. Several tasks send datapoints with the
	// same dimensions; CloudWatch keeps them all, so Maximum is the largest
	// task's value and Sum adds the tasks' values (and the scrapes in the
	// period: see GaugeScrapesPerPeriod).
	Gauge Kind = "gauge"
)

// ComponentDimension is the CloudWatch dimension (a target label the
// collector adds to every scraped series) naming the component, e.g. gs.
const ComponentDimension = "component"

// Series is one kept Prometheus metric of one component.
type Series struct {
	// Name is the Prometheus name (ttn_lw_<subsystem>_<name>), also the
	// CloudWatch metric name.
	Name      string
	Component ports.Component
	Kind      Kind
	// Labels are the Prometheus labels kept as CloudWatch dimensions
	// besides ComponentDimension; the other labels of the series are
	// aggregated away (their datapoints share the dimensions).
	Labels []string
	// Meaning says what the series counts, for the README and the widgets.
	Meaning string
	// Source is where The Things Stack v3.32.1 defines it.
	Source string
	// AfterTraffic: TTS exports the series only once it has counted
	// something (a labelled vector has no series before its first label
	// value); a fresh deployment exports none of these.
	AfterTraffic bool
}

// Dimensions are the CloudWatch dimensions of the series, sorted as awsemf's
// metric declaration lists them.
func (s Series) Dimensions() []string {
	return append([]string{ComponentDimension}, s.Labels...)
}

// Metric names of the table.
const (
	GatewaysConnected = "ttn_lw_gs_connected_gateways"
	GSUplinks         = "ttn_lw_gs_uplink_received_total"
	GSDownlinks       = "ttn_lw_gs_downlink_sent_total"
	NSUplinks         = "ttn_lw_ns_uplink_received_total"
	JoinsAccepted     = "ttn_lw_js_join_accepted_total"
	JoinsRejected     = "ttn_lw_js_join_rejected_total"
)

// MessageTypeLabel is the Network Server's label of the LoRaWAN message type
// (lower case: join_request, unconfirmed_up, confirmed_up, rejoin_request).
const MessageTypeLabel = "message_type"

// Table returns every kept series. Sources: pkg/gatewayserver/observability.go,
// pkg/networkserver/observability.go and pkg/joinserver/observability.go of
// The Things Stack v3.32.1 (namespace ttn_lw, pkg/metrics).
func Table() []Series {
	return []Series{
		{Name: GatewaysConnected, Component: ports.GatewayServer, Kind: Gauge, AfterTraffic: true,
			Meaning: "gateways connected to the Gateway Server task (every protocol: its label protocol is summed away)",
			Source:  "pkg/gatewayserver/observability.go gatewaysConnected"},
		{Name: GSUplinks, Component: ports.GatewayServer, Kind: Counter, AfterTraffic: true,
			Meaning: "uplinks received from gateways (every protocol)",
			Source:  "pkg/gatewayserver/observability.go uplinkReceived"},
		{Name: GSDownlinks, Component: ports.GatewayServer, Kind: Counter, AfterTraffic: true,
			Meaning: "downlinks scheduled on a gateway (join-accepts included)",
			Source:  "pkg/gatewayserver/observability.go downlinkSent"},
		{Name: NSUplinks, Component: ports.NetworkServer, Kind: Counter, AfterTraffic: true, Labels: []string{MessageTypeLabel},
			Meaning: "uplinks received by the Network Server (duplicates included), by LoRaWAN message type: join_request are the join attempts",
			Source:  "pkg/networkserver/observability.go uplinkReceived"},
		{Name: JoinsAccepted, Component: ports.JoinServer, Kind: Counter, AfterTraffic: true,
			Meaning: "joins accepted by the deployment's Join Server (its label net_id is summed away)",
			Source:  "pkg/joinserver/observability.go joinAccepted"},
		{Name: JoinsRejected, Component: ports.JoinServer, Kind: Counter, AfterTraffic: true,
			Meaning: "join-requests the deployment's Join Server refused, also those it does not know and leaves to an external Join Server (its label error is summed away)",
			Source:  "pkg/joinserver/observability.go joinRejected"},
	}
}

// ForComponent returns the kept series of component c, sorted by name.
func ForComponent(c ports.Component) []Series {
	var out []Series
	for _, s := range Table() {
		if s.Component == c {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Collected returns the components that keep at least one series: those
// whose tasks run a collector.
func Collected() []ports.Component {
	var out []ports.Component
	for _, s := range Table() {
		if !slices.Contains(out, s.Component) {
			out = append(out, s.Component)
		}
	}
	return out
}

// Lookup returns the series of a metric name.
func Lookup(name string) (Series, bool) {
	for _, s := range Table() {
		if s.Name == name {
			return s, true
		}
	}
	return Series{}, false
}

// Namespace is the CloudWatch namespace of a deployment's metrics.
func Namespace(prefix string) string { return "TheThingsStack/" + prefix }
