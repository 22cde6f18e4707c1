package stacks

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/netbase"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/proxyservice"
	"github.com/lorawan-stack-aws/tts-ecs/params"
	"github.com/lorawan-stack-aws/tts-ecs/ports"
	"github.com/lorawan-stack-aws/tts-ecs/proxy"
)

// Sizing of the proxy's tasks: nginx needs little, and it scales out on CPU.
const (
	ProxyCPU       = 256
	ProxyMemoryMiB = 512
	// ProxyHealthGrace is how long the load balancer's health checks of a
	// new proxy task are ignored; nginx answers its health port within
	// seconds of the start.
	ProxyHealthGrace = 30 * time.Second
)

// ProxyServedBy says which service of the deployment serves the APIs of each
// component of the proxy's route table (proxy.Components). Components that
// are missing here are left out of the proxy (ProxyOmitted): their routes
// answer 404 or gRPC UNIMPLEMENTED.
//
//   - is, gs, ns, as, js, console, gcs, dcs: their own services.
//   - qrg and dtc: the Device Claiming Server's service. `ttn-lw-stack start
//     dcs` also starts the QR Code Generator and the Device Template
//     Converter (cmd/ttn-lw-stack/commands/start.go: case "dcs" sets
//     DeviceClaimingServer, DeviceTemplateConverter and QRCodeGenerator), and
//     each registers its own gRPC service and HTTP binding.
//   - dr (Device Repository) and pba (Packet Broker Agent) run nowhere: the
//     Device Repository needs its store of device definitions, the Packet
//     Broker Agent a Packet Broker registration, and neither is part of this
//     deployment yet. No other component registers their APIs.
func ProxyServedBy() map[proxy.Component]proxy.Component {
	return map[proxy.Component]proxy.Component{
		proxy.IdentityServer:             proxy.IdentityServer,
		proxy.GatewayServer:              proxy.GatewayServer,
		proxy.NetworkServer:              proxy.NetworkServer,
		proxy.ApplicationServer:          proxy.ApplicationServer,
		proxy.JoinServer:                 proxy.JoinServer,
		proxy.Console:                    proxy.Console,
		proxy.GatewayConfigurationServer: proxy.GatewayConfigurationServer,
		proxy.DeviceClaimingServer:       proxy.DeviceClaimingServer,
		proxy.QRCodeGenerator:            proxy.DeviceClaimingServer,
		proxy.DeviceTemplateConverter:    proxy.DeviceClaimingServer,
	}
}

// ProxyConfig is the proxy's configuration: upstreams
// by Service Connect name (<service>.tts.local) of the service that serves
// each component, the components that run nowhere omitted.
func ProxyConfig() proxy.Config {
	names := proxy.ServiceConnectUpstreams(ServiceDomain)
	cfg := proxy.Config{Upstreams: map[proxy.Component]proxy.Upstream{}, User: "nginx"}
	servedBy := ProxyServedBy()
	for _, c := range proxy.Components() {
		svc, ok := servedBy[c]
		if !ok {
			cfg.Omitted = append(cfg.Omitted, c)
			continue
		}
		cfg.Upstreams[c] = names[svc]
	}
	// NOT YET PROXY TLS: rendered without the TLS listeners in both modes.
	// With SupportProxyTLS the load balancer passes 443 and 8886 through to
	// the proxy, which must load a certificate there; the certificate
	// pipeline (Certbot, Secrets Manager, the proxy/certsync sidecar) is not
	// built yet, and nginx refuses to start without the files. Until it is,
	// the proxy serves only its plain listeners (HTTP 1885, gRPC 1884,
	// redirect 80, health 1880) and connections to 443 and 8886 are refused
	// in proxy TLS mode. Set this from the parameter SupportProxyTLS
	// together with the certificate pipeline.
	cfg.SupportProxyTLS = false
	return cfg
}

// newProxy creates the proxy's service in the Services stack. It starts
// after the components' services (deps) so that their Service Connect names
// resolve when nginx starts: nginx refuses to start when an upstream host
// does not resolve.
func newProxy(stack awscdk.Stack, p *params.Params, lb *LoadBalancer, is *IdentityServer, deps []awsecs.FargateService) (*proxyservice.Service, error) {
	conf, err := proxy.Render(ProxyConfig())
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	sg := lb.TaskSecurityGroups[ports.Routed]
	if sg == nil {
		return nil, fmt.Errorf("proxy: the LoadBalancer stack has no task security group of %s", ports.Routed)
	}
	targets := targetsOf(lb.Listeners, ports.Routed)
	svc, err := proxyservice.New(stack, "Service-proxy", proxyservice.Props{
		Cluster:          is.Cluster,
		Namespace:        is.Namespace.NamespaceArn(),
		Subnets:          &awsec2.SubnetSelection{SubnetGroupName: jsii.String(netbase.PrivateSubnets)},
		SecurityGroup:    sg,
		Image:            proxy.Image,
		Config:           conf,
		Targets:          targets,
		HealthPort:       proxy.DefaultHealthPort,
		HealthPath:       proxy.HealthPath,
		DesiredCount:     p.ProxyTasks,
		CPU:              ProxyCPU,
		MemoryMiB:        ProxyMemoryMiB,
		HealthCheckGrace: ProxyHealthGrace,
		LogRetention:     retention(p.LogRetentionDays),
	})
	if err != nil {
		return nil, err
	}
	for _, d := range deps {
		svc.Service.Node().AddDependency(d)
	}
	scaling := svc.Service.AutoScaleTaskCount(&awsapplicationautoscaling.EnableScalingProps{
		MinCapacity: jsii.Number(float64(p.ProxyTasks)),
		MaxCapacity: jsii.Number(float64(ScaleOutFactor * p.ProxyTasks)),
	})
	scaling.ScaleOnCpuUtilization(jsii.String("Cpu"), &awsecs.CpuUtilizationScalingProps{
		TargetUtilizationPercent: jsii.Number(TargetCPUPercent),
		ScaleOutCooldown:         awscdk.Duration_Seconds(jsii.Number(ScaleOutCooldown.Seconds())),
		ScaleInCooldown:          awscdk.Duration_Seconds(jsii.Number(ScaleInCooldown.Seconds())),
	})
	return svc, nil
}
