package proxy

import (
	"os"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// pathSample is a real TTS request, with the proto file (at v3.32.1) or Go
// source its path comes from.
type pathSample struct {
	method, path string
	want         ports.Component
	source       string
}

func httpSamples() []pathSample {
	const d = "api/ttn/lorawan/v3/"
	return []pathSample{
		{"GET", "/api/v3/applications", ports.IdentityServer, d + "application_services.proto: ApplicationRegistry.List"},
		{"GET", "/api/v3/applications/app1/devices/dev1?field_mask=name", ports.IdentityServer, d + "end_device_services.proto: EndDeviceRegistry.Get"},
		{"POST", "/api/v3/users/admin/applications", ports.IdentityServer, d + "application_services.proto: ApplicationRegistry.Create"},
		{"GET", "/api/v3/users/admin/notifications", ports.IdentityServer, d + "notification_service.proto: NotificationService.List"},
		{"GET", "/api/v3/auth_info", ports.IdentityServer, d + "identityserver.proto: EntityAccess.AuthInfo"},
		{"GET", "/api/v3/is/configuration", ports.IdentityServer, d + "identityserver.proto: Is.GetConfiguration"},
		{"PATCH", "/api/v3/email/validation", ports.IdentityServer, d + "email_validation.proto: EmailValidationRegistry.Validate"},
		{"POST", "/api/v3/events", ports.IdentityServer, d + "events.proto: Events.Stream"},
		{"POST", "/api/v3/as/applications/app1/devices/dev1/down/push", ports.ApplicationServer, d + "applicationserver.proto: AppAs.DownlinkQueuePush"},
		{"GET", "/api/v3/as/applications/app1/packages/storage/uplink_message?limit=10", ports.ApplicationServer, d + "applicationserver_integrations_storage.proto: ApplicationUpStorage.GetStoredApplicationUp"},
		{"GET", "/api/v3/ns/applications/app1/devices/dev1", ports.NetworkServer, d + "networkserver.proto: NsEndDeviceRegistry.Get"},
		{"GET", "/api/v3/configuration/frequency-plans", ports.NetworkServer, d + "configuration_services.proto: Configuration.ListFrequencyPlans"},
		{"GET", "/api/v3/js/applications/app1/devices/dev1", ports.JoinServer, d + "joinserver.proto: JsEndDeviceRegistry.Get"},
		{"GET", "/api/v3/gs/gateways/gtw1/connection/stats", ports.GatewayServer, d + "gatewayserver.proto: Gs.GetGatewayConnectionStats"},
		{"GET", "/api/v3/gcs/gateways/configuration/gtw1/semtechudp/global_conf.json", ports.GatewayConfigurationServer, d + "gateway_configuration.proto: GatewayConfigurationService.GetGatewayConfiguration"},
		{"GET", "/api/v3/gcs/gateways/gtw1/semtechudp/global_conf.json", ports.GatewayConfigurationServer, "pkg/gatewayconfigurationserver: semtechudp web handler"},
		{"POST", "/update-info", ports.GatewayConfigurationServer, "pkg/basicstation/cups/server.go: CUPS UpdateInfo"},
		{"POST", "/api/v3/edcs/claim", ports.DeviceClaimingServer, d + "deviceclaimingserver.proto: EndDeviceClaimingServer.Claim"},
		{"POST", "/api/v3/gcls/claim/info", ports.DeviceClaimingServer, d + "deviceclaimingserver.proto: GatewayClaimingServer.GetInfoByGatewayEUI"},
		{"GET", "/api/v3/dr/brands?limit=5", ports.DeviceRepository, d + "devicerepository.proto: DeviceRepository.ListBrands"},
		{"GET", "/api/v3/pba/info", ports.PacketBrokerAgent, d + "packetbrokeragent.proto: Pba.GetInfo"},
		{"POST", "/api/v3/qr-codes/end-devices/parse", ports.QRCodeGenerator, d + "qrcodegenerator.proto: EndDeviceQRCodeGenerator.Parse"},
		{"GET", "/api/v3/edtc/formats", ports.DeviceTemplateConverter, d + "end_device_services.proto: EndDeviceTemplateConverter.ListFormats"},
		{"GET", "/api/v3/console/internal/events/", ports.Console, "pkg/console/internal/events/events.go: Console event WebSocket"},
		{"GET", "/console/applications", ports.Console, "pkg/console/console.go: Console mount"},
		{"GET", "/oauth/login", ports.IdentityServer, "pkg/identityserver: account app mount"},
		{"GET", "/", ports.Console, "cmd/ttn-lw-stack/commands/start.go: root redirect"},
	}
}

type methodSample struct {
	method string
	want   ports.Component
	source string
}

func grpcSamples() []methodSample {
	const d = "api/ttn/lorawan/v3/"
	return []methodSample{
		{"/ttn.lorawan.v3.ApplicationRegistry/Get", ports.IdentityServer, d + "application_services.proto"},
		{"/ttn.lorawan.v3.EndDeviceRegistry/Create", ports.IdentityServer, d + "end_device_services.proto"},
		{"/ttn.lorawan.v3.Events/Stream", ports.IdentityServer, d + "events.proto"},
		{"/ttn.lorawan.v3.AppAs/DownlinkQueuePush", ports.ApplicationServer, d + "applicationserver.proto"},
		{"/ttn.lorawan.v3.ApplicationWebhookRegistry/Set", ports.ApplicationServer, d + "applicationserver_web.proto"},
		{"/ttn.lorawan.v3.NsEndDeviceRegistry/Get", ports.NetworkServer, d + "networkserver.proto"},
		{"/ttn.lorawan.v3.Configuration/ListFrequencyPlans", ports.NetworkServer, d + "configuration_services.proto"},
		{"/ttn.lorawan.v3.JsEndDeviceRegistry/Get", ports.JoinServer, d + "joinserver.proto"},
		{"/ttn.lorawan.v3.Gs/GetGatewayConnectionStats", ports.GatewayServer, d + "gatewayserver.proto"},
		{"/ttn.lorawan.v3.GtwGs/LinkGateway", ports.GatewayServer, d + "gatewayserver.proto"},
		{"/ttn.lorawan.v3.GatewayConfigurationService/GetGatewayConfiguration", ports.GatewayConfigurationServer, d + "gateway_configuration.proto"},
		{"/ttn.lorawan.v3.EndDeviceClaimingServer/Claim", ports.DeviceClaimingServer, d + "deviceclaimingserver.proto"},
		{"/ttn.lorawan.v3.DeviceRepository/ListBrands", ports.DeviceRepository, d + "devicerepository.proto"},
		{"/ttn.lorawan.v3.Pba/GetInfo", ports.PacketBrokerAgent, d + "packetbrokeragent.proto"},
		{"/ttn.lorawan.v3.EndDeviceQRCodeGenerator/Parse", ports.QRCodeGenerator, d + "qrcodegenerator.proto"},
		{"/ttn.lorawan.v3.EndDeviceTemplateConverter/Convert", ports.DeviceTemplateConverter, d + "end_device_services.proto"},
	}
}

func TestRouteTableIsConsistent(t *testing.T) {
	if err := Table().Check(); err != nil {
		t.Fatal(err)
	}
}

func TestRealPathsReachTheirComponent(t *testing.T) {
	r := Table()
	for _, s := range httpSamples() {
		path, _, _ := strings.Cut(s.path, "?")
		got, ok := r.ComponentForPath(path)
		if !ok || got != s.want {
			t.Errorf("%s %s (%s): routed to %q (ok=%v), want %q", s.method, s.path, s.source, got, ok, s.want)
		}
	}
}

func TestRealGRPCMethodsReachTheirComponent(t *testing.T) {
	r := Table()
	for _, s := range grpcSamples() {
		got, ok := r.ComponentForMethod(s.method)
		if !ok || got != s.want {
			t.Errorf("%s (%s): routed to %q (ok=%v), want %q", s.method, s.source, got, ok, s.want)
		}
	}
}

func TestEveryRoutedComponentHasASample(t *testing.T) {
	seen := make(map[ports.Component]bool)
	for _, s := range httpSamples() {
		seen[s.want] = true
	}
	for _, c := range Table().UsedComponents() {
		if !seen[c] {
			t.Errorf("no HTTP sample for component %q; add a real path to httpSamples", c)
		}
	}
}

func TestMoreSpecificPrefixWins(t *testing.T) {
	r := Table()
	for _, tc := range []struct {
		path string
		want ports.Component
	}{
		// "/" (Console) vs "/api/v3/console/" vs "/console".
		{"/api/v3/console/internal/events/", ports.Console},
		{"/api/v3/applications/app1/devices", ports.IdentityServer},
		// "/api/v3/as/" is more specific than the IS catch-alls and "/".
		{"/api/v3/as/applications/app1/devices", ports.ApplicationServer},
		// Exact CUPS route does not capture longer paths.
		{"/update-info/extra", ports.Console},
		{"/api/v3/gcs/gateways/gtw1/kerlink-cpf/lorad/lorad.json", ports.GatewayConfigurationServer},
		// Denied prefixes win over the "/" fallback.
	} {
		if got, ok := r.ComponentForPath(tc.path); !ok || got != tc.want {
			t.Errorf("%s: got %q (ok=%v), want %q", tc.path, got, ok, tc.want)
		}
	}
	for _, p := range []string{"/metrics", "/debug/pprof/"} {
		if got, ok := r.ComponentForPath(p); ok {
			t.Errorf("%s is routed to %q; it must be denied", p, got)
		}
	}
}

func TestInternalServicesAreNotRouted(t *testing.T) {
	r := Table()
	for _, s := range InternalServices() {
		if c, ok := r.ComponentForMethod("/" + s.Service + "/Anything"); ok {
			t.Errorf("internal service %s (%s) is routed to %q", s.Service, s.Source, c)
		}
	}
	if _, ok := r.ComponentForMethod("/ttn.lorawan.v3.GsNs/HandleUplink"); ok {
		t.Error("GsNs must not be routed")
	}
}

func TestTableReturnsFreshValues(t *testing.T) {
	a := Table()
	a.HTTP[0].Component = "changed"
	if Table().HTTP[0].Component == "changed" {
		t.Fatal("Table shares state between calls")
	}
}

// TestReadmeRouteTableIsCurrent fails when proxy/README.md's generated table
// differs from RoutesMarkdown(). Run with UPDATE_README=1 to rewrite it.
func TestReadmeRouteTableIsCurrent(t *testing.T) {
	const file = "README.md"
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	doc := string(raw)
	begin := strings.Index(doc, MarkdownBegin)
	end := strings.Index(doc, MarkdownEnd)
	if begin < 0 || end < begin {
		t.Fatalf("%s must contain %q followed by %q", file, MarkdownBegin, MarkdownEnd)
	}
	want := "\n" + RoutesMarkdown()
	got := doc[begin+len(MarkdownBegin) : end]
	if got == want {
		return
	}
	if os.Getenv("UPDATE_README") == "1" {
		doc = doc[:begin+len(MarkdownBegin)] + want + doc[end:]
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the route table in %s", file)
		return
	}
	t.Errorf("%s: the route table between the markers is out of date; run `UPDATE_README=1 go test ./internal/synth/proxy/ -run TestReadmeRouteTableIsCurrent`", file)
}
