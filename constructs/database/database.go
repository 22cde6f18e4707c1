// Package database is the Aurora PostgreSQL cluster of the Identity Server:
// Serverless v2 writer and readers in different availability zones, storage
// encrypted with the data key, TLS 1.2+ required, credentials generated into
// Secrets Manager, backups, logs exported with a retention, and a final
// snapshot when the stack deletes the cluster (see package removal), from
// which a new cluster can be restored.
package database

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/removal"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// Port is the PostgreSQL port. It is not the default 5432, so that scans for
// the default port find nothing (cdk-nag AwsSolutions-RDS11).
const Port = 5433

// databaseName is the database the cluster creates for The Things Stack;
// Database.Name exposes it to the stacks that connect to it.
const databaseName = "ttn_lorawan"

// Props configure the cluster.
type Props struct {
	Vpc     awsec2.IVpc
	Subnets *awsec2.SubnetSelection
	// AvailabilityZones place the writer in the first and readers in the others.
	AvailabilityZones []string
	Key               awskms.IKey
	// Identifier is the cluster's name (stable; it names the log group too).
	Identifier string
	// SecretName of the generated credentials.
	SecretName      string
	MinCapacity     float64
	MaxCapacity     float64
	Readers         int
	BackupRetention int
	// DeletionProtection of the cluster.
	DeletionProtection bool
	LogRetention       awslogs.RetentionDays
	// RestoreFrom names an Aurora cluster snapshot (or its ARN) the cluster
	// is created from; empty for an empty database. CloudFormation restores
	// only at creation, and a change or removal later replaces the cluster.
	RestoreFrom string
}

// Database is the cluster and what clients need to reach it.
type Database struct {
	constructs.Construct
	Cluster awsrds.DatabaseCluster
	// Secret holds the generated credentials; its attachment to the cluster
	// adds the cluster's host and port.
	Secret awssecretsmanager.ISecret
	// Name is the database the cluster creates (DatabaseName of the cluster):
	// the one clients must connect to.
	Name          string
	SecurityGroup awsec2.SecurityGroup
}

func (p Props) validate() error {
	var errs diag.List
	if p.Vpc == nil || p.Key == nil {
		errs.Errorf("database.missing-scope", "", "Vpc and Key are required")
	}
	if len(p.AvailabilityZones) < 2 {
		errs.Errorf("database.too-few-zones", "AvailabilityZones", "%d given; give at least 2 availability zones", len(p.AvailabilityZones))
	}
	if p.Identifier == "" {
		errs.Errorf("database.missing-identifier", "Identifier", "is required: it names the cluster and its log group")
	}
	if p.SecretName == "" {
		errs.Errorf("database.missing-secret-name", "SecretName", "is required: it names the generated credentials")
	}
	if p.MinCapacity < 0.5 || p.MaxCapacity < p.MinCapacity {
		errs.Errorf("database.bad-capacity", "MinCapacity", "capacity %g..%g ACU is not a valid range; MinCapacity is at least 0.5 and MaxCapacity at least MinCapacity", p.MinCapacity, p.MaxCapacity)
	}
	if p.Readers < 0 {
		errs.Errorf("database.negative-readers", "Readers", "is %d; use 0 or more", p.Readers)
	}
	if p.BackupRetention < 1 || p.BackupRetention > 35 {
		errs.Errorf("database.bad-backup-retention", "BackupRetention", "%d is outside 1..35 days", p.BackupRetention)
	}
	if err := errs.Err(); err != nil {
		return fmt.Errorf("database:\n%w", err)
	}
	return nil
}

