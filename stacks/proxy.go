package stacks

import (
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecrassets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/fargateservice"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/netbase"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/proxyservice"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/proxy"
	"github.com/lorawan-stack-aws/tts-ecs/params"
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

// ProxyConfig is the proxy's configuration: upstreams
// by Service Connect name (<service>.tts.local) of the service that serves
// each component of the route table (the deployed service of the component
// that starts it, ports.Component.StartedBy), the components that run
// nowhere (not in deployedComponents) omitted: their routes answer 404 or gRPC
// UNIMPLEMENTED. With
// SupportProxyTLS the proxy terminates TLS on 443 and, when InteropEnabled,
// on 8886, which it forwards to the Identity Server's interop port through
// Service Connect (is.tts.local:1886, discovery name is-interop); the
// certificate files are in proxy.DefaultCertDir, where certsync writes them.
// The interop listener checks client certificates as InteropClientCertMode
// says, against the bundle the entrypoint writes to
// proxyservice.ClientCAPath.
func ProxyConfig(p *params.Params) proxy.Config {
	names := proxy.ServiceConnectUpstreams(ServiceDomain)
	cfg := proxy.Config{Upstreams: map[ports.Component]proxy.Upstream{}, User: "nginx"}
	for _, c := range ports.Components() {
		svc := c.StartedBy()
		if !slices.Contains(deployedComponents(p), svc) {
			cfg.Omitted = append(cfg.Omitted, c)
			continue
		}
		cfg.Upstreams[c] = names[svc]
	}
	cfg.SupportProxyTLS = p.ProxyTerminatesTLS()
	if !cfg.SupportProxyTLS {
		return cfg
	}
	cfg.CertDir = proxy.DefaultCertDir
	cfg.NoInterop = !p.InteropEnabledIS()
	if mode := proxy.ClientCertMode(p.InteropClientCertMode); mode != proxy.ClientCertOff {
		cfg.ClientCert = proxy.ClientCert{Mode: mode, CAFile: proxyservice.ClientCAPath}
	}
	return cfg
}

// newProxy creates the proxy's service in the Services stack. It starts
// after the components' services (deps) so that their Service Connect names
// resolve when nginx starts: nginx refuses to start when an upstream host
// does not resolve.
//
// With SupportProxyTLS it runs the image of internal/run/certsync/Dockerfile (built by `cdk
// deploy` from the module folder, like Certbot's), whose certsync reads the
// Data stack's certificate secret, named rather than referenced as in the
// Certbot task.
func newProxy(stack awscdk.Stack, in servicesInputs, deps []awsecs.FargateService) (*proxyservice.Service, error) {
	p, lb, is := in.params, in.lb, in.is
	conf, err := proxy.Render(ProxyConfig(p))
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	var tlsProps *proxyservice.TLS
	if p.ProxyTerminatesTLS() {
		if in.moduleDir == "" {
			return nil, fmt.Errorf("proxy: the module folder is needed to build the proxy image; set stacks.Inputs.ModuleDir")
		}
		image := awsecrassets.NewDockerImageAsset(stack, jsii.String("ProxyImage"), &awsecrassets.DockerImageAssetProps{
			Directory: jsii.String(in.moduleDir),
			File:      jsii.String("internal/run/certsync/Dockerfile"),
			Platform:  fargateservice.Architecture(p.CpuArchitecture).Platform(),
			// The build context is the module root; only what the image
			// builds: certsync and the certbot packages it imports.
			IgnoreMode: awscdk.IgnoreMode_DOCKER,
			Exclude: jsii.Strings("*", "!go.mod", "!go.sum", "!internal/run/certsync/Dockerfile",
				"!certbot/awsenv", "!certbot/certmetrics", "!certbot/certsecret", "!internal/pemkey",
				"!internal/run/certsync", "!internal/run/cmd/certsync", "**/*_test.go"),
		})
		certName := p.StackPrefix + "/tts/" + ProxyCertificateSecret
		tlsProps = &proxyservice.TLS{
			Image:      awsecs.ContainerImage_FromDockerImageAsset(image),
			SecretName: certName,
			// Secrets Manager appends 6 random characters to the name.
			SecretArn:        jsii.String(fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-??????", *stack.Partition(), p.Region, p.Account, certName)),
			SecretsKeyArn:    in.data.Key.KeyArn(),
			Region:           p.Region,
			Domain:           p.DomainName,
			MetricNamespace:  CertMetricNamespace,
			MetricDimensions: "Domain=" + p.DomainName,
			ClientCA:         string(p.InteropClientCA()),
		}
	}
	sg := lb.Tasks.ByServer[ports.ServerProxy]
	if sg == nil {
		return nil, fmt.Errorf("proxy: the LoadBalancer stack has no task security group of %s", ports.ServerProxy)
	}
	targets := in.targets
	svc, err := proxyservice.New(stack, "Service-proxy", proxyservice.Props{
		Cluster:          is.Cluster,
		Namespace:        is.Namespace.NamespaceArn(),
		Subnets:          &awsec2.SubnetSelection{SubnetGroupName: jsii.String(netbase.PrivateSubnets)},
		SecurityGroup:    sg,
		Image:            proxy.Image,
		TLS:              tlsProps,
		Config:           conf,
		Targets:          targets,
		HealthPort:       proxy.DefaultHealthPort,
		HealthPath:       proxy.HealthPath,
		DesiredCount:     p.ProxyTasks,
		CPU:              ProxyCPU,
		MemoryMiB:        ProxyMemoryMiB,
		HealthCheckGrace: ProxyHealthGrace,
		LogRetention:     retention(p.LogRetentionDays),
		Architecture:     fargateservice.Architecture(p.CpuArchitecture),
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
