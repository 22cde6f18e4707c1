package fargateservice

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// RunGrant is what a deploy-time function needs to run one task family in a
// cluster and wait for it (a Custom::TaskRun or Custom::CertbotRun).
type RunGrant struct {
	// Name names the policy statements: Run<Name>Task, Watch<Name>Task,
	// Pass<Name>Roles.
	Name string
	// What names the family in the cdk-nag reason, e.g. "the Certbot".
	What string
	// Family is the task definition family; Region and Account make its ARN.
	Family, Region, Account string
	Cluster                 awsecs.ICluster
	// Roles are the task's roles, which the function passes to ECS.
	Roles []awsiam.IRole
}

// GrantRunTask lets role run g.Family (any revision) in g.Cluster, watch the
// cluster's tasks and pass the task's roles to ECS tasks, and nothing else.
// The family with any revision, not one revision's ARN: the policy then stays
// the same across deployments, so a new revision is never run before a changed
// policy has reached IAM.
func GrantRunTask(role awsiam.Role, g RunGrant) error {
	if g.Name == "" || g.What == "" || g.Family == "" || g.Region == "" || g.Account == "" || g.Cluster == nil || len(g.Roles) == 0 {
		return fmt.Errorf("fargateservice: GrantRunTask needs Name, What, Family, Region, Account, Cluster and the task's Roles")
	}
	familyArn := fmt.Sprintf("arn:%s:ecs:%s:%s:task-definition/%s:*", *awscdk.Stack_Of(role).Partition(), g.Region, g.Account, g.Family)
	inCluster := &map[string]any{"ArnEquals": map[string]any{"ecs:cluster": g.Cluster.ClusterArn()}}
	roles := make([]*string, len(g.Roles))
	for i, r := range g.Roles {
		roles[i] = r.RoleArn()
	}
	for _, s := range []*awsiam.PolicyStatementProps{
		{Sid: jsii.String("Run" + g.Name + "Task"), Actions: jsii.Strings("ecs:RunTask"), Resources: jsii.Strings(familyArn), Conditions: inCluster},
		// The task ARN is known only after RunTask: tasks of this cluster.
		{Sid: jsii.String("Watch" + g.Name + "Task"), Actions: jsii.Strings("ecs:DescribeTasks"), Resources: jsii.Strings("*"), Conditions: inCluster},
		{Sid: jsii.String("Pass" + g.Name + "Roles"), Actions: jsii.Strings("iam:PassRole"),
			Resources:  &roles,
			Conditions: &map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
	} {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(s))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("ecs:RunTask names " + g.What + " task definition family (" + g.Family + ":*, any revision) and the cluster; " +
			"ecs:DescribeTasks is limited to the cluster by condition, because the task ARN is known only after RunTask."),
		AppliesTo: &[]any{"Resource::" + familyArn, "Resource::*"},
	}}, jsii.Bool(true))
	return nil
}

// SubnetIDs returns the ids of the cluster VPC's subnets that selection
// picks, as a task run's network configuration names them.
func SubnetIDs(cluster awsecs.ICluster, selection *awsec2.SubnetSelection) []string {
	var ids []string
	for _, s := range *cluster.Vpc().SelectSubnets(selection).Subnets {
		ids = append(ids, *s.SubnetId())
	}
	return ids
}
