package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/cache"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/database"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/netbase"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/pictures"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/removal"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/securebucket"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/ttssecrets"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// Data holds every stateful resource: the data key, the database, the cache,
// the buckets and the generated secrets. Deleting the stack keeps the data
// (final snapshots of the database and the cache, the rest retained) unless
// RetainData is false, and no parameter change replaces any of it (but
// DatabaseSnapshot and CacheSnapshot, which are read at creation only).
type Data struct {
	awscdk.Stack
	Key           awskms.Key
	Database      *database.Database
	Cache         *cache.Cache
	BlobBucket    awss3.Bucket
	InteropBucket awss3.Bucket
	LogBucket     awss3.Bucket
	// PicturesBucket holds the Identity Server's profile and end device
	// pictures (SSE-S3: the distribution reads it without the data key);
	// Pictures serves them (and may read nothing when PicturesEnabled is
	// false).
	PicturesBucket awss3.Bucket
	Pictures       *pictures.Pictures
	Secrets        *ttssecrets.Secrets
	// DatabaseURI receives is.database-uri, which the Configuration stack
	// composes from the database's credentials at deploy time. Until then it
	// holds a random placeholder.
	DatabaseURI awssecretsmanager.Secret
	// ProxyCertificate holds the proxy's Let's Encrypt certificate
	// (certbot/certsecret format), written by the Certbot task. It exists in
	// both TLS modes: created with a random placeholder, which Certbot
	// treats like a missing certificate, so that flipping SupportProxyTLS
	// back and forth never removes a secret (and the certificate survives).
	ProxyCertificate awssecretsmanager.Secret
	// AcmeAccount holds Certbot's ACME account (key and registration), so
	// that every task run reuses one account; only the Certbot task reads
	// it, never the proxy. Same placeholder and lifetime as ProxyCertificate.
	AcmeAccount awssecretsmanager.Secret
	// SMTPCredentials holds the Identity Server's Amazon SES SMTP user name
	// and password (JSON, deployres.SMTPCredentials), written by the
	// Configuration stack when EmailSender is set. Like the certificate
	// secrets it exists in every mode, with a random placeholder: turning
	// e-mail off never removes a secret that a running task definition of
	// a later stack still names.
	SMTPCredentials awssecretsmanager.Secret
	// AlarmKey encrypts the alarm topic; CloudWatch may use it to publish.
	// A separate key, because the data key is not for AWS services acting
	// on their own. Like the secrets, it exists in both TLS modes.
	AlarmKey awskms.Key
	// OpsSessions are the key and log group of ECS Exec sessions, in every
	// mode (see OpsSessions).
	OpsSessions *OpsSessions
}

// DataProps are what the Data stack needs.
type DataProps struct {
	awscdk.StackProps
	Params  *params.Params
	Network *Network
}

