// Package proxy renders the nginx reverse proxy that sits between the Network
// Load Balancer and the split The Things Stack (TTS) components on ECS.
//
// The route table in this file is the one place that says which TTS component
// serves which HTTP path prefix and which gRPC service. It is data, written by
// hand from TTS's own API definitions, pinned to one TTS version:
//
//	TTS version: v3.32.1 (github.com/TheThingsNetwork/lorawan-stack, tag v3.32.1)
//	gRPC services and google.api.http bindings: api/ttn/lorawan/v3/*.proto, in
//	particular application_services.proto, applicationserver*.proto,
//	client_services.proto, configuration_services.proto, contact_info.proto,
//	deviceclaimingserver.proto, devicerepository.proto, email_validation.proto,
//	end_device_services.proto, events.proto, gateway_configuration.proto,
//	gateway_services.proto, gatewayserver.proto, identityserver.proto,
//	joinserver.proto, networkserver.proto, networkserver_relay.proto,
//	notification_service.proto, oauth_services.proto,
//	organization_services.proto, packetbrokeragent.proto,
//	qrcodegenerator.proto, search_services.proto, user_services.proto; the
//	service list in api/ttn/lorawan/v3/api.swagger.json.
//	Non-API HTTP paths: cmd/ttn-lw-stack/commands/start.go (which component
//	registers what), pkg/console/console.go and
//	pkg/console/internal/events/events.go (Console and its event WebSocket),
//	pkg/basicstation/cups/server.go (CUPS /update-info, registered by the
//	Gateway Configuration Server), pkg/gatewayconfigurationserver (/api/v2
//	for The Things Kickstarter Gateway, /api/v3/gcs), pkg/component/web.go
//	(/healthz, /metrics, /debug/pprof on every component).
//
// Routing is by longest prefix, exactly like nginx prefix locations, so where
// prefixes of two components overlap the more specific one wins.
package proxy

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// TTSVersion is the version of The Things Stack the route table was written
// from.
const TTSVersion = "v3.32.1"

// HTTPRoute sends an HTTP path prefix to a component.
type HTTPRoute struct {
	// Prefix is the path prefix, starting with "/". Without a trailing slash
	// it also matches the bare collection path (e.g. "/api/v3/applications").
	Prefix string
	// Exact makes the route match only the path itself (nginx `location =`).
	Exact     bool
	Component ports.Component
	// Stream marks long-lived responses (event streams, WebSockets, storage
	// streams): the proxy does not buffer them and allows long idle times.
	Stream bool
	// Source is the TTS file the route comes from.
	Source string
	// Note explains a choice, shown in the README.
	Note string
}

// GRPCRoute sends a gRPC service (all its methods) to a component.
type GRPCRoute struct {
	// Service is the full name, e.g. "ttn.lorawan.v3.AppAs".
	Service   string
	Component ports.Component
	// Source is the proto file that defines the service.
	Source string
	Note   string
}

// InternalService is a gRPC service that TTS components call on each other
// through their cluster addresses (cluster.*-server settings, here ECS Service
// Connect names). The proxy does not route them: they are not meant for
// clients, and exposing them on the public port would only widen the attack
// surface (they are guarded by cluster keys, but defence in depth).
type InternalService struct {
	Service string
	Source  string
	Why     string
}

// Routes is the route table.
type Routes struct {
	HTTP []HTTPRoute
	GRPC []GRPCRoute
	// Deny lists path prefixes the proxy answers with 404 itself: component
	// internals that must not be reachable from the internet.
	Deny []string
}

const (
	pkgPrefix = "ttn.lorawan.v3."
	apiDir    = "api/ttn/lorawan/v3/"
)

