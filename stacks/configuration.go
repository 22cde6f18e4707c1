package stacks

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/gofunction"
	"github.com/lorawan-stack-aws/tts-ecs/constructs/interoprepo"
	"github.com/lorawan-stack-aws/tts-ecs/internal/interop"
	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ratelimit"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ttsconfig"
	"github.com/lorawan-stack-aws/tts-ecs/params"
)

// Fixed names of the configuration.
const (
	// ServiceDomain is the internal name space of the ECS services: component
	// c is reachable at c.<ServiceDomain> (Service Connect).
	ServiceDomain = "tts.local"
	// InteropPrefix is the interop repository's folder in the interop bucket
	// (ns.interop.blob.path and as.interop.blob.path).
	InteropPrefix = "interop-repository"
	// ConsoleClientID is the OAuth client id of the Console.
	ConsoleClientID = "console"
	// DatabaseURIVersionVariable is set in every container that reads
	// is.database-uri: the operator's DatabasePasswordVersion and the URI
	// secret's version id that Custom::DatabaseURI wrote. A new password
	// version changes the task definition (so the tasks restart and read the
	// new URI); the version id ties the definition to the URI it reads.
	DatabaseURIVersionVariable = "TTS_DB_URI_VERSION"
	// SMTPCredentialsVersionVariable is set in the Identity Server's
	// container when it sends e-mail: the operator's EmailCredentialsVersion
	// and the version id of the SMTP credentials that Custom::SMTPCredentials
	// wrote, so that new credentials restart the tasks.
	SMTPCredentialsVersionVariable = "TTS_SMTP_CREDENTIALS_VERSION"
	// SMTPCredentialsSecret is the last part of the name of the Data
	// stack's secret <prefix>/tts/<name> with the SMTP credentials, and
	// SMTPCredentialsArnOutput the Data stack's output of its ARN.
	SMTPCredentialsSecret    = "smtp-credentials"
	SMTPCredentialsArnOutput = "SmtpCredentialsSecretArn"
	// ParameterLanes is how many Parameter Store parameters CloudFormation
	// may create, update or delete at the same time.
	ParameterLanes = 3
)

// Configuration holds the TTS configuration of every component: one
// Parameter Store parameter per key, references to the secrets, the composed
// database URI, and the deployed interop repository.
type Configuration struct {
	awscdk.Stack
	Plan *ttsconfig.Plan
	// Parameters by TTS key.
	Parameters map[string]awsssm.StringParameter
	// Secrets by the plan's secret names.
	Secrets map[ttsconfig.Secret]awssecretsmanager.ISecret
	Interop *interoprepo.Repository
	// DatabaseURIVersion is DatabaseURIVersionVariable's value.
	DatabaseURIVersion *string
	prefix             string
	// imported are the parameters imported into consumer stacks, by stack
	// path and key.
	imported map[string]awsssm.IStringParameter
}

// ConfigurationProps are what the Configuration stack needs.
type ConfigurationProps struct {
	awscdk.StackProps
	Params *params.Params
	Data   *Data
	// Interop is the checked repository; nil deploys an empty one.
	Interop *interop.Repository
	// ModuleDir is the folder of go.mod, to build the deploy-time function.
	ModuleDir string
}

