// Package stacks composes the constructs into the app's stacks. Every stack is
// always present, whatever the parameters say (CloudFormation would orphan a
// stack that left the app); parameters decide what is inside them.
package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/removal"
	"github.com/lorawan-stack-aws/tts-ecs/internal/interop"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// Names of the stacks, in deployment order. Cross-stack references go one way,
// down this list. A stack's name is <StackPrefix>-<Name>.
const (
	NetworkName        = "Network"
	DataName           = "Data"
	LoadBalancerName   = "LoadBalancer"
	ConfigurationName  = "Configuration"
	IdentityServerName = "IdentityServer"
	ServicesName       = "Services"
)

// Names returns the stack names in deployment order.
func Names() []string {
	return []string{NetworkName, DataName, LoadBalancerName, ConfigurationName, IdentityServerName, ServicesName}
}

// App is every stack of one deployment.
type App struct {
	Network        *Network
	Data           *Data
	LoadBalancer   *LoadBalancer
	Configuration  *Configuration
	IdentityServer *IdentityServer
	Services       *Services
}

// AvailabilityZonesContextKey is the context key under which the CDK looks up
// the zones of an account and region. Build sets it from the parameters, so
// that synthesis needs no AWS call.
func AvailabilityZonesContextKey(account, region string) string {
	return fmt.Sprintf("availability-zones:account=%s:region=%s", account, region)
}

// Inputs are what Build needs besides the parameters.
type Inputs struct {
	// Interop is the checked interop repository (LoadInterop); nil when the
	// parameters name none.
	Interop *interop.Repository
	// ModuleDir is the folder of this project's go.mod: the deploy-time
	// functions are built from it at synth.
	ModuleDir string
}

// Build adds every stack of the deployment described by p to app, and the
// cdk-nag AwsSolutions checks. It must be called before app has children.
func Build(app awscdk.App, p *params.Params, in Inputs) (*App, error) {
	azs := make([]any, len(p.AvailabilityZones))
	for i, z := range p.AvailabilityZones {
		azs[i] = z
	}
	app.Node().SetContext(jsii.String(AvailabilityZonesContextKey(p.Account, p.Region)), azs)

	env := &awscdk.Environment{Account: jsii.String(p.Account), Region: jsii.String(p.Region)}
	// The construct id of a stack is its name, so that its template is
	// cdk.out/<prefix>-<Stack>.template.json.
	props := func(name, description string) awscdk.StackProps {
		return awscdk.StackProps{
			Env:         env,
			StackName:   jsii.String(p.StackName(name)),
			Description: jsii.String(fmt.Sprintf("The Things Stack on ECS (%s): %s", p.StackPrefix, description)),
			Tags:        &map[string]*string{"tts:deployment": jsii.String(p.StackPrefix)},
		}
	}
	out := &App{}
	var err error
	if out.Network, err = NewNetwork(app, p.StackName(NetworkName), NetworkProps{StackProps: props(NetworkName, "VPC, load balancer, DNS"), Params: p}); err != nil {
		return nil, err
	}
	dataProps := props(DataName, "database, cache, buckets, keys, secrets")
	dataProps.TerminationProtection = jsii.Bool(p.DeletionProtection)
	if out.Data, err = NewData(app, p.StackName(DataName), DataProps{StackProps: dataProps, Params: p, Network: out.Network}); err != nil {
		return nil, err
	}
	out.Data.Stack.AddStackDependency(out.Network.Stack, jsii.String("the data tier lives in the VPC"))
	if out.LoadBalancer, err = NewLoadBalancer(app, p.StackName(LoadBalancerName), LoadBalancerProps{
		StackProps: props(LoadBalancerName, "certificate, task security groups"), Params: p, Network: out.Network, Data: out.Data,
	}); err != nil {
		return nil, err
	}
	if out.Configuration, err = NewConfiguration(app, p.StackName(ConfigurationName), ConfigurationProps{
		StackProps: props(ConfigurationName, "TTS configuration, interop repository"), Params: p, Data: out.Data, Interop: in.Interop, ModuleDir: in.ModuleDir,
	}); err != nil {
		return nil, err
	}
	out.Configuration.AddStackDependency(out.LoadBalancer.Stack, jsii.String("deployed after the load balancer, in the documented order"))
	if out.IdentityServer, err = NewIdentityServer(app, p.StackName(IdentityServerName), IdentityServerProps{
		StackProps: props(IdentityServerName, "ECS cluster, Identity Server service"), Params: p,
		Network: out.Network, Data: out.Data, LoadBalancer: out.LoadBalancer, Configuration: out.Configuration, ModuleDir: in.ModuleDir,
	}); err != nil {
		return nil, err
	}
	out.IdentityServer.AddStackDependency(out.Configuration.Stack, jsii.String("the Identity Server reads its configuration"))
	if out.Services, err = NewServices(app, p.StackName(ServicesName), ServicesProps{
		StackProps: props(ServicesName, "ECS services of the other components, target groups, public listeners"), Params: p,
		Network: out.Network, Data: out.Data, LoadBalancer: out.LoadBalancer, Configuration: out.Configuration, IdentityServer: out.IdentityServer, ModuleDir: in.ModuleDir,
	}); err != nil {
		return nil, err
	}
	out.Services.AddStackDependency(out.IdentityServer.Stack, jsii.String("the components run in the Identity Server's cluster and need the Identity Server"))

	if !p.RetainData {
		removal.DeleteEverything(app)
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return out, nil
}

// retention converts a number of days that params accepted into the CDK's
// enumeration.
func retention(days int) awslogs.RetentionDays {
	names := []awslogs.RetentionDays{
		awslogs.RetentionDays_ONE_DAY, awslogs.RetentionDays_THREE_DAYS, awslogs.RetentionDays_FIVE_DAYS,
		awslogs.RetentionDays_ONE_WEEK, awslogs.RetentionDays_TWO_WEEKS, awslogs.RetentionDays_ONE_MONTH,
		awslogs.RetentionDays_TWO_MONTHS, awslogs.RetentionDays_THREE_MONTHS, awslogs.RetentionDays_FOUR_MONTHS,
		awslogs.RetentionDays_FIVE_MONTHS, awslogs.RetentionDays_SIX_MONTHS, awslogs.RetentionDays_ONE_YEAR,
		awslogs.RetentionDays_THIRTEEN_MONTHS, awslogs.RetentionDays_EIGHTEEN_MONTHS, awslogs.RetentionDays_TWO_YEARS,
		awslogs.RetentionDays_THREE_YEARS, awslogs.RetentionDays_FIVE_YEARS, awslogs.RetentionDays_SIX_YEARS,
		awslogs.RetentionDays_SEVEN_YEARS, awslogs.RetentionDays_EIGHT_YEARS, awslogs.RetentionDays_NINE_YEARS,
		awslogs.RetentionDays_TEN_YEARS,
	}
	allowed := params.RetentionDays()
	if len(allowed) != len(names) {
		panic("stacks: params.RetentionDays and the CDK retention names differ in length")
	}
	for i, d := range allowed {
		if d == days {
			return names[i]
		}
	}
	panic(fmt.Sprintf("stacks: retention of %d days was not validated by params", days))
}