// Table returns the route table. It returns a new value on every call.
func Table() Routes {
	p := func(f string) string { return apiDir + f }
	h := func(prefix string, c ports.Component, src string) HTTPRoute {
		return HTTPRoute{Prefix: prefix, Component: c, Source: src}
	}
	g := func(svc string, c ports.Component, src string) GRPCRoute {
		return GRPCRoute{Service: pkgPrefix + svc, Component: c, Source: p(src)}
	}
	return Routes{
		HTTP: []HTTPRoute{
			// Identity Server: the entity registries live at the top of /api/v3.
			h("/api/v3/applications", ports.IdentityServer, p("application_services.proto")+", "+p("end_device_services.proto")),
			h("/api/v3/auth_info", ports.IdentityServer, p("identityserver.proto")),
			h("/api/v3/clients", ports.IdentityServer, p("client_services.proto")),
			h("/api/v3/contact_info/", ports.IdentityServer, p("contact_info.proto")),
			h("/api/v3/email/", ports.IdentityServer, p("email_validation.proto")),
			h("/api/v3/gateways", ports.IdentityServer, p("gateway_services.proto")),
			h("/api/v3/invitations", ports.IdentityServer, p("user_services.proto")),
			h("/api/v3/is/", ports.IdentityServer, p("identityserver.proto")),
			h("/api/v3/organizations", ports.IdentityServer, p("organization_services.proto")),
			h("/api/v3/search/", ports.IdentityServer, p("search_services.proto")),
			h("/api/v3/users", ports.IdentityServer, p("user_services.proto")+", "+p("notification_service.proto")+", "+p("oauth_services.proto")),
			{
				Prefix: "/api/v3/events", Component: ports.IdentityServer, Stream: true, Source: p("events.proto"),
				Note: "every component serves Events; the IS is chosen. Needs a cluster-wide events backend (events.backend: redis).",
			},
			{
				Prefix: "/api/v3/configuration/", Component: ports.NetworkServer, Source: p("configuration_services.proto"),
				Note: "every component serves Configuration; the NS is chosen (it always loads frequency plans and bands).",
			},
			// Components with their own prefix.
			{
				Prefix: "/api/v3/as/", Component: ports.ApplicationServer, Stream: true,
				Source: p("applicationserver.proto") + ", " + p("applicationserver_web.proto") + ", " + p("applicationserver_pubsub.proto") + ", " + p("applicationserver_packages.proto") + ", " + p("applicationserver_integrations_storage.proto"),
				Note:   "storage integration reads (.../packages/storage/...) are long-lived streamed responses.",
			},
			h("/api/v3/ns/", ports.NetworkServer, p("networkserver.proto")+", "+p("networkserver_relay.proto")),
			h("/api/v3/js/", ports.JoinServer, p("joinserver.proto")),
			h("/api/v3/gs/", ports.GatewayServer, p("gatewayserver.proto")),
			h("/api/v3/gcs/", ports.GatewayConfigurationServer, p("gateway_configuration.proto")+", pkg/gatewayconfigurationserver"),
			h("/api/v3/edcs/", ports.DeviceClaimingServer, p("deviceclaimingserver.proto")),
			h("/api/v3/gcls/", ports.DeviceClaimingServer, p("deviceclaimingserver.proto")),
			h("/api/v3/dr/", ports.DeviceRepository, p("devicerepository.proto")),
			h("/api/v3/pba/", ports.PacketBrokerAgent, p("packetbrokeragent.proto")),
			h("/api/v3/qr-codes/", ports.QRCodeGenerator, p("qrcodegenerator.proto")),
			h("/api/v3/edtc/", ports.DeviceTemplateConverter, p("end_device_services.proto")),
			{
				Prefix: "/api/v3/console/", Component: ports.Console, Stream: true, Source: "pkg/console/internal/events/events.go",
				Note: "the Console's event WebSocket (/api/v3/console/internal/events/).",
			},
			// Non-API paths.
			{
				Prefix: "/api/v2/", Component: ports.GatewayConfigurationServer, Source: "pkg/gatewayconfigurationserver",
				Note: "The Things Kickstarter Gateway configuration API.",
			},
			{
				Prefix: "/update-info", Exact: true, Component: ports.GatewayConfigurationServer, Source: "pkg/basicstation/cups/server.go",
				Note: "LoRa Basics Station CUPS. LNS discovery (/router-info) is on the Basics Station port 1887/8887 of the GS, not here.",
			},
			h("/oauth", ports.IdentityServer, "pkg/identityserver (account app, is.oauth.ui.mount)"),
			h("/account", ports.IdentityServer, "pkg/identityserver (account app, when mounted at /account)"),
			h("/console", ports.Console, "pkg/console/console.go"),
			{
				Prefix: "/assets/", Component: ports.Console, Source: "pkg/web (http.static.mount)",
				Note: "every component with a web UI serves the same static files.",
			},
			{
				Prefix: "/healthz/", Component: ports.IdentityServer, Source: "pkg/component/web.go",
				Note: "component health of the IS; the proxy's own health check is on its health port.",
			},
			{
				Prefix: "/.well-known/", Component: ports.IdentityServer, Source: "pkg/identityserver",
				Note: "nothing is served here in v3.32.1 behind a TLS-terminating proxy; kept on the IS for OAuth discovery documents.",
			},
			{
				Prefix: "/", Component: ports.Console, Source: "cmd/ttn-lw-stack/commands/start.go",
				Note: "fallback: the root redirect to the Console.",
			},
		},
		GRPC: []GRPCRoute{
			g("ApplicationRegistry", ports.IdentityServer, "application_services.proto"),
			g("ApplicationAccess", ports.IdentityServer, "application_services.proto"),
			g("ClientRegistry", ports.IdentityServer, "client_services.proto"),
			g("ClientAccess", ports.IdentityServer, "client_services.proto"),
			g("ContactInfoRegistry", ports.IdentityServer, "contact_info.proto"),
			g("EmailValidationRegistry", ports.IdentityServer, "email_validation.proto"),
			g("EndDeviceRegistry", ports.IdentityServer, "end_device_services.proto"),
			g("EndDeviceBatchRegistry", ports.IdentityServer, "end_device_services.proto"),
			g("EntityAccess", ports.IdentityServer, "identityserver.proto"),
			g("Is", ports.IdentityServer, "identityserver.proto"),
			g("GatewayRegistry", ports.IdentityServer, "gateway_services.proto"),
			g("GatewayAccess", ports.IdentityServer, "gateway_services.proto"),
			g("GatewayBatchRegistry", ports.IdentityServer, "gateway_services.proto"),
			g("GatewayBatchAccess", ports.IdentityServer, "gateway_services.proto"),
			g("NotificationService", ports.IdentityServer, "notification_service.proto"),
			g("OAuthAuthorizationRegistry", ports.IdentityServer, "oauth_services.proto"),
			g("OrganizationRegistry", ports.IdentityServer, "organization_services.proto"),
			g("OrganizationAccess", ports.IdentityServer, "organization_services.proto"),
			g("EntityRegistrySearch", ports.IdentityServer, "search_services.proto"),
			g("EndDeviceRegistrySearch", ports.IdentityServer, "search_services.proto"),
			g("UserRegistry", ports.IdentityServer, "user_services.proto"),
			g("UserAccess", ports.IdentityServer, "user_services.proto"),
			g("UserInvitationRegistry", ports.IdentityServer, "user_services.proto"),
			g("UserSessionRegistry", ports.IdentityServer, "user_services.proto"),
			g("UserBookmarkRegistry", ports.IdentityServer, "user_services.proto"),
			{
				Service: pkgPrefix + "Events", Component: ports.IdentityServer, Source: p("events.proto"),
				Note: "served by every component (start.go registers it on the base component); the IS is chosen.",
			},
			{
				Service: pkgPrefix + "Configuration", Component: ports.NetworkServer, Source: p("configuration_services.proto"),
				Note: "served by every component; the NS is chosen.",
			},
			g("As", ports.ApplicationServer, "applicationserver.proto"),
			g("AppAs", ports.ApplicationServer, "applicationserver.proto"),
			g("AsEndDeviceRegistry", ports.ApplicationServer, "applicationserver.proto"),
			g("AsEndDeviceBatchRegistry", ports.ApplicationServer, "applicationserver.proto"),
			g("ApplicationUpStorage", ports.ApplicationServer, "applicationserver_integrations_storage.proto"),
			g("ApplicationPackageRegistry", ports.ApplicationServer, "applicationserver_packages.proto"),
			g("ApplicationPubSubRegistry", ports.ApplicationServer, "applicationserver_pubsub.proto"),
			g("ApplicationWebhookRegistry", ports.ApplicationServer, "applicationserver_web.proto"),
			g("Ns", ports.NetworkServer, "networkserver.proto"),
			g("NsEndDeviceRegistry", ports.NetworkServer, "networkserver.proto"),
			g("NsEndDeviceBatchRegistry", ports.NetworkServer, "networkserver.proto"),
			g("NsRelayConfigurationService", ports.NetworkServer, "networkserver_relay.proto"),
			g("Js", ports.JoinServer, "joinserver.proto"),
			g("JsEndDeviceRegistry", ports.JoinServer, "joinserver.proto"),
			g("JsEndDeviceBatchRegistry", ports.JoinServer, "joinserver.proto"),
			g("ApplicationActivationSettingRegistry", ports.JoinServer, "joinserver.proto"),
			{
				Service: pkgPrefix + "AppJs", Component: ports.JoinServer, Source: p("joinserver.proto"),
				Note: "used by external integrations (AWS IoT) to reach the JS.",
			},
			g("Gs", ports.GatewayServer, "gatewayserver.proto"),
			{
				Service: pkgPrefix + "GtwGs", Component: ports.GatewayServer, Source: p("gatewayserver.proto"),
				Note: "gateways that connect over gRPC.",
			},
			g("GatewayConfigurationService", ports.GatewayConfigurationServer, "gateway_configuration.proto"),
			g("EndDeviceClaimingServer", ports.DeviceClaimingServer, "deviceclaimingserver.proto"),
			g("EndDeviceBatchClaimingServer", ports.DeviceClaimingServer, "deviceclaimingserver.proto"),
			g("GatewayClaimingServer", ports.DeviceClaimingServer, "deviceclaimingserver.proto"),
			g("DeviceRepository", ports.DeviceRepository, "devicerepository.proto"),
			g("Pba", ports.PacketBrokerAgent, "packetbrokeragent.proto"),
			g("EndDeviceQRCodeGenerator", ports.QRCodeGenerator, "qrcodegenerator.proto"),
			g("EndDeviceTemplateConverter", ports.DeviceTemplateConverter, "end_device_services.proto"),
		},
		Deny: []string{"/metrics", "/debug/"},
	}
}