// NewConfiguration creates the Configuration stack.
func NewConfiguration(scope constructs.Construct, id string, props ConfigurationProps) (*Configuration, error) {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	p, data := props.Params, props.Data
	rateLimiting := ratelimit.Render(p.RateLimitingProfiles())
	inputs := ttsconfig.Inputs{
		DomainName:              p.DomainName,
		Region:                  p.Region,
		ServiceDomain:           ServiceDomain,
		NetID:                   p.NetID,
		TenantID:                p.TenantID,
		NSID:                    p.NSID,
		InteropEnabled:          p.InteropEnabledIS(),
		PacketBroker:            p.InteropPacketBrokerEnabled,
		PacketBrokerTokenIssuer: p.InteropPacketBrokerTokenIssuer,
		PublicTLSAddress:        p.InteropPublicTLSAddress,
		InteropPrefix:           InteropPrefix,
		ConsoleClientID:         ConsoleClientID,
		RateLimitingDigest:      ratelimit.Digest(rateLimiting),
		EmailSender:             p.EmailSender,
		EmailSenderName:         p.EmailSenderName,
		PBA:                     PacketBrokerAgent(p),
		Pictures:                p.PicturesEnabled,
	}
	plan, err := ttsconfig.New(inputs)
	if err != nil {
		return nil, err
	}
	// The agent's settings as they would be with PacketBrokerEnabled, for
	// the parameters kept across a switch of it.
	asOn := *p
	asOn.PacketBrokerEnabled = true
	parameters, err := keptParameters(plan, inputs, PacketBrokerAgent(&asOn))
	if err != nil {
		return nil, err
	}
	out := &Configuration{Stack: stack, Plan: plan, Parameters: map[string]awsssm.StringParameter{}, prefix: p.StackPrefix,
		imported: map[string]awsssm.IStringParameter{}}

	// The Data stack's resources are imported by ARN: a grant on an imported
	// resource goes into the grantee's own policy. A grant on the resource
	// itself would write this stack's roles into the Data stack's key policy
	// and make Data depend on a later stack.
	key := awskms.Key_FromKeyArn(stack, jsii.String("DataKey"), data.Key.KeyArn())
	importSecret := func(id string, s awssecretsmanager.ISecret) awssecretsmanager.ISecret {
		return awssecretsmanager.Secret_FromSecretAttributes(stack, jsii.String(id), &awssecretsmanager.SecretAttributes{
			SecretCompleteArn: s.SecretArn(),
			EncryptionKey:     key,
		})
	}
	// The name too, not only the ARN: CDK would otherwise take the name
	// apart from the ARN with Fn::Split over the Data stack's output, which
	// CloudFormation does not document for Fn::GetStackOutput (cfn-lint
	// E1017).
	interopBucket := awss3.Bucket_FromBucketAttributes(stack, jsii.String("InteropBucket"), &awss3.BucketAttributes{
		BucketArn:     data.InteropBucket.BucketArn(),
		BucketName:    data.InteropBucket.BucketName(),
		EncryptionKey: key,
	})
	dbSecret := importSecret("DatabaseSecret", data.Database.Secret)

	fn, err := gofunction.New(stack, "DeployResources", gofunction.Props{
		ModuleDir:    props.ModuleDir,
		Package:      "./internal/run/cmd/deploy-resources",
		Description:  "Deploys the interop repository with its secrets resolved, and composes the database URI",
		LogRetention: retention(p.LogRetentionDays),
	})
	if err != nil {
		return nil, err
	}

	// The database URI: composed from the generated credentials at deploy
	// time, so that the password is escaped and never in a template.
	uri := importSecret("DatabaseURI", data.DatabaseURI)
	fn.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadDatabaseCredentials"),
		Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
		Resources: &[]*string{dbSecret.SecretArn(), uri.SecretArn()},
	}))
	fn.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteDatabaseURI"),
		Actions:   jsii.Strings("secretsmanager:PutSecretValue"),
		Resources: &[]*string{uri.SecretArn()},
	}))
	uriResource := awscdk.NewCustomResource(stack, jsii.String("DatabaseURIValue"), &awscdk.CustomResourceProps{
		ServiceToken: fn.Function.FunctionArn(),
		ResourceType: jsii.String(deployres.DatabaseURIType),
		Properties: deployres.DatabaseURIProps{
			SourceSecretArn: *dbSecret.SecretArn(),
			TargetSecretArn: *uri.SecretArn(),
			// The database the Data stack's cluster creates, from the
			// construct that creates it.
			Database: data.Database.Name,
			// rds.force_ssl is on; the image has no RDS CA bundle to verify.
			SSLMode: "require",
			// A new value is the operator's signal that the password
			// changed: CloudFormation sends an Update, which composes the
			// URI again (README, Rotating the database password).
			PasswordVersion: p.DatabasePasswordVersion,
		}.Properties(),
	})
	uriResource.Node().AddDependency(fn.Role)
	out.DatabaseURIVersion = awscdk.Fn_Join(jsii.String(":"), &[]*string{
		jsii.String(p.DatabasePasswordVersion), uriResource.GetAttString(jsii.String(deployres.DatabaseURIVersionAttr)),
	})

	out.Secrets = map[ttsconfig.Secret]awssecretsmanager.ISecret{ttsconfig.SecretDatabaseURI: uri}
	if p.PacketBrokerEnabled {
		// The operator's secret, by complete ARN or by name (a partial
		// ARN: Secrets Manager appends 6 random characters to the name in
		// the ARN): ECS reads its two JSON fields when a task starts
		// (never the template).
		var apiKey awssecretsmanager.ISecret
		if strings.HasPrefix(p.PacketBrokerApiKeySecret, "arn:") {
			apiKey = awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("PacketBrokerApiKey"), jsii.String(p.PacketBrokerApiKeySecret))
		} else {
			apiKey = awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("PacketBrokerApiKey"), jsii.String(p.PacketBrokerApiKeySecret))
		}
		out.Secrets[ttsconfig.SecretPBAAPIKey] = apiKey
	}
	tokenKeyArn, err := readPublished(stack, data.Secrets.ByID["pba-forwarder-token-key"], PbaTokenKeyOutput)
	if err != nil {
		return nil, err
	}
	out.Secrets[ttsconfig.SecretPBATokenKey] = awssecretsmanager.Secret_FromSecretAttributes(stack, jsii.String("Secret-"+string(ttsconfig.SecretPBATokenKey)), &awssecretsmanager.SecretAttributes{
		SecretCompleteArn: tokenKeyArn,
		EncryptionKey:     key,
	})
	for name, s := range map[ttsconfig.Secret]awssecretsmanager.ISecret{
		ttsconfig.SecretClusterKeys:     data.Secrets.ByID["cluster-keys"],
		ttsconfig.SecretCookieHashKey:   data.Secrets.ByID["http-cookie-hash-key"],
		ttsconfig.SecretCookieBlockKey:  data.Secrets.ByID["http-cookie-block-key"],
		ttsconfig.SecretConsoleOAuth:    data.Secrets.ByID["console-oauth-client-secret"],
		ttsconfig.SecretMetricsPassword: data.Secrets.ByID["http-metrics-password"],
		ttsconfig.SecretRedisPassword:   data.Cache.AuthToken,
	} {
		if s == nil {
			return nil, fmt.Errorf("configuration: secret %s does not exist in the Data stack", name)
		}
		out.Secrets[name] = importSecret("Secret-"+string(name), s)
	}

	// The SMTP credentials by the ARN the Data stack publishes in every
	// mode: a reference would publish it only while e-mail is on, and a
	// switch off would remove the output ahead of the Identity Server's
	// stack, whose deployed template (and its rollback) still reads it.
	smtpArn, err := readPublished(stack, data.SMTPCredentials, SMTPCredentialsArnOutput)
	if err != nil {
		return nil, err
	}
	out.Secrets[ttsconfig.SecretSMTPCredentials] = awssecretsmanager.Secret_FromSecretAttributes(stack, jsii.String("Secret-"+string(ttsconfig.SecretSMTPCredentials)), &awssecretsmanager.SecretAttributes{
		SecretCompleteArn: smtpArn,
		EncryptionKey:     key,
	})

	refs := map[ttsconfig.Ref]*string{
		ttsconfig.RefRedisAddress: awscdk.Fn_Join(jsii.String(":"), &[]*string{
			data.Cache.Group.AttrPrimaryEndPointAddress(), data.Cache.Group.AttrPrimaryEndPointPort(),
		}),
		ttsconfig.RefPicturesBucket: data.PicturesBucket.BucketName(),
		ttsconfig.RefInteropBucket:  data.InteropBucket.BucketName(),
	}
	refs[ttsconfig.RefPicturesURL] = data.Pictures.URL
	// Parameter Store takes only a few PutParameter calls per second
	// (README, Configuration); CloudFormation would create all parameters at
	// once. They are chained in ParameterLanes lanes with DependsOn, so that
	// at most that many are created, updated or deleted at a time. A key's
	// lane follows from the key alone, so that a new key changes the
	// ordering of its neighbours only.
	laneTail := make([]awsssm.StringParameter, ParameterLanes)
	for _, s := range parameters {
		value := jsii.String(s.Value)
		if s.Ref != "" {
			if value = refs[s.Ref]; value == nil {
				return nil, fmt.Errorf("configuration: no deploy-time value for %s (%s)", s.Key, s.Ref)
			}
		}
		out.Parameters[s.Key] = awsssm.NewStringParameter(stack, jsii.String("Setting-"+s.Key), &awsssm.StringParameterProps{
			ParameterName: jsii.String(ParameterName(p.StackPrefix, s.Key)),
			Description:   jsii.String("The Things Stack " + s.Key + " (" + s.Env() + ")"),
			StringValue:   value,
			Tier:          awsssm.ParameterTier_STANDARD,
		})
		lane := parameterLane(s.Key)
		if prev := laneTail[lane]; prev != nil {
			out.Parameters[s.Key].Node().AddDependency(prev)
		}
		laneTail[lane] = out.Parameters[s.Key]
	}

	files, refsList := interop.EmptyFiles(), []interop.SecretRef(nil)
	if props.Interop != nil {
		files, refsList = props.Interop.Files(), props.Interop.SecretRefs
	}
	// Every component's rate-limiting.yml travels with the repository into
	// its folder (rate-limiting.blob.path): one deployment, one grant.
	for _, f := range files {
		if f.Path == ratelimit.FileName {
			return nil, fmt.Errorf("configuration: the interop repository has a file %s, which is where the rate limiting profiles are deployed; rename it (and the reference in config.yml)", ratelimit.FileName)
		}
	}
	files = append(files, interop.File{Path: ratelimit.FileName, Data: rateLimiting})
	repo, err := interoprepo.New(stack, "InteropRepository", interoprepo.Props{
		Bucket:     interopBucket,
		Key:        key,
		Prefix:     InteropPrefix,
		Files:      files,
		SecretRefs: refsList,
		Function:   fn,
		Partition:  *stack.Partition(),
		Region:     p.Region,
		Account:    p.Account,
	})
	if err != nil {
		return nil, err
	}
	out.Interop = repo
	return out, nil
}

