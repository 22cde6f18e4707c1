// Package prdiff compares two revisions of the app offline, for review: it
// synthesizes every environment at both (the base in a temporary git
// worktree, with that revision's own Makefile), diffs every stack with the
// CDK CLI's own template diff (`cdk diff --template`, run without AWS
// credentials), and applies two guards. internal/tools/cmd/prdiff is the command (`make
// diff`).
//
// The data-loss guard refuses changes that would lose stored data:
// replacing or removing a stateful resource, or turning off what keeps its
// data. Reviewed exceptions live in params/NAME.dataloss.yaml.
//
// The availability guard (CheckAvailability) walks the deploy from the old
// cloud assembly to the new one and fails when traffic or a reference
// breaks at some step. Its model of a deploy:
//
//   - `cdk deploy --all` updates the stacks one after another in the
//     manifest's dependency order (a stack starts when the previous one is
//     complete) and skips a stack whose template is unchanged. Stacks only
//     in the old assembly are not touched. If a stack's update fails, it
//     rolls back to its old template and the earlier stacks stay updated,
//     so the old template of every stack must also be consistent with the
//     stacks before it.
//   - Inside one stack, creates and updates run in the dependency order of
//     the new template (DependsOn, Ref, Fn::GetAtt, Fn::Sub). Changes with
//     no dependency path between them may run in either order or at once:
//     every such state is tried (happens-before is the transitive
//     dependency relation, never the file order). Removed and replaced
//     resources are deleted in the stack's cleanup phase, after all its
//     creates and updates, dependents first. A resource whose properties,
//     with every reference resolved to the physical resource it names, are
//     unchanged is not updated; one whose replacement-only properties change
//     (a table for the types the guard reads) is replaced: a new physical
//     resource is created in the update, the old one deleted in the cleanup.
//   - Cross-stack references, Fn::GetStackOutput (weak: CloudFormation
//     does not track it) and Fn::ImportValue, resolve through the
//     referenced stack's outputs, old or new depending on whether that stack
//     was updated at that moment, to the resource behind the output.
//   - An ECS service registers its tasks in the target groups of its
//     LoadBalancers. While it updates, the old and the new list both have
//     targets; after, only the new one. A created service counts from the
//     end of its creation, a deleted one stops counting when its deletion
//     starts; DesiredCount 0 means no targets (absent means autoscaled:
//     some). ECS refuses to create or update a service with a target group
//     that no listener uses at that moment.
//   - A listener forwards to DefaultActions[].TargetGroupArn (or
//     ForwardConfig.TargetGroups); its update is atomic. It is identified by
//     (load balancer, port), not by logical id: one that moves between
//     stacks or logical ids is deleted in one place and created in the other.
//   - A listener is public when a security group of its load balancer admits
//     a CIDR (inline or AWS::EC2::SecurityGroupIngress, CidrIp or CidrIpv6)
//     on its protocol and port; a load balancer without security groups, or
//     of no stack of the app, makes every listener public. Only public
//     listeners are checked for targets.
//
// The rules, each failure named with its window (the step that opens it and
// the step that closes it, nil when it stays open after the deploy):
//
//  1. A port with a public listener before and after the deploy has, at
//     every moment, exactly one listener, existing target groups, and a
//     registered target in each; and its protocol does not change while it
//     keeps the same target group (the same targets would get other traffic).
//  2. A public listener the deploy removes or creates is a note, with its
//     step.
//  3. The cross-stack references of each stack's old template resolve, and
//     the resources behind them exist, from the start of the deploy until
//     the stack updates; those of its new template from its update to the
//     end. A stack that is not updated keeps its old references to the end.
//     A CloudWatch alarm or dashboard only names what it watches: the
//     resource behind its reference may be deleted (no data), the output
//     must still resolve.
//  4. No ECS service is created or updated with a target group that no
//     listener uses at that moment.
//
// What the model cannot know: timings, health checks, whether containers
// serve the port, Conditions (every resource is taken as present), and
// replacements of resource types outside its table.
package prdiff
