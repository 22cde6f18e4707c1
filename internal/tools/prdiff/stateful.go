package prdiff

import "sort"

// statefulType is a resource type that holds data, or an identity that others
// depend on (the public addresses gateways are configured with).
type statefulType struct {
	name string
	// onlyWhenRetained: the type holds data only where the app retains it
	// (DeletionPolicy Retain, in the old or the new template).
	onlyWhenRetained bool
}

// statefulTypes is the one list of stateful resource types. Replacing or
// removing one of them, or turning off what keeps it, loses its data. The
// guard and the tests use this list and no other.
//
// Log groups count when their logs are retained; Elastic IPs count when
// retained, which here are the load balancer's fixed addresses (the NAT
// gateways' addresses are not retained and may change).
func statefulTypes() []statefulType {
	return []statefulType{
		{name: "AWS::RDS::DBCluster"},
		{name: "AWS::RDS::DBInstance"},
		{name: "AWS::ElastiCache::ReplicationGroup"},
		{name: "AWS::S3::Bucket"},
		{name: "AWS::SecretsManager::Secret"},
		{name: "AWS::KMS::Key"},
		{name: "AWS::Logs::LogGroup", onlyWhenRetained: true},
		{name: "AWS::EC2::EIP", onlyWhenRetained: true},
	}
}

// StatefulTypes lists every resource type the data-loss guard protects,
// sorted, including those protected only when retained.
func StatefulTypes() []string {
	var names []string
	for _, s := range statefulTypes() {
		names = append(names, s.name)
	}
	sort.Strings(names)
	return names
}

// IsStateful tells whether a resource of type typ holds data, given its old
// and new definitions (either is nil when the resource is added or removed).
func IsStateful(typ string, old, new *Resource) bool {
	for _, s := range statefulTypes() {
		if s.name != typ {
			continue
		}
		if !s.onlyWhenRetained {
			return true
		}
		return (old != nil && keepsData(old.DeletionPolicy)) || (new != nil && keepsData(new.DeletionPolicy))
	}
	return false
}

// keepsData tells whether a DeletionPolicy or UpdateReplacePolicy leaves the
// data behind. CloudFormation's default (no policy) is Delete.
func keepsData(policy string) bool {
	switch policy {
	case "Retain", "RetainExceptOnCreate", "Snapshot":
		return true
	}
	return false
}
