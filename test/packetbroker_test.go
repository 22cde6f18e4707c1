package test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// pbaOn turns the Packet Broker Agent on with the secret the operator made.
var pbaOn = map[string]string{"PacketBrokerEnabled": "true", "PacketBrokerApiKeySecret": "tts-example/packet-broker-api-key"}

// stackOutputValue follows a Fn::GetStackOutput of a consumer to the value
// the producing stack publishes.
func stackOutputValue(t *testing.T, a *Assembly, v any) any {
	t.Helper()
	stack, _ := get(v, "Fn::GetStackOutput", "StackName").(string)
	name, _ := get(v, "Fn::GetStackOutput", "OutputName").(string)
	if stack == "" || name == "" {
		t.Fatalf("%s is not a Fn::GetStackOutput", jsonText(v))
	}
	out, ok := a.Stack(t, strings.TrimPrefix(stack, "tts-")).Outputs[name]
	if !ok {
		t.Fatalf("%s publishes no output %s", stack, name)
	}
	return get(out, "Value")
}

func TestPacketBrokerAgentIsOffByDefault(t *testing.T) {
	a := synthOnce(t, nil)
	tpl := a.Stack(t, "Services")
	if _, ok := servicesByComponent(t, tpl)["pba"]; ok {
		t.Errorf("a pba service runs by default")
	}
	_, _, _, nginx := proxyService(t, tpl)
	conf, _ := namedValues(nginx["Environment"], "Value")["NGINX_CONF"].(string)
	if strings.Contains(conf, "tts_pba_") || !strings.Contains(conf, "Packet Broker Agent (pba) is not deployed here") {
		t.Errorf("the proxy routes to an agent that does not run")
	}
	if strings.Contains(tpl.Raw, "PACKET_BROKER_AGENT") || strings.Contains(tpl.Raw, "TTN_LW_GS_FORWARD") {
		t.Errorf("a component is told of an agent that does not run")
	}
}

