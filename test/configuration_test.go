package test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/interop"
	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ratelimit"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ttsconfig"
)

// parameterKeys returns the TTS keys of the Configuration stack's Parameter
// Store parameters with their values (literal text, or the JSON of an
// intrinsic function).
func parameterKeys(t *testing.T, a *Assembly) map[string]string {
	t.Helper()
	prefix := "/" + a.Params.StackPrefix + "/tts/"
	out := map[string]string{}
	for id, r := range a.Stack(t, "Configuration").OfType("AWS::SSM::Parameter") {
		name, _ := r.Properties["Name"].(string)
		key, ok := strings.CutPrefix(name, prefix)
		if !ok {
			t.Errorf("parameter %s is named %q, outside %s", id, name, prefix)
			continue
		}
		if s, ok := r.Properties["Value"].(string); ok {
			out[key] = s
		} else {
			out[key] = jsonText(r.Properties["Value"])
		}
	}
	return out
}

// The parameters every combination has: cluster, Redis, blob, IS, NS, AS and
// Console settings whose values are not secrets and not empty.
var commonParameterKeys = []string{
	"as.interop.blob.bucket", "as.interop.blob.path", "as.interop.config-source",
	"as.webhooks.downlink.public-address", "as.webhooks.templates.directory",
	"blob.aws.region", "blob.provider",
	"cache.redis.address", "cache.redis.tls.require", "cache.service",
	"cluster.application-server", "cluster.gateway-server", "cluster.identity-server", "cluster.join-server", "cluster.network-server",
	"cluster.device-repository", "dr.assets-base-url", "dr.store.bleve.search-paths",
	"rate-limiting.blob.bucket", "rate-limiting.blob.path", "rate-limiting.config-source", "rate-limiting.provider",
	"skip-version-check",
	"console.oauth.authorize-url", "console.oauth.client-id", "console.oauth.logout-url", "console.oauth.token-url",
	"console.ui.account-url", "console.ui.as.base-url", "console.ui.canonical-url", "console.ui.dcs.base-url", "console.ui.edtc.base-url",
	"console.ui.gcs.base-url", "console.ui.gs.base-url", "console.ui.is.base-url", "console.ui.js.base-url", "console.ui.ns.base-url", "console.ui.qrg.base-url",
	"events.backend", "events.redis.address", "events.redis.tls.require",
	"frequency-plans.config-source", "frequency-plans.directory",
	"grpc.allow-insecure-for-credentials",
	"is.email.network.assets-base-url", "is.email.network.console-url", "is.email.network.identity-server-url",
	// E-mail's settings exist with and without EmailSender (kept, like
	// interop's: stacks.keptParameters).
	"is.email.network.name", "is.email.provider", "is.email.sender-address", "is.email.sender-name", "is.email.smtp.address",
	"is.end-device-picture.bucket", "is.end-device-picture.disable-upload",
	"is.oauth.ui.canonical-url", "is.oauth.ui.console-url", "is.oauth.ui.is.base-url",
	"is.profile-picture.bucket", "is.profile-picture.disable-upload",
	"ns.interop.blob.bucket", "ns.interop.blob.path", "ns.interop.config-source", "ns.interop.id", "ns.net-id",
	"redis.address", "redis.tls.require",
}