// NewData creates the Data stack.
func NewData(scope constructs.Construct, id string, props DataProps) (*Data, error) {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	p, net := props.Params, props.Network
	key := awskms.NewKey(stack, jsii.String("DataKey"), &awskms.KeyProps{
		Description:       jsii.String("The Things Stack " + p.StackPrefix + ": database, cache, buckets and secrets"),
		EnableKeyRotation: jsii.Bool(true),
		Alias:             jsii.String("alias/" + p.StackPrefix + "-data"),
		RemovalPolicy:     removal.Keep(),
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
		RestoreFrom:        p.DatabaseSnapshot,
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
		RestoreFrom:       p.CacheSnapshot,
	})
	if err != nil {
		return nil, err
	}
	logs, err := securebucket.New(stack, "AccessLogs", securebucket.Props{
		LogReason:       "This bucket receives the server access logs of the other buckets; logging its own access would loop.",
		ExpireAfterDays: p.LogRetentionDays,
		DeleteWithStack: !p.RetainData,
	})
	if err != nil {
		return nil, err
	}
	blobs, err := securebucket.New(stack, "Blobs", securebucket.Props{Key: key, Versioned: true, AccessLogs: logs, AccessLogsPrefix: "blobs/", DeleteWithStack: !p.RetainData})
	if err != nil {
		return nil, err
	}
	interop, err := securebucket.New(stack, "InteropRepository", securebucket.Props{Key: key, Versioned: true, AccessLogs: logs, AccessLogsPrefix: "interop/", DeleteWithStack: !p.RetainData})
	if err != nil {
		return nil, err
	}
	// The Identity Server and the Configuration stack read the blob bucket
	// (pictures) before the pictures bucket existed: its name and ARN stay
	// published under the ids CDK gave them then, so that a stack deployed
	// before (or its rollback) still finds them while it is updated.
	// (In this order: a map's would change the template from run to run.)
	publish(blobs, "PublishOutputFnGetAttBlobsF0F01DC6ArnBB5F8221", "The blob bucket's ARN, as stacks deployed before the pictures bucket read it", blobs.BucketArn())
	publish(blobs, "PublishOutputRefBlobsF0F01DC6794A17A2", "The blob bucket's name, as stacks deployed before the pictures bucket read it", blobs.BucketName())
	// Pictures: their own bucket, present whatever PicturesEnabled says (a
	// stateful resource never comes and goes with a parameter), encrypted
	// with S3's key: the distribution that serves them may not use the data
	// key, which is for this deployment's own roles.
	pics, err := securebucket.New(stack, "Pictures", securebucket.Props{Versioned: true, AccessLogs: logs, AccessLogsPrefix: "pictures/", DeleteWithStack: !p.RetainData})
	if err != nil {
		return nil, err
	}
	// The distribution exists whatever PicturesEnabled says, so that a
	// switch never deletes what the Configuration stack's parameters (and
	// their rollback) refer to; off, the bucket policy lets it read nothing.
	serve, err := pictures.New(stack, "PictureDistribution", pictures.Props{Bucket: pics, Description: "The Things Stack " + p.StackPrefix, Closed: !p.PicturesEnabled})
	if err != nil {
		return nil, err
	}
	secrets, err := ttssecrets.New(stack, "Secrets", ttssecrets.Props{Key: key, NamePrefix: p.StackPrefix + "/tts/"})
	if err != nil {
		return nil, err
	}
	// Read by the Packet Broker Agent only, which runs only with
	// PacketBrokerEnabled: published whatever the parameters say.
	publish(secrets.ByID["pba-forwarder-token-key"], PbaTokenKeyOutput, "ARN of the Packet Broker Agent's forwarder token key secret",
		secrets.ByID["pba-forwarder-token-key"].SecretArn())
	uri := awssecretsmanager.NewSecret(stack, jsii.String("DatabaseURI"), &awssecretsmanager.SecretProps{
		SecretName:    jsii.String(p.StackPrefix + "/tts/database-uri"),
		Description:   jsii.String("The Things Stack: is.database-uri, composed from " + p.StackPrefix + "/database by the Configuration stack at deploy time"),
		EncryptionKey: key,
		RemovalPolicy: removal.Keep(),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(uri, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("The URI is derived from the database credentials, which are not rotated automatically (TTS reads is.database-uri once at start); " +
			"after a password change, a deploy with a new DatabasePasswordVersion composes it again and restarts the Identity Server."),
	}}, jsii.Bool(false))
	placeholder := func(id, name, description string) awssecretsmanager.Secret {
		s := awssecretsmanager.NewSecret(stack, jsii.String(id), &awssecretsmanager.SecretProps{
			SecretName:    jsii.String(p.StackPrefix + "/tts/" + name),
			Description:   jsii.String(description),
			EncryptionKey: key,
			RemovalPolicy: removal.Keep(),
			// A random placeholder: not JSON, so Certbot sees "no certificate
			// (account) yet" and issues (registers). No value is in a template.
			GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
				PasswordLength:     jsii.Number(32),
				ExcludePunctuation: jsii.Bool(true),
				IncludeSpace:       jsii.Bool(false),
			},
		})
		cdknag.NagSuppressions_AddResourceSuppressions(s, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-SMG4"),
			Reason: jsii.String("Rotated by the Certbot task itself (a new version per certificate or ACME account), not by a Secrets Manager rotation function."),
		}}, jsii.Bool(false))
		return s
	}
	cert := placeholder("ProxyCertificate", ProxyCertificateSecret,
		"The Things Stack: the proxy's Let's Encrypt certificate (JSON, certbot/certsecret), written by the Certbot task; a placeholder until the first issuance or while SupportProxyTLS is false")
	account := placeholder("AcmeAccount", AcmeAccountSecret,
		"The Things Stack: Certbot's ACME account (read by the Certbot task only); a placeholder until the first registration")
	smtp := awssecretsmanager.NewSecret(stack, jsii.String("SmtpCredentials"), &awssecretsmanager.SecretProps{
		SecretName:    jsii.String(p.StackPrefix + "/tts/" + SMTPCredentialsSecret),
		Description:   jsii.String("The Things Stack: Amazon SES SMTP credentials of the Identity Server (JSON: username, password, region), made by the Configuration stack from the e-mail IAM user's access key; a placeholder while EmailSender is empty"),
		EncryptionKey: key,
		RemovalPolicy: removal.Keep(),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(32),
			ExcludePunctuation: jsii.Bool(true),
			IncludeSpace:       jsii.Bool(false),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(smtp, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("Rotated by a deploy with a new EmailCredentialsVersion: Custom::SMTPCredentials makes a new access key, stores its SMTP password and deletes the old key; " +
			"a Secrets Manager rotation function would leave the Identity Server, which reads the password at start only, with a deleted key."),
	}}, jsii.Bool(false))
	publish(smtp, SMTPCredentialsArnOutput, "The ARN of the secret with the Identity Server's SMTP credentials (read whether or not EmailSender is set)", smtp.SecretArn())
	instances := *db.Cluster.InstanceIdentifiers()
	for i := 0; i <= params.MaxDatabaseReaders; i++ {
		value, what := jsii.String("none"), fmt.Sprintf("reader %d, which DatabaseReaders does not create", i)
		if i < len(instances) {
			value, what = instances[i], fmt.Sprintf("reader %d", i)
		}
		if i == 0 {
			what = "writer"
		}
		publish(stack, DatabaseInstanceOutput(i), "The identifier of the database's "+what+" (a dimension of its metrics)", value)
	}
	alarmKey := awskms.NewKey(stack, jsii.String("AlarmKey"), &awskms.KeyProps{
		Description:       jsii.String("The Things Stack " + p.StackPrefix + ": alarm topic (CloudWatch publishes with it)"),
		EnableKeyRotation: jsii.Bool(true),
		Alias:             jsii.String(AlarmKeyAlias(p.StackPrefix)),
		RemovalPolicy:     removal.Keep(),
	})
	alarmKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublishToTheTopic"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": p.Account}},
	}), nil)
	return &Data{Stack: stack, Key: key, Database: db, Cache: redis, BlobBucket: blobs, InteropBucket: interop, LogBucket: logs, Secrets: secrets, DatabaseURI: uri,
		PicturesBucket: pics, Pictures: serve,
		ProxyCertificate: cert, AcmeAccount: account, SMTPCredentials: smtp, AlarmKey: alarmKey, OpsSessions: newOpsSessions(stack, p)}, nil
}