func TestPacketBrokerAgentService(t *testing.T) {
	a := synthOnce(t, pbaOn)
	tpl := a.Stack(t, "Services")
	svcs := servicesByComponent(t, tpl)
	s, ok := svcs["pba"]
	if !ok {
		t.Fatalf("no service starts pba; services: %v", sortedKeys(svcs))
	}
	p := s.service.Properties
	if n, _ := get(p, "DesiredCount").(float64); n != 2 {
		t.Errorf("DesiredCount %v, want 2", get(p, "DesiredCount"))
	}
	if sg := jsonText(get(p, "NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups")); !strings.Contains(sg, "Tasksinternal") {
		t.Errorf("security groups %s, want the internal tasks'", sg)
	}
	if lbs := asList(get(p, "LoadBalancers")); len(lbs) != 0 {
		t.Errorf("the agent registers with %s; nothing outside reaches it but through the proxy", jsonText(lbs))
	}
	var aliases []string
	for _, sc := range asList(get(p, "ServiceConnectConfiguration", "Services")) {
		for _, al := range asList(get(sc, "ClientAliases")) {
			aliases = append(aliases, fmt.Sprintf("%v:%v", get(al, "DnsName"), get(al, "Port")))
		}
	}
	sort.Strings(aliases)
	if strings.Join(aliases, " ") != "pba.tts.local:1884 pba.tts.local:1885" {
		t.Errorf("Service Connect aliases %v", aliases)
	}

	// The API key: two fields of the operator's secret, by name; the
	// forwarder's token key: the secret the Data stack generates.
	secrets := namedValues(s.main["Secrets"], "ValueFrom")
	const keyARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tts-example/packet-broker-api-key"
	if got := jsonText(secrets["TTN_LW_PBA_OAUTH2_CLIENT_ID"]); got != `"`+keyARN+`:id::"` {
		t.Errorf("client id from %s, want field id of the API key secret", got)
	}
	if got := jsonText(secrets["TTN_LW_PBA_OAUTH2_CLIENT_SECRET"]); got != `"`+keyARN+`:secret::"` {
		t.Errorf("client secret from %s, want field secret of the API key secret", got)
	}
	tokenRef := refTo(stackOutputValue(t, a, secrets["TTN_LW_PBA_FORWARDER_TOKEN_KEY"]))
	data := a.Stack(t, "Data")
	tokenSecret, ok := data.Resources[tokenRef]
	if !ok || tokenSecret.Type != "AWS::SecretsManager::Secret" {
		t.Fatalf("the token key comes from %q, not a secret of the Data stack", tokenRef)
	}
	gen := jsonText(get(tokenSecret.Properties, "GenerateSecretString"))
	if get(tokenSecret.Properties, "Name") != "tts/tts/pba-forwarder-token-key" || !hasAll(gen, `"PasswordLength":64`, `"ExcludeCharacters":"ghijklmnopqrstuvwxyz"`, `"ExcludeUppercase":true`) {
		t.Errorf("token key secret %v %s: want 64 hex digits (AES-256)", get(tokenSecret.Properties, "Name"), gen)
	}
	env := namedValues(s.main["Environment"], "Value")
	for k := range env {
		if strings.Contains(k, "OAUTH2") || strings.Contains(k, "TOKEN_KEY") {
			t.Errorf("%s is plain environment; it must come from Secrets Manager", k)
		}
	}
	for _, k := range []string{"TTN_LW_PBA_NET_ID", "TTN_LW_PBA_DATA_PLANE_ADDRESS", "TTN_LW_PBA_HOME_NETWORK_DEV_ADDR_PREFIXES", "TTN_LW_CLUSTER_KEYS"} {
		if _, ok := secrets[k]; !ok {
			t.Errorf("the agent lacks %s", k)
		}
	}

	// The execution role reads the operator's secret (any of its versions'
	// 6-character suffix) and nothing else of it.
	var reads []string
	for _, pol := range tpl.OfType("AWS::IAM::Policy") {
		for _, st := range asList(get(pol.Properties, "PolicyDocument", "Statement")) {
			if strings.Contains(jsonText(get(st, "Resource")), "packet-broker-api-key") {
				reads = append(reads, jsonText(get(pol.Properties, "Roles"))+" "+jsonText(get(st, "Action"))+" "+jsonText(get(st, "Resource")))
			}
		}
	}
	if len(reads) != 1 || !strings.Contains(reads[0], "ServicepbaExecutionRole") || !strings.Contains(reads[0], `"`+keyARN+`-??????"`) || !strings.Contains(reads[0], "secretsmanager:GetSecretValue") {
		t.Errorf("grants on the API key secret: %v; want the agent's execution role only", reads)
	}

	// Every component knows the agent; the Gateway Server forwards to it.
	for comp, st := range svcs {
		if _, ok := namedValues(st.main["Secrets"], "ValueFrom")["TTN_LW_CLUSTER_PACKET_BROKER_AGENT"]; !ok {
			t.Errorf("%s does not know the agent's address", comp)
		}
	}
	if _, ok := namedValues(svcs["gs"].main["Secrets"], "ValueFrom")["TTN_LW_GS_FORWARD"]; !ok {
		t.Errorf("the Gateway Server does not forward to Packet Broker")
	}
	cfg := a.Stack(t, "Configuration")
	found := map[string]string{}
	for _, prm := range cfg.OfType("AWS::SSM::Parameter") {
		name, _ := get(prm.Properties, "Name").(string)
		v, _ := get(prm.Properties, "Value").(string)
		found[name] = v
	}
	for name, want := range map[string]string{
		"/tts/tts/cluster.packet-broker-agent":        "pba.tts.local:1884",
		"/tts/tts/gs.forward":                         "=00000000/0 packetbroker=00000000/0",
		"/tts/tts/pba.home-network.dev-addr-prefixes": "26000000/7", // NetID 000013 of the example
		"/tts/tts/pba.data-plane-address":             "eu.packetbroker.net:443",
	} {
		if found[name] != want {
			t.Errorf("%s = %q, want %q", name, found[name], want)
		}
	}

	// The proxy routes the agent's APIs to it.
	_, _, _, nginx := proxyService(t, tpl)
	conf, _ := namedValues(nginx["Environment"], "Value")["NGINX_CONF"].(string)
	flat := strings.Join(strings.Fields(conf), " ")
	for _, want := range []string{"location /api/v3/pba/ { proxy_pass http://tts_pba_http; }", "upstream tts_pba_http { server pba.tts.local:1885;", "/ttn.lorawan.v3.Pba/"} {
		if !strings.Contains(flat, want) {
			t.Errorf("nginx.conf lacks %q", want)
		}
	}
}

