// Package ports is the one table of The Things Stack's network ports.
//
// Every listener, target group, security-group rule, container port mapping and
// proxy route is derived from Table, so adding a port is one line here.
//
// Source: The Things Stack documentation, "Concepts > Networking > Port
// Allocations" (thethingsindustries.com/docs/concepts/networking).
package ports

import "fmt"

// Transport is what the Network Load Balancer sees.
type Transport string

// Transports.
const (
	UDP Transport = "UDP"
	TCP Transport = "TCP"
)

// Kind is the application protocol spoken on a port. It decides health checks,
// ALPN and how the proxy forwards the traffic.
type Kind string

// Kinds.
const (
	KindSemtechUDP Kind = "semtech-udp"
	KindMQTT       Kind = "mqtt"
	KindGRPC       Kind = "grpc"
	KindHTTP       Kind = "http"
	KindInterop    Kind = "interop"
	KindWebSocket  Kind = "websocket"
)

// Server names who answers on a port's plain side inside the cluster.
type Server string

// Servers. Routed ports are served by every component and reach them through
// the proxy, which routes by HTTP path or gRPC service.
const (
	GatewayServer     Server = "gs"
	ApplicationServer Server = "as"
	IdentityServer    Server = "is"
	Routed            Server = "proxy"
)

// Group is the audience of a public port; the load balancer's security group
// admits each group from its own list of CIDRs.
type Group string

// Groups.
const (
	Gateways     Group = "gateways"
	Applications Group = "applications"
	Interop      Group = "interop"
)

// HTTPSPort is where the load balancer serves the HTTP row's TLS side (the
// browser's default), instead of 8885; HTTPRedirectPort redirects to it.
const (
	HTTPSPort        = 443
	HTTPRedirectPort = 80
)

// Port is one row of the table.
type Port struct {
	// Name is a stable identifier, used in construct IDs and generated names.
	// Changing it replaces the resources derived from the row.
	Name      string
	Purpose   string
	Transport Transport
	Kind      Kind
	// Plain is the port without TLS, used inside the VPC.
	Plain int
	// TLS is the port with TLS, exposed on the load balancer; 0 when the
	// protocol has no TLS counterpart.
	TLS      int
	ServedBy Server
	Group    Group
}

// PublicTLS is the port on which the load balancer exposes the TLS side:
// 443 for HTTP, the TLS port otherwise (0 when there is none).
func (p Port) PublicTLS() int {
	if p.Kind == KindHTTP {
		return HTTPSPort
	}
	return p.TLS
}

// HasTLS tells whether the port has a TLS counterpart.
func (p Port) HasTLS() bool { return p.TLS != 0 }

func (p Port) String() string {
	if p.HasTLS() {
		return fmt.Sprintf("%s (%s %d, TLS %d)", p.Name, p.Transport, p.Plain, p.TLS)
	}
	return fmt.Sprintf("%s (%s %d)", p.Name, p.Transport, p.Plain)
}

// Table returns every port of The Things Stack that this product exposes, in a
// stable order.
func Table() []Port {
	return []Port{
		{Name: "gs-udp", Purpose: "gateway data, Semtech packet forwarder", Transport: UDP, Kind: KindSemtechUDP, Plain: 1700, ServedBy: GatewayServer, Group: Gateways},
		{Name: "gs-mqtt-v2", Purpose: "gateway data, MQTT (legacy v2)", Transport: TCP, Kind: KindMQTT, Plain: 1881, TLS: 8881, ServedBy: GatewayServer, Group: Gateways},
		{Name: "gs-mqtt", Purpose: "gateway data, MQTT", Transport: TCP, Kind: KindMQTT, Plain: 1882, TLS: 8882, ServedBy: GatewayServer, Group: Gateways},
		{Name: "as-mqtt", Purpose: "application data and events, MQTT", Transport: TCP, Kind: KindMQTT, Plain: 1883, TLS: 8883, ServedBy: ApplicationServer, Group: Applications},
		{Name: "grpc", Purpose: "management, data and events, gRPC", Transport: TCP, Kind: KindGRPC, Plain: 1884, TLS: 8884, ServedBy: Routed, Group: Applications},
		{Name: "http", Purpose: "management, HTTP (Console, APIs, OAuth)", Transport: TCP, Kind: KindHTTP, Plain: 1885, TLS: 8885, ServedBy: Routed, Group: Applications},
		{Name: "interop", Purpose: "LoRaWAN Backend Interfaces", Transport: TCP, Kind: KindInterop, Plain: 1886, TLS: 8886, ServedBy: IdentityServer, Group: Interop},
		{Name: "gs-basicstation", Purpose: "LoRa Basics Station LNS, WebSocket", Transport: TCP, Kind: KindWebSocket, Plain: 1887, TLS: 8887, ServedBy: GatewayServer, Group: Gateways},
	}
}

// ByName returns the row with the given name.
func ByName(name string) (Port, error) {
	for _, p := range Table() {
		if p.Name == name {
			return p, nil
		}
	}
	return Port{}, fmt.Errorf("ports: no port named %q in the table", name)
}

// Must returns the row with the given name and panics when there is none. Use
// it only with names that are constants in the code.
func Must(name string) Port {
	p, err := ByName(name)
	if err != nil {
		panic(err)
	}
	return p
}

// ServedBy returns the rows whose plain side is served by s.
func ServedBy(s Server) []Port {
	var out []Port
	for _, p := range Table() {
		if p.ServedBy == s {
			out = append(out, p)
		}
	}
	return out
}
