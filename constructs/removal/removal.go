// Package removal decides what deleting a stack does with the resources that
// hold data, in one place for every stack.
//
// Constructs declare what keeps data: RetainExceptOnCreate
// (RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE) for buckets, keys, secrets, log
// groups and addresses, Snapshot for the database and the cache. Never plain
// Retain: it also keeps a resource when the creation of its stack rolls back,
// and a retry then fails on the names the leftover holds ("already exists").
// Snapshot deletes the resource itself after its final snapshot, so the
// parameter group, subnet groups and security groups it uses can be deleted
// with the stack.
//
// DeleteEverything turns all of that into Delete for a deployment whose data
// may go (parameter RetainData: false).
package removal

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Keep is the removal policy of a resource that holds data (or the key or
// logs to it) and has no final snapshot: kept when the stack deletes it or
// replaces it, deleted when the stack's creation rolls back.
func Keep() awscdk.RemovalPolicy { return awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE }

// DeleteEverything makes every resource under scope that a deletion would
// keep (Retain, RetainExceptOnCreate or Snapshot) deleted with its stack
// instead, without a snapshot. Buckets must also be emptied on deletion
// (securebucket's DeleteWithStack), or CloudFormation cannot delete them.
func DeleteEverything(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(&deleteAll{}, &awscdk.AspectOptions{Priority: awscdk.AspectPriority_MUTATING()})
}

type deleteAll struct{}

// Visit implements awscdk.IAspect.
func (*deleteAll) Visit(node constructs.IConstruct) {
	if !*awscdk.CfnResource_IsCfnResource(node) {
		return
	}
	r, ok := node.(awscdk.CfnResource)
	if !ok {
		return
	}
	switch r.CfnOptions().DeletionPolicy() {
	case awscdk.CfnDeletionPolicy_RETAIN, awscdk.CfnDeletionPolicy_RETAIN_EXCEPT_ON_CREATE, awscdk.CfnDeletionPolicy_SNAPSHOT:
		r.ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY, &awscdk.RemovalPolicyOptions{ApplyToUpdateReplacePolicy: jsii.Bool(true)})
	}
}
