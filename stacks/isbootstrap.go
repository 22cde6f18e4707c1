package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/fargateservice"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/gofunction"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/netbase"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/ttsservice"
	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// DatabaseBootstrapPurpose names the bootstrap task in roles and messages.
const DatabaseBootstrapPurpose = "Identity Server database bootstrap"

// newDatabaseBootstrap creates the Identity Server's database bootstrap: a
// one-off task with the service's image and configuration (DatabaseBootstrap)
// and the custom resource that runs it at deploy time and waits for its exit
// code (DatabaseBootstrapRun). The service depends on the run, so on every
// deployment that changes the task definition (image or configuration: the
// configuration digest is in its environment, and the definition's ARN is a
// property of the run) CloudFormation runs the bootstrap once, before the
// service rolls to the new tasks. A failed bootstrap fails the stack update,
// which rolls back before any Identity Server task changed.
//
// One run per change, not an init container in every task: ECS starts
// several Identity Server tasks at once (desired count 2, rolling deploys),
// and `is-db migrate` of TTS v3.32.1 takes no lock. See bootstrapScript for
// what the script does and why.
func newDatabaseBootstrap(stack awscdk.Stack, p *params.Params, is *IdentityServer, sg awsec2.ISecurityGroup,
	moduleDir string, secrets map[string]awsecs.Secret) error {
	if moduleDir == "" {
		return fmt.Errorf("identity server: the module folder is needed to build the function that runs the database bootstrap; set stacks.Inputs.ModuleDir")
	}
	family := p.StackPrefix + "-is-db-bootstrap"
	job, err := is.Service.Job(stack, "DatabaseBootstrap", ttsservice.JobProps{
		Family:    family,
		Purpose:   DatabaseBootstrapPurpose,
		Script:    bootstrapScript(p.AdminEmail, p.DomainName),
		Secrets:   secrets,
		CPU:       256,
		MemoryMiB: 512,
	})
	if err != nil {
		return err
	}

	// The function that runs the task lives here, not in the Configuration
	// stack's DeployResources function: that one reads database credentials
	// and interop secrets, and granting it RunTask and PassRole on this
	// stack's roles would both widen it and make the Configuration stack
	// name resources of a later stack. This one may only run the bootstrap's
	// task definition family in this cluster, pass the bootstrap's two roles
	// to ECS tasks, and watch tasks of this cluster.
	fn, err := gofunction.New(stack, "DatabaseBootstrapRunner", gofunction.Props{
		ModuleDir:    moduleDir,
		Package:      "./internal/run/cmd/deploy-resources",
		Description:  "Runs the " + DatabaseBootstrapPurpose + " task at deploy time and waits for its exit code",
		Timeout:      awscdk.Duration_Minutes(jsii.Number(15)),
		LogRetention: retention(p.LogRetentionDays),
	})
	if err != nil {
		return err
	}
	if err := fargateservice.GrantRunTask(fn.Role, fargateservice.RunGrant{
		Name: "Bootstrap", What: "the bootstrap's", Family: family, Region: p.Region, Account: p.Account,
		Cluster: is.Cluster, Roles: []awsiam.IRole{job.TaskRole, job.ExecutionRole},
	}); err != nil {
		return err
	}
	run := awscdk.NewCustomResource(stack, jsii.String("DatabaseBootstrapRun"), &awscdk.CustomResourceProps{
		ServiceToken: fn.Function.FunctionArn(),
		ResourceType: jsii.String(deployres.TaskRunType),
		Properties: deployres.TaskRunProps{
			Task: deployres.Task{
				Cluster: *is.Cluster.ClusterArn(),
				// A new revision (image or configuration) changes the ARN, so
				// CloudFormation sends Update and the bootstrap runs again.
				TaskDefinition: *job.TaskDefinition.TaskDefinitionArn(),
				Container:      ttsservice.JobContainer,
				Subnets:        fargateservice.SubnetIDs(is.Cluster, &awsec2.SubnetSelection{SubnetGroupName: jsii.String(netbase.PrivateSubnets)}),
				// The Identity Server's group: the database admits it.
				SecurityGroups: []string{*sg.SecurityGroupId()},
				LogGroup:       *job.LogGroup.LogGroupName(),
			},
			Purpose: DatabaseBootstrapPurpose,
		}.Properties(),
	})
	run.Node().AddDependency(fn.Role)
	is.Service.Service.Node().AddDependency(run)
	return nil
}

// bootstrapScript prepares the Identity Server's database; it runs with
// /bin/sh -c (busybox in the image) once per deployment change:
//
//   - `is-db migrate`, retried a few times for a database that is still
//     starting. One task runs it, so no two migrations race.
//   - `is-db create-admin-user` only on a fresh database: that command sets
//     the password of an existing user, so running it again would revert a
//     password the administrator changed in the Console. Fresh means that
//     migrate found no applied migration: before migrating it logs
//     "Applied: N migrations" when there are some and then "Unapplied: ...",
//     so on an empty database its first status line is "Unapplied:". An
//     attempt that saw an empty database and failed later still counts.
//     If the bootstrap failed after migrating and before creating the
//     administrator, the next run finds applied migrations and leaves the
//     administrator alone: the README says how to create it by hand.
//   - `is-db create-oauth-client` of the Console on every run, so that its
//     secret and redirect URIs follow the deployment. The command logs the
//     secret at INFO ("Updated OAuth client" {"secret": ...}): it runs with
//     --log.level warn, which keeps its warnings and errors.
//
// Secrets come from the environment (ADMIN_PASSWORD, CONSOLE_SECRET) and are
// only ever arguments, never echoed: the failure message names the step,
// not the command line.
func bootstrapScript(adminEmail, domain string) string {
	base := "https://" + domain
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	bin := ttsservice.Binary
	lines := []string{
		"set -eu",
		"retry() {",
		"  step=$1; shift; n=1",
		`  until "$@"; do`,
		`    if [ "$n" -ge 5 ]; then echo "database bootstrap: $step failed $n times; the messages above say why" >&2; return 1; fi`,
		"    sleep $((n * 5)); n=$((n + 1))",
		"  done",
		"}",
		"fresh=no",
		"migrate() {",
		fmt.Sprintf(`  rc=0; out=$(%s is-db migrate 2>&1) || rc=$?`, bin),
		`  printf '%s\n' "$out"`,
		`  case $(printf '%s\n' "$out" | grep -m1 -E '(Unapplied|Applied): [0-9]' || true) in *Unapplied:*) fresh=yes ;; esac`,
		`  return "$rc"`,
		"}",
		"retry 'is-db migrate' migrate",
		`if [ "$fresh" = yes ]; then`,
		fmt.Sprintf(`  retry 'is-db create-admin-user' %s is-db create-admin-user --id %s --email %s --password "$ADMIN_PASSWORD"`, bin, AdminUserID, quote(adminEmail)),
		"else",
		fmt.Sprintf(`  echo "database bootstrap: the database was migrated before; the administrator %s is left as it is"`, AdminUserID),
		"fi",
		fmt.Sprintf(`retry 'is-db create-oauth-client' %s is-db create-oauth-client --log.level warn --id %s --name Console --owner %s --secret "$CONSOLE_SECRET"`+
			` --redirect-uri %s --redirect-uri /console/oauth/callback --logout-redirect-uri %s --logout-redirect-uri /console`,
			bin, ConsoleClientID, AdminUserID, quote(base+"/console/oauth/callback"), quote(base+"/console")),
		`echo "database bootstrap: done"`,
	}
	return strings.Join(lines, "\n")
}