// A synthesized template of every combination carries exactly the expected
// keys, with the expected interop values.
func TestConfigurationKeysOfEveryCombination(t *testing.T) {
	for _, c := range combos() {
		if !c.valid() {
			continue
		}
		a := synthOnce(t, c.overrides())
		name := canonical(c.overrides())
		got := parameterKeys(t, a)
		want := map[string]string{}
		for _, k := range commonParameterKeys {
			want[k] = got[k] // value checked below where it matters
		}
		want["ns.interop.id"] = "70B3D57ED0000001"
		want["ns.net-id"] = "000013"
		want["ns.interop.config-source"] = "blob"
		want["as.interop.config-source"] = "blob"
		want["ns.interop.blob.path"] = "interop-repository"
		want["as.interop.blob.path"] = "interop-repository"
		want["as.webhooks.downlink.public-address"] = "https://" + a.Params.DomainName + "/api/v3"
		want["frequency-plans.config-source"] = "directory"
		// The Device Repository reads the index of the image, and the
		// others find it by its Service Connect name, which its service has.
		want["dr.store.bleve.search-paths"] = "/srv/ttn-lorawan/lorawan-devices-index"
		want["cluster.device-repository"] = "dr.tts.local:1884"
		// Rate limiting profiles from the interop repository's folder.
		want["rate-limiting.config-source"] = "blob"
		want["rate-limiting.blob.path"] = "interop-repository"
		want["rate-limiting.provider"] = "redis"
		want["skip-version-check"] = "true"
		// /metrics stays on (and gets a password, a secret): the collectors scrape it.
		want["http.metrics.enable"] = "true"
		// Pictures are on by default: uploads on, linked at the
		// distribution (TestPicturesAreServedByTheDistributionOnly).
		want["is.profile-picture.disable-upload"] = "false"
		want["is.end-device-picture.disable-upload"] = "false"
		want["is.profile-picture.bucket-url"] = got["is.profile-picture.bucket-url"]
		want["is.end-device-picture.bucket-url"] = got["is.end-device-picture.bucket-url"]
		// The Packet Broker Agent's settings, and what the others learn of
		// it, exist also while it is off, for the same reason; nothing reads
		// them then (TestPacketBrokerAgentIsOffByDefault).
		for k, v := range map[string]string{
			"cluster.packet-broker-agent": "pba.tts.local:1884", "gs.forward": "=00000000/0 packetbroker=00000000/0",
			"pba.net-id": "000013", "pba.tenant-id": "example", "pba.data-plane-address": "eu.packetbroker.net:443",
			"pba.authentication-mode": "oauth2", "pba.registration.listed": "true", "pba.home-network.enable": "true",
			"pba.home-network.dev-addr-prefixes": "26000000/7", "pba.forwarder.enable": "true",
		} {
			want[k] = v
		}
		// The interop and Packet Broker settings exist in every state, so
		// that a switch never deletes a parameter that the Identity Server's
		// task definition still names (stacks.keptParameters); the Identity
		// Server reads them only in the states that use them
		// (TestIdentityServerReadsOnlyItsSettings).
		want["interop.listen"] = ":1886"
		want["interop.public-tls-address"] = "https://tts.example.com:8886"
		want["is.network.net-id"] = "000013"
		want["is.network.ns-id"] = "70B3D57ED0000001"
		want["is.network.tenant-id"] = "example"
		want["interop.packet-broker.enabled"] = "true"
		want["interop.packet-broker.token-issuer"] = "https://iam.packetbroker.net"
		for k, v := range want {
			if g, ok := got[k]; !ok {
				t.Errorf("%s: no parameter for %s", name, k)
			} else if g != v {
				t.Errorf("%s: %s = %q, want %q", name, k, g, v)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: unexpected parameter %s = %q", name, k, got[k])
			}
		}
		if err := ttsconfig.Check(sortedKeys(got)...); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The Identity Server's container reads the interop settings only with
// interop on, and the Packet Broker ones only with Packet Broker on, from the
// parameters the Configuration stack creates (by name, which is also how the
// Configuration stack names them).
func TestIdentityServerReadsOnlyItsSettings(t *testing.T) {
	for _, c := range combos() {
		if !c.valid() {
			continue
		}
		a := synthOnce(t, c.overrides())
		name := canonical(c.overrides())
		params := map[string]bool{}
		for _, r := range a.Stack(t, "Configuration").OfType("AWS::SSM::Parameter") {
			params[fmt.Sprint(get(r.Properties, "Name"))] = true
		}
		read := map[string]bool{}
		for _, td := range a.Stack(t, "IdentityServer").OfType("AWS::ECS::TaskDefinition") {
			for _, ct := range asList(get(td.Properties, "ContainerDefinitions")) {
				for env, from := range namedValues(get(ct, "Secrets"), "ValueFrom") {
					text := jsonText(from)
					i := strings.Index(text, ":parameter/")
					if i < 0 {
						continue
					}
					pname := strings.TrimSuffix(text[i+len(":parameter"):], `"]]}`)
					pname = strings.TrimSuffix(pname, `"`)
					if !params[pname] {
						t.Errorf("%s: %s reads %s, which the Configuration stack does not create", name, env, pname)
					}
					read[env] = true
				}
			}
		}
		for env, want := range map[string]bool{
			"TTN_LW_INTEROP_LISTEN": c.interop, "TTN_LW_IS_NETWORK_NET_ID": c.interop,
			"TTN_LW_INTEROP_PACKET_BROKER_ENABLED": c.packetBroker, "TTN_LW_INTEROP_PACKET_BROKER_TOKEN_ISSUER": c.packetBroker,
		} {
			if read[env] != want {
				t.Errorf("%s: the Identity Server reads %s: %v, want %v", name, env, read[env], want)
			}
		}
	}
}

// NS and AS read the repository from the interop bucket; the bucket and the
// Redis address are the Data stack's.
func TestConfigurationReferencesTheDataStack(t *testing.T) {
	a := synthOnce(t, nil)
	got := parameterKeys(t, a)
	for _, k := range []string{"ns.interop.blob.bucket", "as.interop.blob.bucket", "redis.address", "is.profile-picture.bucket"} {
		if !strings.Contains(got[k], a.Params.StackName("Data")) {
			t.Errorf("%s = %s; want a value taken from the Data stack", k, got[k])
		}
	}
	if !strings.Contains(got["ns.interop.blob.bucket"], "InteropRepository") || !strings.Contains(got["is.profile-picture.bucket"], "Pictures") {
		t.Errorf("buckets mixed up: ns.interop.blob.bucket=%s is.profile-picture.bucket=%s", got["ns.interop.blob.bucket"], got["is.profile-picture.bucket"])
	}
}

// repositoryResource returns the Custom::InteropRepository's properties.
func repositoryResource(t *testing.T, a *Assembly) (files map[string]string, refs []interop.SecretRef) {
	t.Helper()
	_, r := only(t, a.Stack(t, "Configuration"), deployres.InteropRepositoryType)
	raw, _ := json.Marshal(r.Properties["Files"])
	if err := json.Unmarshal(raw, &files); err != nil {
		t.Fatalf("Files: %v", err)
	}
	s, _ := r.Properties["SecretRefs"].(string)
	if err := json.Unmarshal([]byte(s), &refs); err != nil {
		t.Fatalf("SecretRefs: %v", err)
	}
	if r.Properties["Prefix"] != "interop-repository" {
		t.Errorf("Prefix = %v", r.Properties["Prefix"])
	}
	return files, refs
}

func TestInteropRepositoryIsDeployedAsChecked(t *testing.T) {
	a := synthOnce(t, nil)
	files, refs := repositoryResource(t, a)
	// What is deployed is the example folder on disk, byte for byte, and
	// only the files the repository references.
	var onDisk []string
	root := filepath.Join("..", "params", "example-interop")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		onDisk = append(onDisk, filepath.ToSlash(rel))
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if got, ok := files[filepath.ToSlash(rel)]; !ok {
			t.Errorf("%s is not deployed", rel)
		} else if got != string(data) {
			t.Errorf("%s is deployed with other content", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Beside them, the rate limiting profiles (TestRateLimiting...).
	delete(files, ratelimit.FileName)
	if len(files) != len(onDisk) {
		t.Errorf("deployed %v, the folder has %v", sortedKeys(files), onDisk)
	}
	var ids []string
	for _, r := range refs {
		ids = append(ids, r.File+" "+r.Path()+" -> "+r.SecretID)
	}
	sort.Strings(ids)
	want := []string{
		"example-js/js.yml tls.key -> tts-example/interop/example-js-client-key",
		"tti/as.yml basic-auth.password -> tts-example/interop/tti-join-server",
		"tti/ns.yml basic-auth.password -> tts-example/interop/tti-join-server",
	}
	if strings.Join(ids, "\n") != strings.Join(want, "\n") {
		t.Errorf("secret references:\n%s\nwant:\n%s", strings.Join(ids, "\n"), strings.Join(want, "\n"))
	}
}

func TestNoRepositoryDeploysAnEmptyConfig(t *testing.T) {
	a := synthOnce(t, map[string]string{"InteropRepository": ""})
	files, refs := repositoryResource(t, a)
	if len(files) != 2 || files["config.yml"] != interop.EmptyConfig || files[ratelimit.FileName] == "" || len(refs) != 0 {
		t.Errorf("files %v refs %v; want only an empty config.yml and the rate limiting profiles", files, refs)
	}
	// TTS reads an empty join-servers list.
	if _, probs := interop.Load(mapFS(files), ".", time.Now()); probs.HasErrors() {
		t.Error(probs.Err())
	}
}

// The deploy-time function may write only the repository's folder and the
// database URI, and read only the secrets it names.
func TestDeployFunctionIsLeastPrivilege(t *testing.T) {
	a := synthOnce(t, nil)
	tpl := a.Stack(t, "Configuration")
	_, policy := only(t, tpl, "AWS::IAM::Policy")
	stmts, _ := get(policy.Properties, "PolicyDocument", "Statement").([]any)
	actions := map[string][]string{}
	for _, s := range stmts {
		var acts []string
		switch v := get(s, "Action").(type) {
		case string:
			acts = []string{v}
		case []any:
			for _, x := range v {
				acts = append(acts, x.(string))
			}
		}
		for _, act := range acts {
			if strings.HasSuffix(act, "*") {
				t.Errorf("wildcard action %s", act)
			}
			actions[act] = append(actions[act], jsonText(get(s, "Resource")))
		}
		if get(s, "Resource") == "*" {
			t.Errorf("statement on every resource: %s", jsonText(s))
		}
	}
	wantActions := []string{"kms:Decrypt", "kms:GenerateDataKey", "logs:CreateLogStream", "logs:PutLogEvents",
		"s3:DeleteObject", "s3:ListBucket", "s3:PutObject", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"}
	if got := sortedKeys(actions); strings.Join(got, " ") != strings.Join(wantActions, " ") {
		t.Errorf("actions %v, want %v", got, wantActions)
	}
	for _, r := range actions["s3:PutObject"] {
		if !strings.Contains(r, "/interop-repository/*") {
			t.Errorf("s3:PutObject on %s; want only the repository's folder", r)
		}
	}
	put := strings.Join(actions["secretsmanager:PutSecretValue"], " ")
	if !strings.Contains(put, "DatabaseURI") || strings.Count(put, "GetStackOutput") != 1 {
		t.Errorf("secretsmanager:PutSecretValue on %s; want only the database URI secret", put)
	}
	get := strings.Join(actions["secretsmanager:GetSecretValue"], " ")
	for _, want := range []string{
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:tts-example/interop/tti-join-server-??????",
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:tts-example/interop/example-js-client-key-??????",
	} {
		if !strings.Contains(get, want) {
			t.Errorf("cannot read %s (GetSecretValue on %s)", want, get)
		}
	}
}

// TestNoSecretValueInTheCloudAssembly plants known values where secrets come
// from at deploy time (the database's generated credentials, the generated
// TTS secrets, a Join Server password referenced from the interop
// repository), proves that the deploy-time code consumes them, and proves
// that none of them, in plain, base64 or JSON-escaped form, appears in any
// file of the synthesized cloud assembly: templates, assets (the function's
// binary among them), manifests and reports.
func TestNoSecretValueInTheCloudAssembly(t *testing.T) {
	a := synthOnce(t, nil)
	planted := map[string]string{
		"database password":       "PLANTED-db-pw-7f3a91c2",
		"Join Server password":    "PLANTED-js-pw-52be0d18",
		"cluster keys":            "0123456789abcdef0123456789abcdefPLANTED0",
		"cookie hash key":         "PLANTED-cookie-hash-6c1d",
		"console OAuth secret":    "PLANTED-console-oauth-9e2f",
		"Redis AUTH token":        "PLANTED-redis-token-48aa",
		"Packet Broker (literal)": "PLANTED-never-used-0000",
	}
	// The deploy-time path gets the planted values and uses them.
	files, refs := repositoryResource(t, a)
	var list []interop.File
	for p, d := range files {
		list = append(list, interop.File{Path: p, Data: []byte(d)})
	}
	var inline []interop.SecretRef
	for _, r := range refs {
		if r.Kind == interop.SecretInline {
			inline = append(inline, r)
		}
	}
	out, err := interop.Materialize(context.Background(), list, inline, func(_ context.Context, id string) (string, error) {
		pw := planted["Join Server password"]
		return `{"ns-password":"` + pw + `","as-password":"` + pw + `"}`, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range out {
		found = found || bytes.Contains(f.Data, []byte(planted["Join Server password"]))
	}
	if !found {
		t.Fatal("positive control: the materialized repository does not hold the planted Join Server password")
	}
	uri, err := deployres.DatabaseURI(`{"username":"tts","password":"`+planted["database password"]+`","host":"db","port":5433}`, "tts", "require")
	if err != nil || !strings.Contains(uri, planted["database password"]) {
		t.Fatalf("positive control: the database URI %q does not hold the planted password (%v)", uri, err)
	}

	var needles [][]byte
	names := map[string]string{}
	for what, v := range planted {
		for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v)), strings.TrimSuffix(strings.TrimSuffix(base64.StdEncoding.EncodeToString([]byte(v)), "="), "=")} {
			needles = append(needles, []byte(form))
			names[form] = what
		}
	}
	// Positive control of the scan: a secret's reference is in the assembly.
	reference := []byte("tts-example/interop/tti-join-server")
	sawReference, scanned := false, 0
	err = filepath.WalkDir(a.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		scanned++
		sawReference = sawReference || bytes.Contains(data, reference)
		for _, n := range needles {
			if bytes.Contains(data, n) {
				t.Errorf("%s: holds the planted %s", p, names[string(n)])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sawReference || scanned < 10 {
		t.Errorf("scanned %d files, reference seen: %v; the scan does not read the assembly", scanned, sawReference)
	}
	// And by construction: no template sets a secret's value.
	for stack, tpl := range a.Templates {
		for id, r := range tpl.OfType("AWS::SecretsManager::Secret") {
			if _, ok := r.Properties["SecretString"]; ok {
				t.Errorf("%s/%s sets SecretString in the template", stack, id)
			}
		}
	}
}

func mapFS(files map[string]string) fs.FS {
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return m
}

// putParameterRate is about how many PutParameter calls per second Parameter
// Store takes with its default throughput (AWS Support's figure; the quota
// table does not list it).
const putParameterRate = 3

// dependsOn returns the DependsOn list of a resource.
func dependsOn(r Resource) []string {
	switch d := r.DependsOn.(type) {
	case string:
		return []string{d}
	case []any:
		var out []string
		for _, x := range d {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// CloudFormation starts every resource whose dependencies are done. The
// Parameter Store parameters must form at most putParameterRate chains
// (each waits for at most one other parameter, and at most one waits for
// it), so that no more are in flight at once, and every parameter is on a
// chain (no cycle).
func TestParametersAreCreatedInLanes(t *testing.T) {
	for _, overrides := range []map[string]string{nil, {"SupportProxyTLS": "true", "InteropEnabled": "true", "InteropPacketBrokerEnabled": "true"}} {
		a := synthOnce(t, overrides)
		params := a.Stack(t, "Configuration").OfType("AWS::SSM::Parameter")
		next := map[string]string{}
		var heads []string
		for _, id := range sortedKeys(params) {
			var prev []string
			for _, d := range dependsOn(params[id]) {
				if _, ok := params[d]; ok {
					prev = append(prev, d)
				}
			}
			switch len(prev) {
			case 0:
				heads = append(heads, id)
			case 1:
				if other, taken := next[prev[0]]; taken {
					t.Errorf("%s: both %s and %s wait for %s: they would run at the same time", canonical(overrides), other, id, prev[0])
				}
				next[prev[0]] = id
			default:
				t.Errorf("%s: %s waits for %d parameters %v; one is enough for a chain", canonical(overrides), id, len(prev), prev)
			}
		}
		if len(heads) > putParameterRate {
			t.Errorf("%s: %d of %d parameters wait for no other parameter and would be created at once; want at most %d", canonical(overrides), len(heads), len(params), putParameterRate)
		}
		onChain := 0
		for _, h := range heads {
			for id, n := h, 0; id != "" && n <= len(params); id, n = next[id], n+1 {
				onChain++
			}
		}
		if onChain != len(params) {
			t.Errorf("%s: %d of %d parameters are on a chain from a parameter that waits for none; the others are in a cycle", canonical(overrides), onChain, len(params))
		}
		if len(params) < 10 {
			t.Errorf("%s: only %d parameters; the test expects the full configuration", canonical(overrides), len(params))
		}
	}
}
