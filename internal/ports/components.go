package ports

// Component is a component of The Things Stack, named as `ttn-lw-stack start`
// names it.
type Component string

// Components that serve public HTTP or gRPC APIs. The names are the arguments
// of `ttn-lw-stack start` (cmd/ttn-lw-stack/commands/start.go).
const (
	IdentityServer             Component = "is"
	GatewayServer              Component = "gs"
	NetworkServer              Component = "ns"
	ApplicationServer          Component = "as"
	JoinServer                 Component = "js"
	Console                    Component = "console"
	GatewayConfigurationServer Component = "gcs"
	DeviceClaimingServer       Component = "dcs"
	DeviceRepository           Component = "dr"
	PacketBrokerAgent          Component = "pba"
	QRCodeGenerator            Component = "qrg"
	DeviceTemplateConverter    Component = "dtc"
)

// Components returns every component whose APIs the proxy's route table
// routes, in a stable order.
func Components() []Component {
	return []Component{
		IdentityServer, GatewayServer, NetworkServer, ApplicationServer, JoinServer,
		Console, GatewayConfigurationServer, DeviceClaimingServer, DeviceRepository,
		PacketBrokerAgent, QRCodeGenerator, DeviceTemplateConverter,
	}
}

// Deployed returns the components the deployment runs and configures, each
// as its own ECS service, in a stable order. The others run nowhere, or
// inside the service of the component that starts them (StartedBy): the
// Packet Broker Agent needs a Packet Broker API key: the agent runs only
// when the parameters turn it on (stacks add it to this list then). The
// Device Repository serves the index of device definitions that the image
// ships.
func Deployed() []Component {
	return []Component{IdentityServer, GatewayServer, NetworkServer, ApplicationServer, JoinServer,
		Console, GatewayConfigurationServer, DeviceClaimingServer, DeviceRepository}
}

// StartedBy returns the component whose `ttn-lw-stack start` also starts c:
// `start dcs` starts the QR Code Generator and the Device Template Converter
// as well (cmd/ttn-lw-stack/commands/start.go: case "dcs" sets
// DeviceClaimingServer, DeviceTemplateConverter and QRCodeGenerator), and each
// registers its own gRPC service and HTTP binding. Every other component is
// started by its own name.
func (c Component) StartedBy() Component {
	switch c {
	case QRCodeGenerator, DeviceTemplateConverter:
		return DeviceClaimingServer
	}
	return c
}

// Server returns the load balancer's server whose task security group,
// target groups and data ports the component's tasks have: its own for the
// Gateway, Application and Identity Servers, ServerInternal for the others,
// which have no port of their own on the load balancer.
func (c Component) Server() Server {
	switch c {
	case GatewayServer, ApplicationServer, IdentityServer:
		return Server(c)
	}
	return ServerInternal
}

// Title returns the component's full name.
func (c Component) Title() string {
	switch c {
	case IdentityServer:
		return "Identity Server"
	case GatewayServer:
		return "Gateway Server"
	case NetworkServer:
		return "Network Server"
	case ApplicationServer:
		return "Application Server"
	case JoinServer:
		return "Join Server"
	case Console:
		return "Console"
	case GatewayConfigurationServer:
		return "Gateway Configuration Server"
	case DeviceClaimingServer:
		return "Device Claiming Server"
	case DeviceRepository:
		return "Device Repository"
	case PacketBrokerAgent:
		return "Packet Broker Agent"
	case QRCodeGenerator:
		return "QR Code Generator"
	case DeviceTemplateConverter:
		return "Device Template Converter"
	}
	return string(c)
}