// New creates the cluster.
func New(scope constructs.Construct, id string, props Props) (*Database, error) {
	if err := props.validate(); err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	sg := awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String("Aurora PostgreSQL of The Things Stack; ingress only from the task security groups"),
		AllowAllOutbound: jsii.Bool(false),
	})
	version := awsrds.AuroraPostgresEngineVersion_VER_16_9()
	engine := awsrds.DatabaseClusterEngine_AuroraPostgres(&awsrds.AuroraPostgresClusterEngineProps{Version: version})
	parameters := awsrds.NewParameterGroup(c, jsii.String("Parameters"), &awsrds.ParameterGroupProps{
		Engine:      engine,
		Description: jsii.String("The Things Stack: TLS 1.2 or later required"),
		Parameters: &map[string]*string{
			"rds.force_ssl":            jsii.String("1"),
			"ssl_min_protocol_version": jsii.String("TLSv1.2"),
		},
	})
	// The log group exists before the cluster exports to it, so that it has a
	// retention and is retained.
	logGroup := awslogs.NewLogGroup(c, jsii.String("PostgresLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(fmt.Sprintf("/aws/rds/cluster/%s/postgresql", props.Identifier)),
		Retention:     props.LogRetention,
		RemovalPolicy: removal.Keep(),
	})
	readers := make([]awsrds.IClusterInstance, props.Readers)
	for i := range readers {
		readers[i] = awsrds.ClusterInstance_ServerlessV2(jsii.String(fmt.Sprintf("Reader%d", i+1)), &awsrds.ServerlessV2ClusterInstanceProps{
			ScaleWithWriter:  jsii.Bool(true),
			AvailabilityZone: jsii.String(props.AvailabilityZones[(i+1)%len(props.AvailabilityZones)]),
		})
	}
	cluster := awsrds.NewDatabaseCluster(c, jsii.String("Cluster"), &awsrds.DatabaseClusterProps{
		Engine:            engine,
		ClusterIdentifier: jsii.String(props.Identifier),
		Writer: awsrds.ClusterInstance_ServerlessV2(jsii.String("Writer"), &awsrds.ServerlessV2ClusterInstanceProps{
			AvailabilityZone: jsii.String(props.AvailabilityZones[0]),
		}),
		Readers:                 &readers,
		ServerlessV2MinCapacity: jsii.Number(props.MinCapacity),
		ServerlessV2MaxCapacity: jsii.Number(props.MaxCapacity),
		Vpc:                     props.Vpc,
		VpcSubnets:              props.Subnets,
		SecurityGroups:          &[]awsec2.ISecurityGroup{sg},
		Port:                    jsii.Number(Port),
		DefaultDatabaseName:     jsii.String(databaseName),
		Credentials: awsrds.Credentials_FromGeneratedSecret(jsii.String("tts"), &awsrds.CredentialsBaseOptions{
			EncryptionKey:     props.Key,
			SecretName:        jsii.String(props.SecretName),
			ExcludeCharacters: jsii.String(` %+~#$&*()|[]{}:;<>?!'/@"\` + "`"),
		}),
		StorageEncrypted:      jsii.Bool(true),
		StorageEncryptionKey:  props.Key,
		ParameterGroup:        parameters,
		IamAuthentication:     jsii.Bool(true),
		CloudwatchLogsExports: &[]*string{jsii.String("postgresql")},
		Backup: &awsrds.BackupProps{
			Retention:       awscdk.Duration_Days(jsii.Number(float64(props.BackupRetention))),
			PreferredWindow: jsii.String("02:00-03:00"),
		},
		PreferredMaintenanceWindow: jsii.String("sun:03:30-sun:04:30"),
		DeletionProtection:         jsii.Bool(props.DeletionProtection),
		// A final snapshot, then the cluster and its instances are deleted,
		// and with them the parameter group, subnet group and security group
		// they use: a retained cluster would keep those in use and fail the
		// stack's deletion.
		RemovalPolicy:      awscdk.RemovalPolicy_SNAPSHOT,
		CopyTagsToSnapshot: jsii.Bool(true),
	})
	cluster.Node().AddDependency(logGroup)
	if !props.DeletionProtection {
		cdknag.NagSuppressions_AddResourceSuppressions(cluster, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-RDS10"),
			Reason: jsii.String("The operator set the parameter DeletionProtection to false (the synthesis warns about it); " +
				"a deletion or replacement of the cluster by its stack still leaves a final snapshot (unless RetainData is false, which the synthesis also warns about)."),
		}}, jsii.Bool(true))
	}
	if props.RestoreFrom != "" {
		restore(cluster, props.RestoreFrom)
	}
	// cluster.Secret() is the secret's attachment; the retention and the
	// suppression belong to the generated secret itself, the child "Secret".
	generated := cluster.Node().FindChild(jsii.String("Secret"))
	generated.Node().DefaultChild().(awscdk.CfnResource).ApplyRemovalPolicy(removal.Keep(), nil)
	// The attachment only adds the cluster's address to the secret: it goes
	// with the cluster.
	cluster.Secret().Node().DefaultChild().(awscdk.CfnResource).ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY, nil)
	cdknag.NagSuppressions_AddResourceSuppressions(generated, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("The Things Stack reads the database password once at start and cannot follow a rotation; " +
			"an automatic rotation would break every running Identity Server task. The operator rotates it: a new password on the cluster and in this secret, " +
			"then a new DatabasePasswordVersion and a deploy, which composes the database URI again and restarts the Identity Server (README, Rotating the database password)."),
	}}, jsii.Bool(true))
	return &Database{Construct: c, Cluster: cluster, Secret: cluster.Secret(), Name: databaseName, SecurityGroup: sg}, nil
}

// restore makes the cluster a restore of a snapshot. The snapshot brings the
// database (ttn_lorawan) and the master user (tts) with it; MasterUsername
// goes, as CloudFormation's documentation asks with SnapshotIdentifier.
// MasterUserPassword stays: CloudFormation's handler sets it on the restored
// cluster right after the restore (a ModifyDBCluster), so the password is the
// one of this deployment's generated secret, not the one the snapshot was
// taken with, and the database URI composed from that secret works. This is
// what the CDK's own DatabaseClusterFromSnapshot renders with
// snapshotCredentials. The storage is encrypted with this deployment's data
// key; reading the snapshot needs its own key (the earlier data key, kept on
// deletion) to be enabled.
func restore(cluster awsrds.DatabaseCluster, snapshot string) {
	cfn := cluster.Node().DefaultChild().(awsrds.CfnDBCluster)
	cfn.SetSnapshotIdentifier(jsii.String(snapshot))
	cfn.AddPropertyDeletionOverride(jsii.String("MasterUsername"))
	awscdk.Validations_Of(cfn).Acknowledge(&awscdk.Acknowledgment{
		Id: jsii.String("CloudFormation-Validate::F3021"),
		Reason: jsii.String("A restore from SnapshotIdentifier keeps the snapshot's master user name (CloudFormation's documentation: do not specify MasterUsername with SnapshotIdentifier); " +
			"MasterUserPassword resets that user's password after the restore."),
	})
}