// ParameterName is the Parameter Store name of a setting. The stacks that
// read a setting import its parameter by this name, not by a reference to
// the Configuration stack: a reference would make the Configuration stack
// publish an output only while some component reads the setting, and remove
// it, ahead of the reader's own update, when a parameter change stops that.
func ParameterName(prefix, key string) string { return fmt.Sprintf("/%s/tts/%s", prefix, key) }

// keptParameters returns the parameters of the plan and those of the plans
// of the other interop, Packet Broker, Packet Broker Agent and pictures
// states (with their values there): a switch of InteropEnabled,
// InteropPacketBrokerEnabled, PacketBrokerEnabled or PicturesEnabled then
// never deletes a parameter that a task definition of a later stack still
// names, before that stack has been updated (or when it rolls back). A kept
// parameter is read by no component.
func keptParameters(plan *ttsconfig.Plan, in ttsconfig.Inputs, pba *ttsconfig.PacketBrokerAgent) ([]ttsconfig.Setting, error) {
	out := plan.Parameters()
	seen := map[string]bool{}
	for _, s := range out {
		seen[s.Key] = true
	}
	// E-mail's parameters are kept the same way; with EmailSender empty
	// they keep a sender in DomainName, which no task reads once the
	// Identity Server's stack has been updated.
	email := in.EmailSender
	if email == "" {
		email = "noreply@" + in.DomainName
	}
	for _, v := range []struct {
		interop, pb bool
		email       string
	}{{true, true, in.EmailSender}, {true, false, in.EmailSender}, {false, false, in.EmailSender}, {in.InteropEnabled, in.PacketBroker, email}} {
		for _, pbaOn := range []bool{true, false} {
			for _, pictures := range []bool{true, false} {
				vin := in
				vin.InteropEnabled, vin.PacketBroker, vin.EmailSender, vin.Pictures, vin.PBA = v.interop, v.pb, v.email, pictures, nil
				if pbaOn {
					vin.PBA = pba
				}
				if v.pb && vin.PublicTLSAddress == "" {
					// Packet Broker needs the public address; without one that state
					// is not reachable by a parameter switch alone.
					continue
				}
				vp, err := ttsconfig.New(vin)
				if err != nil {
					return nil, fmt.Errorf("configuration: the settings of interop %v, Packet Broker %v, agent %v, pictures %v: %w", v.interop, v.pb, pbaOn, pictures, err)
				}
				for _, s := range vp.Parameters() {
					if !seen[s.Key] {
						seen[s.Key] = true
						out = append(out, s)
					}
				}
			}
		}
	}
	return out, nil
}

