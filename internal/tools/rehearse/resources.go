package rehearse

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakecw"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakesm"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/rehearse/smoke"
)

// secretsManager serves internal/tools/fakesm and points a real SDK client at it.
func (r *run) secretsManager() {
	r.smServer = httptest.NewServer(fakesm.New(fakesm.WithRegion(r.a.Region), fakesm.WithAccount(r.a.Account)))
	r.sm = secretsmanager.New(secretsmanager.Options{
		Region:       r.a.Region,
		BaseEndpoint: aws.String(r.smServer.URL),
		Credentials:  aws.AnonymousCredentials{},
	})
	r.sub("Secrets Manager → in-memory stand-in (internal/tools/fakesm) at %s, reached with the AWS SDK", r.smServer.URL)
	r.cwServer = httptest.NewServer(fakecw.New())
	r.sub("CloudWatch PutMetricData → in-memory stand-in (internal/tools/fakecw) at %s", r.cwServer.URL)
}

// awsEnv points the AWS SDK of a program of ours (an image the deployment
// builds) at the stand-ins, with static credentials instead of the task role.
func (r *run) awsEnv(env map[string]string) {
	env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = r.smServer.URL
	env["AWS_ENDPOINT_URL_CLOUDWATCH"] = r.cwServer.URL
	env["AWS_ACCESS_KEY_ID"] = "rehearsal"
	env["AWS_SECRET_ACCESS_KEY"] = "rehearsal"
	env["AWS_EC2_METADATA_DISABLED"] = "true"
	r.sub("task role credentials of the images we build → static stand-in credentials; their AWS endpoints → the stand-ins")
}

func (r *run) getSecret(ctx context.Context, id string) (string, error) {
	out, err := r.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("secret %s: %v", id, err)
	}
	return aws.ToString(out.SecretString), nil
}

func (r *run) putSecret(ctx context.Context, id, value string) error {
	r.addSecret(value)
	_, err := r.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(id), SecretString: aws.String(value)})
	return err
}

func (r *run) createSecret(ctx context.Context, name, value string) (string, error) {
	r.addSecret(value)
	out, err := r.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		return "", fmt.Errorf("secret %s: %v", name, err)
	}
	return aws.ToString(out.ARN), nil
}

// secretValue returns the secret, or one key of its JSON object.
func (r *run) secretValue(ctx context.Context, id, jsonKey string) (string, error) {
	v, err := r.getSecret(ctx, id)
	if err != nil || jsonKey == "" {
		return v, err
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return "", fmt.Errorf("secret %s is not a JSON object, but a json-key %q is asked for", id, jsonKey)
	}
	x, ok := m[jsonKey]
	if !ok {
		return "", fmt.Errorf("secret %s has no key %q", id, jsonKey)
	}
	s, err := scalar(x)
	if err != nil {
		b, _ := json.Marshal(x)
		s = string(b)
	}
	return s, nil
}

// addSecret remembers a value that no log may show. JSON secrets also
// contribute their string members (a password inside).
func (r *run) addSecret(v string) {
	if len(v) < 8 {
		return
	}
	r.mu.Lock()
	r.secrets = append(r.secrets, v)
	r.mu.Unlock()
	var m map[string]any
	if json.Unmarshal([]byte(v), &m) == nil {
		for k, x := range m {
			if s, ok := x.(string); ok && (strings.Contains(strings.ToLower(k), "password") || strings.Contains(strings.ToLower(k), "key") || strings.Contains(strings.ToLower(k), "secret")) {
				r.addSecret(s)
			}
		}
	}
}

