// Package cache is the Redis replication group of The Things Stack: TLS in
// transit, encryption at rest with the data key, Multi-AZ with automatic
// failover, an AUTH token generated into Secrets Manager, snapshots, logs with
// a retention, and a final snapshot when the stack deletes the group (see
// package removal), from which a new group can be restored.
package cache

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/removal"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// Port is the Redis port. It is not the default 6379 (cdk-nag AwsSolutions-AEC5).
const Port = 6380

// EngineVersion of Redis OSS; The Things Stack needs Redis 6.2 or later.
const EngineVersion = "7.1"

// Props configure the replication group.
type Props struct {
	Vpc     awsec2.IVpc
	Subnets []awsec2.ISubnet
	// AvailabilityZones spread the primary and the replicas.
	AvailabilityZones []string
	Key               awskms.IKey
	// SecretName of the generated AUTH token.
	SecretName   string
	NodeType     string
	Replicas     int
	LogRetention awslogs.RetentionDays
	// RestoreFrom names an ElastiCache snapshot the group is created from;
	// empty for an empty cache. CloudFormation reads it only at creation,
	// and a change replaces the group.
	RestoreFrom string
}

// Cache is the replication group and what clients need to reach it.
type Cache struct {
	constructs.Construct
	Group         awselasticache.CfnReplicationGroup
	AuthToken     awssecretsmanager.Secret
	SecurityGroup awsec2.SecurityGroup
}

func (p Props) validate() error {
	var errs diag.List
	if p.Vpc == nil || p.Key == nil {
		errs.Errorf("cache.missing-scope", "", "Vpc and Key are required")
	}
	if len(p.Subnets) < 2 || len(p.AvailabilityZones) < 2 {
		errs.Errorf("cache.too-few-zones", "AvailabilityZones", "give subnets in at least 2 availability zones (%d subnets and %d zones given)", len(p.Subnets), len(p.AvailabilityZones))
	}
	if p.Replicas < 1 {
		errs.Errorf("cache.no-replica", "Replicas", "is %d; Multi-AZ with automatic failover needs at least 1", p.Replicas)
	}
	if p.NodeType == "" {
		errs.Errorf("cache.missing-node-type", "NodeType", "is required, e.g. cache.t4g.micro")
	}
	if p.SecretName == "" {
		errs.Errorf("cache.missing-secret-name", "SecretName", "is required: it names the generated AUTH token")
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("cache:\n%w", err)
	}
	return nil
}

// New creates the replication group.
func New(scope constructs.Construct, id string, props Props) (*Cache, error) {
	if err := props.validate(); err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	sg := awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String("Redis of The Things Stack; ingress only from the task security groups"),
		AllowAllOutbound: jsii.Bool(false),
	})
	subnetIDs := make([]interface{}, len(props.Subnets))
	for i, s := range props.Subnets {
		subnetIDs[i] = s.SubnetId()
	}
	subnets := awselasticache.NewCfnSubnetGroup(c, jsii.String("Subnets"), &awselasticache.CfnSubnetGroupProps{
		Description: jsii.String("isolated subnets of The Things Stack's Redis"),
		SubnetIds:   &subnetIDs,
	})
	token := awssecretsmanager.NewSecret(c, jsii.String("AuthToken"), &awssecretsmanager.SecretProps{
		SecretName:    jsii.String(props.SecretName),
		Description:   jsii.String("AUTH token of The Things Stack's Redis (redis.password)"),
		EncryptionKey: props.Key,
		// Redis AUTH tokens are 16 to 128 printable characters without @, " and /.
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(64),
			ExcludePunctuation: jsii.Bool(true),
			IncludeSpace:       jsii.Bool(false),
		},
		RemovalPolicy: removal.Keep(),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(token, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("ElastiCache rotates an AUTH token only through a ModifyReplicationGroup with the ROTATE strategy, " +
			"and The Things Stack reads redis.password once at start; a Secrets Manager rotation would lock out running tasks."),
	}}, jsii.Bool(false))
	slowLog := awslogs.NewLogGroup(c, jsii.String("SlowLog"), &awslogs.LogGroupProps{
		Retention:     props.LogRetention,
		RemovalPolicy: removal.Keep(),
	})
	azs := make([]*string, props.Replicas+1)
	for i := range azs {
		azs[i] = jsii.String(props.AvailabilityZones[i%len(props.AvailabilityZones)])
	}
	group := awselasticache.NewCfnReplicationGroup(c, jsii.String("Group"), &awselasticache.CfnReplicationGroupProps{
		ReplicationGroupDescription: jsii.String("The Things Stack"),
		Engine:                      jsii.String("redis"),
		EngineVersion:               jsii.String(EngineVersion),
		CacheNodeType:               jsii.String(props.NodeType),
		NumNodeGroups:               jsii.Number(1),
		ReplicasPerNodeGroup:        jsii.Number(float64(props.Replicas)),
		PreferredCacheClusterAZs:    &azs,
		AutomaticFailoverEnabled:    jsii.Bool(true),
		MultiAzEnabled:              jsii.Bool(true),
		TransitEncryptionEnabled:    jsii.Bool(true),
		AtRestEncryptionEnabled:     jsii.Bool(true),
		KmsKeyId:                    props.Key.KeyArn(),
		AuthToken:                   token.SecretValue().UnsafeUnwrap(), // a dynamic reference, resolved by CloudFormation
		CacheSubnetGroupName:        subnets.Ref(),
		SecurityGroupIds:            &[]*string{sg.SecurityGroupId()},
		Port:                        jsii.Number(Port),
		SnapshotRetentionLimit:      jsii.Number(7),
		SnapshotWindow:              jsii.String("01:00-02:00"),
		PreferredMaintenanceWindow:  jsii.String("sun:04:30-sun:05:30"),
		AutoMinorVersionUpgrade:     jsii.Bool(true),
		LogDeliveryConfigurations: &[]*awselasticache.CfnReplicationGroup_LogDeliveryConfigurationRequestProperty{{
			DestinationType: jsii.String("cloudwatch-logs"),
			LogFormat:       jsii.String("json"),
			LogType:         jsii.String("slow-log"),
			DestinationDetails: &awselasticache.CfnReplicationGroup_DestinationDetailsProperty{
				CloudWatchLogsDetails: &awselasticache.CfnReplicationGroup_CloudWatchLogsDestinationDetailsProperty{LogGroup: slowLog.LogGroupName()},
			},
		}},
	})
	if props.RestoreFrom != "" {
		// The AUTH token is not part of a snapshot: the restored group
		// takes the token generated above.
		group.SetSnapshotName(jsii.String(props.RestoreFrom))
	}
	// A final snapshot, then the group itself is deleted: retaining it would
	// keep its subnet group and security group in use, and the stack's
	// deletion would fail on them (and the Network stack's on the subnets
	// that hold its network interfaces).
	group.ApplyRemovalPolicy(awscdk.RemovalPolicy_SNAPSHOT, nil)
	return &Cache{Construct: c, Group: group, AuthToken: token, SecurityGroup: sg}, nil
}
