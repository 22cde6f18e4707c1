package listeners

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

// TaskGroups are the security groups of the tasks, by server (ports.Servers);
// ports.ServerProxy is the proxy's. The components without a public port
// (Network Server, Join Server, ...) use ports.ServerInternal's, also named
// Internal. They admit the other tasks here; the load balancer is admitted
// beside each target group (NewTargets), in the stack of the target group,
// so that a rule lives exactly as long as the target group it serves.
type TaskGroups struct {
	constructs.Construct
	ByServer map[ports.Server]awsec2.SecurityGroup
	Internal awsec2.SecurityGroup
}

// NewTaskGroups creates the task security groups in vpc.
func NewTaskGroups(scope constructs.Construct, id string, vpc awsec2.IVpc) (*TaskGroups, error) {
	if vpc == nil {
		var errs diag.List
		errs.Errorf("listeners.missing-vpc", "", "the task security groups need the VPC; give the VPC of the tasks")
		return nil, fmt.Errorf("listeners:\n%w", errs.Err())
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	out := &TaskGroups{Construct: c, ByServer: map[ports.Server]awsec2.SecurityGroup{}}
	servers := ports.Servers()
	for _, s := range servers {
		out.ByServer[s] = awsec2.NewSecurityGroup(c, jsii.String("Tasks-"+string(s)), &awsec2.SecurityGroupProps{
			Vpc:              vpc,
			Description:      jsii.String(fmt.Sprintf("The Things Stack tasks (%s): ingress only from the load balancer and the other tasks", s)),
			AllowAllOutbound: jsii.Bool(true),
		})
	}
	out.Internal = out.ByServer[ports.ServerInternal]
	// Every task reaches the cluster ports (gRPC and HTTP) of every other
	// task, and the proxy reaches the Identity Server's interop port.
	grpc, http, interop := ports.GRPC(), ports.HTTP(), ports.Interop()
	for _, to := range servers {
		for _, from := range servers {
			out.ByServer[to].AddIngressRule(out.ByServer[from], awsec2.Port_TcpRange(jsii.Number(float64(grpc.Plain)), jsii.Number(float64(http.Plain))),
				jsii.String(fmt.Sprintf("cluster gRPC and HTTP from %s tasks", from)), nil)
		}
	}
	out.ByServer[ports.ServerIS].AddIngressRule(out.ByServer[ports.ServerProxy], awsec2.Port_Tcp(jsii.Number(float64(interop.Plain))),
		jsii.String("Backend Interfaces from the proxy"), nil)
	return out, nil
}
