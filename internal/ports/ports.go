// Package ports is the vocabulary of The Things Stack's deployment: its
// components (components.go), the load balancer's servers and groups, and the
// one table of its network ports.
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

// Server is one of the load balancer's servers: who answers on a port's
// plain side inside the cluster, and whose tasks share a security group.
// ServerGS, ServerAS and ServerIS are the components of the same short name;
// ServerProxy is the reverse proxy, which serves the routed ports for every
// component by HTTP path or gRPC service; ServerInternal groups the
// components without a port of their own on the load balancer.
type Server string

// Servers.
const (
	ServerGS       = Server(GatewayServer)
	ServerAS       = Server(ApplicationServer)
	ServerIS       = Server(IdentityServer)
	ServerProxy    = Server("proxy")
	ServerInternal = Server("internal")
)

// Servers returns every server of the load balancer, in a stable order.
func Servers() []Server {
	return []Server{ServerGS, ServerAS, ServerIS, ServerProxy, ServerInternal}
}

// Group is the audience of a public port; the load balancer's security group
// admits each group from its own list of CIDRs.
type Group string

// Groups.
const (
	GroupGateways     Group = "gateways"
	GroupApplications Group = "applications"
	GroupInterop      Group = "interop"
)

// Groups returns every group, in a stable order.
func Groups() []Group {
	return []Group{GroupGateways, GroupApplications, GroupInterop}
}

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

// The rows of the table.

// GSUDP is the Gateway Server's Semtech UDP packet forwarder port.
func GSUDP() Port {
	return Port{Name: "gs-udp", Purpose: "gateway data, Semtech packet forwarder", Transport: UDP, Kind: KindSemtechUDP, Plain: 1700, ServedBy: ServerGS, Group: GroupGateways}
}

// GSMQTTV2 is the Gateway Server's legacy MQTT v2 port.
func GSMQTTV2() Port {
	return Port{Name: "gs-mqtt-v2", Purpose: "gateway data, MQTT (legacy v2)", Transport: TCP, Kind: KindMQTT, Plain: 1881, TLS: 8881, ServedBy: ServerGS, Group: GroupGateways}
}

// GSMQTT is the Gateway Server's MQTT port.
func GSMQTT() Port {
	return Port{Name: "gs-mqtt", Purpose: "gateway data, MQTT", Transport: TCP, Kind: KindMQTT, Plain: 1882, TLS: 8882, ServedBy: ServerGS, Group: GroupGateways}
}

// ASMQTT is the Application Server's MQTT port.
func ASMQTT() Port {
	return Port{Name: "as-mqtt", Purpose: "application data and events, MQTT", Transport: TCP, Kind: KindMQTT, Plain: 1883, TLS: 8883, ServedBy: ServerAS, Group: GroupApplications}
}

// GRPC is the gRPC port every component serves, routed by the proxy.
func GRPC() Port {
	return Port{Name: "grpc", Purpose: "management, data and events, gRPC", Transport: TCP, Kind: KindGRPC, Plain: 1884, TLS: 8884, ServedBy: ServerProxy, Group: GroupApplications}
}

// HTTP is the HTTP port every component serves, routed by the proxy.
func HTTP() Port {
	return Port{Name: "http", Purpose: "management, HTTP (Console, APIs, OAuth)", Transport: TCP, Kind: KindHTTP, Plain: 1885, TLS: 8885, ServedBy: ServerProxy, Group: GroupApplications}
}

// Interop is the Identity Server's LoRaWAN Backend Interfaces port.
func Interop() Port {
	return Port{Name: "interop", Purpose: "LoRaWAN Backend Interfaces", Transport: TCP, Kind: KindInterop, Plain: 1886, TLS: 8886, ServedBy: ServerIS, Group: GroupInterop}
}

// GSBasicStation is the Gateway Server's LoRa Basics Station LNS port.
func GSBasicStation() Port {
	return Port{Name: "gs-basicstation", Purpose: "LoRa Basics Station LNS, WebSocket", Transport: TCP, Kind: KindWebSocket, Plain: 1887, TLS: 8887, ServedBy: ServerGS, Group: GroupGateways}
}

// Table returns every port of The Things Stack that this product exposes, in a
// stable order.
func Table() []Port {
	return []Port{GSUDP(), GSMQTTV2(), GSMQTT(), ASMQTT(), GRPC(), HTTP(), Interop(), GSBasicStation()}
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