// resources creates what CloudFormation would create before any task runs:
// every secret (generated locally by the template's rules), the values of
// AWS-only resources (buckets, endpoints) and every SSM parameter.
func (r *run) resources(ctx context.Context) error {
	gen := 0
	for _, sn := range r.a.Order {
		st := r.a.Stacks[sn]
		for _, id := range st.ResourcesOfType("AWS::S3::Bucket") {
			name := strings.ToLower(sn + "-" + id)
			if n, ok := st.Resources[id].Properties["BucketName"]; ok {
				if s, err := r.ev.String(sn, n); err == nil {
					name = s
				}
			}
			r.v.SetRef(sn, id, name)
			r.v.SetAttr(sn, id, "Arn", "arn:aws:s3:::"+name)
			r.v.SetAttr(sn, id, "RegionalDomainName", name+".s3."+r.a.Region+".amazonaws.com")
			r.buckets = append(r.buckets, name)
		}
		for _, id := range st.ResourcesOfType("AWS::IAM::User") {
			name := sn + "-" + id
			if n, ok := st.Resources[id].Properties["UserName"]; ok {
				if s, err := r.ev.String(sn, n); err == nil {
					name = s
				}
			}
			r.v.SetRef(sn, id, name)
			r.v.SetAttr(sn, id, "Arn", "arn:aws:iam::"+r.a.Account+":user/"+name)
			r.sub("IAM user %s/%s → %s in the IAM stand-in", sn, id, name)
		}
		for _, id := range st.ResourcesOfType("AWS::ElastiCache::ReplicationGroup") {
			port := intProp(st.Resources[id].Properties["Port"], 6379)
			for _, ep := range []string{"PrimaryEndPoint", "ReaderEndPoint", "ConfigurationEndPoint"} {
				r.v.SetAttr(sn, id, ep+".Address", "127.0.0.1")
				r.v.SetAttr(sn, id, ep+".Port", fmt.Sprint(port))
			}
		}
		for _, id := range st.ResourcesOfType("AWS::RDS::DBCluster") {
			r.v.SetRef(sn, id, st.Resources[id].Properties["DBClusterIdentifier"])
			port := intProp(st.Resources[id].Properties["Port"], 5432)
			for _, ep := range []string{"Endpoint", "ReadEndpoint"} {
				r.v.SetAttr(sn, id, ep+".Address", "127.0.0.1")
				r.v.SetAttr(sn, id, ep+".Port", fmt.Sprint(port))
			}
		}
	}
	if err := r.distributions(); err != nil {
		return err
	}
	names := make([]string, 0, len(r.outside))
	for name := range r.outside {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := r.createSecret(ctx, name, r.outside[name]); err != nil {
			return err
		}
		r.sub("secret %s, which the operator creates outside the stacks → created in the stand-in with the rehearsal's value", name)
	}
	if len(r.buckets) > 0 {
		r.sub("S3 buckets %s → folders of %s (the local blob provider's layout: one folder per bucket)", strings.Join(r.buckets, ", "), r.blobDir)
	}
	for _, sn := range r.a.Order {
		st := r.a.Stacks[sn]
		for _, id := range st.ResourcesOfType("AWS::SecretsManager::Secret") {
			p := st.Resources[id].Properties
			name := sn + "/" + id
			if n, ok := p["Name"]; ok {
				s, err := r.ev.String(sn, n)
				if err != nil {
					return fmt.Errorf("%s/%s Name: %w", sn, id, err)
				}
				name = s
			}
			var value string
			switch {
			case p["SecretString"] != nil:
				s, err := r.ev.String(sn, p["SecretString"])
				if err != nil {
					return fmt.Errorf("%s/%s SecretString: %w", sn, id, err)
				}
				value = s
			default:
				g, _ := p["GenerateSecretString"].(map[string]any)
				s, err := GenerateSecretString(g)
				if err != nil {
					return fmt.Errorf("%s/%s: %w", sn, id, err)
				}
				value = s
				gen++
			}
			arn, err := r.createSecret(ctx, name, value)
			if err != nil {
				return err
			}
			r.v.SetRef(sn, id, arn)
		}
		for _, id := range st.ResourcesOfType("AWS::SecretsManager::SecretTargetAttachment") {
			s, err := r.ev.String(sn, st.Resources[id].Properties["SecretId"])
			if err != nil {
				return err
			}
			r.v.SetRef(sn, id, s)
		}
	}
	r.sub("%d generated secrets → generated locally by their GenerateSecretString rules (length, excluded characters, template and key)", gen)
	for _, sn := range r.a.Order {
		st := r.a.Stacks[sn]
		for _, id := range st.ResourcesOfType("AWS::SSM::Parameter") {
			p := st.Resources[id].Properties
			name, err := r.ev.String(sn, p["Name"])
			if err != nil {
				return fmt.Errorf("%s/%s Name: %w", sn, id, err)
			}
			value, err := r.ev.String(sn, p["Value"])
			if err != nil {
				return fmt.Errorf("%s/%s (%s) Value: %w", sn, id, name, err)
			}
			if name == "" {
				name = "/" + sn + "/" + id
			}
			r.v.SetRef(sn, id, name)
			r.v.SetAttr(sn, id, "Value", value)
			r.ssm[name] = value
		}
	}
	return nil
}

// evalProps evaluates a resource's properties.
func (r *run) evalProps(stack string, props map[string]any) (map[string]any, error) {
	v, err := r.ev.Eval(stack, props)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// smtpResource is a Custom::SMTPCredentials as the handler made it.
type smtpResource struct {
	props      map[string]any
	physicalID string
}

// smtpStandIn starts the stand-in of Amazon SES's SMTP endpoint when the
// deployment made SMTP credentials: it accepts exactly the credentials of
// the secret, which must be an access key that the (stand-in) IAM user
// holds, and the rehearsal CA signs its certificate.
func (r *run) smtpStandIn(ctx context.Context) {
	if len(r.smtpResources) == 0 {
		return
	}
	const check = "stand-in: Amazon SES SMTP endpoint"
	if len(r.smtpResources) > 1 {
		r.result(check, false, "%d Custom::SMTPCredentials resources; the Identity Server reads one secret", len(r.smtpResources))
		return
	}
	res := r.smtpResources[0]
	p, err := deployres.ParseSMTPCredentialsProps(res.props)
	if err != nil {
		r.result(check, false, "%v", err)
		return
	}
	raw, err := r.getSecret(ctx, p.SecretArn)
	if err != nil {
		r.result(check, false, "%v", err)
		return
	}
	r.addSecret(raw)
	var c deployres.SMTPCredentials
	if err := json.Unmarshal([]byte(raw), &c); err != nil || c.Username == "" || c.Password == "" {
		r.result(check, false, "the secret %s holds no SMTP credentials (username, password)", p.SecretArn)
		return
	}
	r.addSecret(c.Password)
	if keys := r.iam.Keys(p.UserName); len(keys) != 1 || keys[0] != c.Username || res.physicalID != c.Username {
		r.result(check, false, "the secret's user name is not the one access key of IAM user %s (keys %d, physical id matches: %v)", p.UserName, len(keys), res.physicalID == c.Username)
		return
	}
	addr := fmt.Sprintf("127.0.0.%d", r.nextAddr)
	r.nextAddr++
	cert, err := r.ca.Server(addr)
	if err == nil {
		r.smtp, err = smoke.NewSMTPServer(addr+":587", cert.TLS, c.Username, c.Password)
	}
	if err != nil {
		r.result(check, false, "%v", err)
		return
	}
	r.sub("Amazon SES SMTP (region %s) → stand-in at %s: STARTTLS, AUTH PLAIN/LOGIN with the credentials of %s only", p.Region, r.smtp.Addr(), p.SecretArn)
}
