package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/cache"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/database"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/netbase"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/securebucket"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/ttssecrets"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// Data holds every stateful resource: the data key, the database, the cache,
// the buckets and the generated secrets. All of it is retained when the stack
// is deleted, and no parameter change replaces any of it.
type Data struct {
	awscdk.Stack
	Key           awskms.Key
	Database      *database.Database
	Cache         *cache.Cache
	BlobBucket    awss3.Bucket
	InteropBucket awss3.Bucket
	LogBucket     awss3.Bucket
	Secrets       *ttssecrets.Secrets
	// DatabaseURI receives is.database-uri, which the Configuration stack
	// composes from the database's credentials at deploy time. Until then it
	// holds a random placeholder.
	DatabaseURI awssecretsmanager.Secret
}

// NewData creates the Data stack.
func NewData(scope constructs.Construct, id string, props *awscdk.StackProps, p *params.Params, net *Network) (*Data, error) {
	stack := awscdk.NewStack(scope, jsii.String(id), props)
	key := awskms.NewKey(stack, jsii.String("DataKey"), &awskms.KeyProps{
		Description:       jsii.String("The Things Stack " + p.StackPrefix + ": database, cache, buckets and secrets"),
		EnableKeyRotation: jsii.Bool(true),
		Alias:             jsii.String("alias/" + p.StackPrefix + "-data"),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	isolated := &awsec2.SubnetSelection{SubnetGroupName: jsii.String(netbase.IsolatedSubnets)}
	db, err := database.New(stack, "Database", database.Props{
		Vpc:                net.Vpc,
		Subnets:            isolated,
		AvailabilityZones:  p.AvailabilityZones,
		Key:                key,
		Identifier:         p.StackPrefix + "-db",
		SecretName:         p.StackPrefix + "/database",
		MinCapacity:        p.DatabaseMinCapacity,
		MaxCapacity:        p.DatabaseMaxCapacity,
		Readers:            p.DatabaseReaders,
		BackupRetention:    p.DatabaseBackupRetentionDays,
		DeletionProtection: p.DeletionProtection,
		LogRetention:       retention(p.LogRetentionDays),
	})
	if err != nil {
		return nil, err
	}
	redis, err := cache.New(stack, "Cache", cache.Props{
		Vpc:               net.Vpc,
		Subnets:           *net.Vpc.SelectSubnets(isolated).Subnets,
		AvailabilityZones: p.AvailabilityZones,
		Key:               key,
		SecretName:        p.StackPrefix + "/redis-auth-token",
		NodeType:          p.CacheNodeType,
		Replicas:          p.CacheReplicas,
		LogRetention:      retention(p.LogRetentionDays),
	})
	if err != nil {
		return nil, err
	}
	logs, err := securebucket.New(stack, "AccessLogs", securebucket.Props{
		LogReason:       "This bucket receives the server access logs of the other buckets; logging its own access would loop.",
		ExpireAfterDays: p.LogRetentionDays,
	})
	if err != nil {
		return nil, err
	}
	blobs, err := securebucket.New(stack, "Blobs", securebucket.Props{Key: key, Versioned: true, AccessLogs: logs, AccessLogsPrefix: "blobs/"})
	if err != nil {
		return nil, err
	}
	interop, err := securebucket.New(stack, "InteropRepository", securebucket.Props{Key: key, Versioned: true, AccessLogs: logs, AccessLogsPrefix: "interop/"})
	if err != nil {
		return nil, err
	}
	secrets, err := ttssecrets.New(stack, "Secrets", ttssecrets.Props{Key: key, NamePrefix: p.StackPrefix + "/tts/"})
	if err != nil {
		return nil, err
	}
	uri := awssecretsmanager.NewSecret(stack, jsii.String("DatabaseURI"), &awssecretsmanager.SecretProps{
		SecretName:    jsii.String(p.StackPrefix + "/tts/database-uri"),
		Description:   jsii.String("The Things Stack: is.database-uri, composed from " + p.StackPrefix + "/database by the Configuration stack at deploy time"),
		EncryptionKey: key,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(uri, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("The URI is derived from the database credentials, which are not rotated automatically (TTS reads is.database-uri once at start); a redeploy recomposes it."),
	}}, jsii.Bool(false))
	return &Data{Stack: stack, Key: key, Database: db, Cache: redis, BlobBucket: blobs, InteropBucket: interop, LogBucket: logs, Secrets: secrets, DatabaseURI: uri}, nil
}