// PacketBrokerAgent returns the configuration of the Packet Broker Agent, or
// nil when PacketBrokerEnabled is false.
func PacketBrokerAgent(p *params.Params) *ttsconfig.PacketBrokerAgent {
	if !p.PacketBrokerEnabled {
		return nil
	}
	out := &ttsconfig.PacketBrokerAgent{
		DataPlaneAddress:      p.PacketBrokerDataPlaneAddress,
		ClusterID:             p.PacketBrokerClusterID,
		HomeNetwork:           p.PacketBrokerHomeNetwork,
		Forwarder:             p.PacketBrokerForwarder,
		Name:                  p.PacketBrokerName,
		AdministrativeContact: p.PacketBrokerAdministrativeContact,
		TechnicalContact:      p.PacketBrokerTechnicalContact,
		Listed:                p.PacketBrokerListed,
	}
	if out.HomeNetwork {
		// Validated with the parameters.
		out.DevAddrPrefixes, _ = p.PacketBrokerPrefixes()
	}
	return out
}

// Container is the configuration of one component as an ECS container gets
// it: constants as plain environment, everything else from Parameter Store
// and Secrets Manager, resolved by ECS when the task starts.
type Container struct {
	Environment map[string]*string
	Secrets     map[string]awsecs.Secret
	// Digest changes when the component's configuration changes; put it in
	// the task definition so that tasks restart with the new configuration.
	Digest string
}