// The pictures: a distribution of the Data stack is the only reader of the
// picture objects of the pictures bucket, and the Identity Server links
// them at its address.
func TestPicturesAreServedByTheDistributionOnly(t *testing.T) {
	a := synthOnce(t, nil)
	data := a.Stack(t, "Data")
	distID, dist := only(t, data, "AWS::CloudFront::Distribution")
	if v := get(dist.Properties, "DistributionConfig", "DefaultCacheBehavior", "ViewerProtocolPolicy"); v != "redirect-to-https" {
		t.Errorf("viewer protocol policy %v", v)
	}
	origin := jsonText(get(dist.Properties, "DistributionConfig", "Origins"))
	if !strings.Contains(origin, `"Fn::GetAtt":["Pictures`) || !strings.Contains(origin, "OriginAccessControlId") {
		t.Errorf("origin %s: want the pictures bucket through origin access control", origin)
	}
	var allows []string
	for id, pol := range data.OfType("AWS::S3::BucketPolicy") {
		bucket := refTo(get(pol.Properties, "Bucket"))
		for _, st := range asList(get(pol.Properties, "PolicyDocument", "Statement")) {
			if get(st, "Effect") == "Allow" && strings.Contains(jsonText(get(st, "Principal")), "cloudfront") {
				allows = append(allows, id+" "+bucket+" "+jsonText(st))
			}
		}
	}
	if len(allows) != 1 || !strings.HasPrefix(strings.Fields(allows[0])[1], "Pictures") ||
		!strings.Contains(allows[0], `"/*.??????????????????????????/*"`) ||
		!strings.Contains(allows[0], `"AWS:SourceArn":{"Fn::Join":["",["arn:aws:cloudfront::123456789012:distribution/",{"Fn::GetAtt":["`+distID+`","Id"]}]]}`) ||
		!strings.Contains(allows[0], `"Action":"s3:GetObject"`) {
		t.Errorf("CloudFront may read %v; want exactly the distribution, GetObject of the picture keys of the pictures bucket", allows)
	}
	if bpa := jsonText(get(data.Resources[strings.Fields(allows[0])[1]].Properties, "PublicAccessBlockConfiguration")); !hasAll(bpa, `"BlockPublicPolicy":true`, `"RestrictPublicBuckets":true`) {
		t.Errorf("the pictures bucket is not private: %s", bpa)
	}
	// The Identity Server's bucket URL is the distribution's domain.
	cfg := a.Stack(t, "Configuration")
	for _, kind := range []string{"profile-picture", "end-device-picture"} {
		for _, prm := range cfg.OfType("AWS::SSM::Parameter") {
			if get(prm.Properties, "Name") != "/tts/tts/is."+kind+".bucket-url" {
				continue
			}
			parts, _ := get(prm.Properties, "Value", "Fn::Join").([]any)
			if len(parts) != 2 || jsonText(asList(parts[1])[0]) != `"https://"` {
				t.Fatalf("%s bucket-url %s", kind, jsonText(get(prm.Properties, "Value")))
			}
			if v := jsonText(stackOutputValue(t, a, asList(parts[1])[1])); v != `{"Fn::GetAtt":["`+distID+`","DomainName"]}` {
				t.Errorf("%s bucket-url is https:// + %s, want the distribution's domain", kind, v)
			}
		}
	}
}

func TestPicturesOff(t *testing.T) {
	a := synthOnce(t, map[string]string{"PicturesEnabled": "false"})
	data := a.Stack(t, "Data")
	// The distribution stays (the Configuration stack's kept parameters
	// refer to it), but no bucket policy lets CloudFront read anything.
	if n := len(data.OfType("AWS::CloudFront::Distribution")); n != 1 {
		t.Errorf("%d distributions with PicturesEnabled false, want the one that stays", n)
	}
	for id, pol := range data.OfType("AWS::S3::BucketPolicy") {
		if strings.Contains(jsonText(pol.Properties), "cloudfront.amazonaws.com") {
			t.Errorf("bucket policy %s names CloudFront with PicturesEnabled false", id)
		}
	}
	if len(data.OfType("AWS::S3::Bucket")) != len(synthOnce(t, nil).Stack(t, "Data").OfType("AWS::S3::Bucket")) {
		t.Errorf("the buckets differ with PicturesEnabled false; a stateful resource must not come and go with a parameter")
	}
	is := identityServerTask(t, a)
	env := namedValues(is.containers["tts"]["Environment"], "Value")
	secrets := namedValues(is.containers["tts"]["Secrets"], "ValueFrom")
	if env["TTN_LW_IS_PROFILE_PICTURE_BUCKET_URL"] != "" || secrets["TTN_LW_IS_PROFILE_PICTURE_DISABLE_UPLOAD"] == nil {
		t.Errorf("pictures off: bucket URL %v, uploads %v", env["TTN_LW_IS_PROFILE_PICTURE_BUCKET_URL"], secrets["TTN_LW_IS_PROFILE_PICTURE_DISABLE_UPLOAD"])
	}
}

// Given by complete ARN, the API key secret is read and granted by exactly
// that ARN.
func TestPacketBrokerApiKeyByARN(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tts-example/packet-broker-api-key-AbC123"
	a := synthOnce(t, map[string]string{"PacketBrokerEnabled": "true", "PacketBrokerApiKeySecret": arn})
	tpl := a.Stack(t, "Services")
	s, ok := servicesByComponent(t, tpl)["pba"]
	if !ok {
		t.Fatal("no pba service")
	}
	secrets := namedValues(s.main["Secrets"], "ValueFrom")
	if got := jsonText(secrets["TTN_LW_PBA_OAUTH2_CLIENT_SECRET"]); got != `"`+arn+`:secret::"` {
		t.Errorf("client secret from %s", got)
	}
	var grants []string
	for _, pol := range tpl.OfType("AWS::IAM::Policy") {
		for _, st := range asList(get(pol.Properties, "PolicyDocument", "Statement")) {
			for _, r := range asList(get(st, "Resource")) {
				if strings.Contains(jsonText(r), "packet-broker-api-key") {
					grants = append(grants, jsonText(r))
				}
			}
		}
	}
	if len(grants) != 1 || grants[0] != `"`+arn+`"` {
		t.Errorf("grants on %v, want exactly %s", grants, arn)
	}
}