// InternalServices returns the inter-component gRPC services that the proxy
// deliberately does not route.
func InternalServices() []InternalService {
	i := func(svc, src string) InternalService {
		return InternalService{
			Service: pkgPrefix + svc, Source: apiDir + src,
			Why: "inter-component; dialled directly via the cluster address",
		}
	}
	return []InternalService{
		i("GsNs", "networkserver.proto"),
		i("AsNs", "networkserver.proto"),
		i("NsAs", "applicationserver.proto"),
		i("NsGs", "gatewayserver.proto"),
		i("NsJs", "joinserver.proto"),
		i("AsJs", "joinserver.proto"),
		i("NetworkCryptoService", "joinserver.proto"),
		i("ApplicationCryptoService", "joinserver.proto"),
		i("GsPba", "packetbrokeragent.proto"),
		i("NsPba", "packetbrokeragent.proto"),
	}
}

// ComponentForPath returns the component an HTTP request path is routed to,
// by the same rules as nginx: an exact route first, then the longest prefix.
// ok is false for denied paths.
func (r Routes) ComponentForPath(path string) (c ports.Component, ok bool) {
	for _, d := range r.Deny {
		if strings.HasPrefix(path, d) {
			return "", false
		}
	}
	for _, h := range r.HTTP {
		if h.Exact && h.Prefix == path {
			return h.Component, true
		}
	}
	best := -1
	for i, h := range r.HTTP {
		if h.Exact || !strings.HasPrefix(path, h.Prefix) {
			continue
		}
		if best < 0 || len(h.Prefix) > len(r.HTTP[best].Prefix) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	return r.HTTP[best].Component, true
}

// ComponentForMethod returns the component a gRPC method is routed to. The
// method is the HTTP/2 path, "/ttn.lorawan.v3.AppAs/DownlinkQueuePush", or
// the full name without the leading slash.
func (r Routes) ComponentForMethod(method string) (ports.Component, bool) {
	method = strings.TrimPrefix(method, "/")
	svc, _, found := strings.Cut(method, "/")
	if !found {
		return "", false
	}
	for _, g := range r.GRPC {
		if g.Service == svc {
			return g.Component, true
		}
	}
	return "", false
}

// Check reports problems in the table: duplicate prefixes or services, paths
// that do not start with "/", services outside the ttn.lorawan.v3 package,
// routed internal services and unknown components.
func (r Routes) Check() error {
	var errs diag.List
	known := make(map[ports.Component]bool)
	for _, c := range ports.Components() {
		known[c] = true
	}
	seen := make(map[string]bool)
	for _, h := range r.HTTP {
		key := fmt.Sprintf("%v %s", h.Exact, h.Prefix)
		if seen[key] {
			errs.Errorf("proxy.duplicate-route", "HTTP", "prefix %q is listed twice", h.Prefix)
		}
		seen[key] = true
		if !strings.HasPrefix(h.Prefix, "/") {
			errs.Errorf("proxy.bad-route", "HTTP", "prefix %q must start with /", h.Prefix)
		}
		if strings.ContainsAny(h.Prefix, " \t\n;{}\"'\\") {
			errs.Errorf("proxy.bad-route", "HTTP", "prefix %q contains characters nginx would misread", h.Prefix)
		}
		if !known[h.Component] {
			errs.Errorf("proxy.unknown-component", "HTTP", "prefix %q goes to unknown component %q", h.Prefix, h.Component)
		}
		if h.Source == "" {
			errs.Errorf("proxy.route-without-source", "HTTP", "prefix %q names no source", h.Prefix)
		}
	}
	internal := make(map[string]bool)
	for _, s := range InternalServices() {
		internal[s.Service] = true
	}
	seenSvc := make(map[string]bool)
	for _, g := range r.GRPC {
		if seenSvc[g.Service] {
			errs.Errorf("proxy.duplicate-route", "GRPC", "service %q is listed twice", g.Service)
		}
		seenSvc[g.Service] = true
		if !strings.HasPrefix(g.Service, pkgPrefix) || strings.ContainsAny(g.Service, "/ ;{}") {
			errs.Errorf("proxy.bad-route", "GRPC", "service %q is not a ttn.lorawan.v3 service name", g.Service)
		}
		if internal[g.Service] {
			errs.Errorf("proxy.internal-service-routed", "GRPC", "service %q is internal and must not be routed", g.Service)
		}
		if !known[g.Component] {
			errs.Errorf("proxy.unknown-component", "GRPC", "service %q goes to unknown component %q", g.Service, g.Component)
		}
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("proxy: route table:\n%w", err)
	}
	return nil
}

// UsedComponents returns the components the table routes to, sorted.
func (r Routes) UsedComponents() []ports.Component {
	set := make(map[ports.Component]bool)
	for _, h := range r.HTTP {
		set[h.Component] = true
	}
	for _, g := range r.GRPC {
		set[g.Component] = true
	}
	var out []ports.Component
	for _, c := range ports.Components() {
		if set[c] {
			out = append(out, c)
		}
	}
	return out
}

// sortedHTTP returns the HTTP routes ordered for output: by component order,
// then prefix.
func (r Routes) sortedHTTP() []HTTPRoute {
	out := slices.Clone(r.HTTP)
	order := componentOrder()
	sort.SliceStable(out, func(i, j int) bool {
		if order[out[i].Component] != order[out[j].Component] {
			return order[out[i].Component] < order[out[j].Component]
		}
		return out[i].Prefix < out[j].Prefix
	})
	return out
}

func componentOrder() map[ports.Component]int {
	m := make(map[ports.Component]int)
	for i, c := range ports.Components() {
		m[c] = i
	}
	return m
}