// Container returns the configuration of components started together in one
// container (`ttn-lw-stack start c1 c2 ...`), for a task definition in
// scope's stack, which imports the parameters by name (ParameterName). The
// ECS execution role that gets these secrets can read exactly these
// parameters and secrets.
func (c *Configuration) Container(scope constructs.Construct, components ...ports.Component) (*Container, error) {
	stack := awscdk.Stack_Of(scope)
	out := &Container{Environment: map[string]*string{}, Secrets: map[string]awsecs.Secret{}}
	seen := map[string]ttsconfig.Setting{}
	digest := ""
	for _, comp := range components {
		settings := c.Plan.Settings(comp)
		if len(settings) == 0 {
			return nil, fmt.Errorf("configuration: component %q has no settings", comp)
		}
		digest += c.Plan.Digest(comp)
		for _, s := range settings {
			if prev, ok := seen[s.Key]; ok {
				if prev != s {
					return nil, fmt.Errorf("configuration: components %v disagree on %s; run them in separate containers", components, s.Key)
				}
				continue
			}
			seen[s.Key] = s
			switch s.Kind() {
			case "secret":
				if c.Secrets[s.Secret] == nil {
					return nil, fmt.Errorf("configuration: no secret for %s (%s)", s.Key, s.Secret)
				}
				var field *string
				if s.SecretKey != "" {
					field = jsii.String(s.SecretKey)
				}
				out.Secrets[s.Env()] = awsecs.Secret_FromSecretsManager(c.Secrets[s.Secret], field)
				if s.Secret == ttsconfig.SecretDatabaseURI {
					out.Environment[DatabaseURIVersionVariable] = c.DatabaseURIVersion
				}
			case "parameter":
				if c.Parameters[s.Key] == nil {
					return nil, fmt.Errorf("configuration: no parameter for %s", s.Key)
				}
				out.Secrets[s.Env()] = awsecs.Secret_FromSsmParameter(c.importParameter(stack, s.Key))
			default:
				out.Environment[s.Env()] = jsii.String(s.Value)
			}
		}
	}
	out.Digest = digest
	return out, nil
}

// importParameter imports the parameter of a setting into stack, once per
// stack.
func (c *Configuration) importParameter(stack awscdk.Stack, key string) awsssm.IStringParameter {
	cacheKey := *stack.Node().Path() + "/" + key
	if found, ok := c.imported[cacheKey]; ok {
		return found
	}
	// A dynamic reference for the value, which no task reads (ECS resolves
	// the parameter by ARN), instead of a template parameter per setting.
	imported := awsssm.StringParameter_FromStringParameterAttributes(stack, jsii.String("Setting-"+key), &awsssm.StringParameterAttributes{
		ParameterName:         jsii.String(ParameterName(c.prefix, key)),
		ForceDynamicReference: jsii.Bool(true),
	})
	c.imported[cacheKey] = imported
	return imported
}

// parameterLane returns the lane of a parameter's key (FNV-1a).
func parameterLane(key string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % ParameterLanes)
}
