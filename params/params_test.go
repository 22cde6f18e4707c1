package params

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// good is a complete, valid parameter file; bad inputs are variations of it.
const good = `StackPrefix: tts-prod
Account: "210987654321"
Region: eu-central-1
DomainName: lns.example.net
HostedZoneId: Z0987654321ABCDEFGHIJ
HostedZoneName: example.net.
NetID: "000013"
`

func load(t *testing.T, data string, overrides map[string]any) (*Params, diag.List) {
	t.Helper()
	return Load(Source{File: "params/test.yaml"}, []byte(data), overrides)
}

func TestGoodFileGetsDefaultsAndDerivedValues(t *testing.T) {
	p, problems := load(t, good, nil)
	if p == nil {
		t.Fatalf("good file rejected:\n%v", problems)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"AvailabilityZones", strings.Join(p.AvailabilityZones, ","), "eu-central-1a,eu-central-1b"},
		{"InteropPublicTLSAddress", p.InteropPublicTLSAddress, "https://lns.example.net:8886"},
		{"AdminEmail derived", p.AdminEmail, "admin@lns.example.net"},
		{"HostedZoneName without trailing dot", p.HostedZoneName, "example.net"},
		{"NatGateways default", p.NatGateways, 2},
		{"TTSImage default", p.TTSImage, "thethingsnetwork/lorawan-stack:3.32.1"},
		{"DeletionProtection default", p.DeletionProtection, true},
		{"RetainData default", p.RetainData, true},
		{"DatabaseSnapshot default", p.DatabaseSnapshot, ""},
		{"SupportProxyTLS default", p.SupportProxyTLS, false},
		{"DatabaseMinCapacity default", p.DatabaseMinCapacity, 0.5},
		{"InteropPacketBrokerTokenIssuer default", p.InteropPacketBrokerTokenIssuer, "https://iam.packetbroker.net"},
		{"InteropEnabledIS derived", p.InteropEnabledIS(), false},
		{"StackName", p.StackName("Data"), "tts-prod-Data"},
		{"ImageTag", p.ImageTag(), "3.32.1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestEmbeddedExampleLoads(t *testing.T) {
	p, problems := LoadEmbedded(nil)
	if p == nil {
		t.Fatalf("the embedded example is rejected:\n%v", problems)
	}
	// Its example addresses cannot receive mail, and it says so; nothing
	// else is wrong with it.
	if got := warningKeys(problems); len(problems.Errors()) != 0 || strings.Join(got, " ") != "AcmeEmail AdminEmail EmailSender" {
		t.Errorf("the embedded example has problems %v, want only the mailbox warnings of AcmeEmail, AdminEmail and EmailSender:\n%v", got, problems)
	}
	if p.Account != "123456789012" || p.Region != "eu-west-1" || !strings.HasSuffix(p.DomainName, "example.com") {
		t.Errorf("example is not the offline example: account %s region %s domain %s", p.Account, p.Region, p.DomainName)
	}
	if p.Source().FS == nil || p.Source().File != "params/example.yaml" {
		t.Errorf("source = %+v, want the embedded params/example.yaml", p.Source())
	}
}

func TestExampleFileOnDiskIsTheEmbeddedOne(t *testing.T) {
	disk, err := os.ReadFile("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	emb, err := embedded.ReadFile("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(disk) != string(emb) {
		t.Error("embedded example.yaml differs from the file on disk")
	}
}

func TestContextOverridesAreParsedStrictly(t *testing.T) {
	p, problems := load(t, good, map[string]any{
		"SupportProxyTLS":     "true",
		"AcmeEmail":           "ops@example.net",
		"NatGateways":         "1",
		"AvailabilityZones":   "eu-central-1a, eu-central-1c",
		"DatabaseMaxCapacity": 8.0,
		// CDK's own context is not a parameter and is left alone.
		"@aws-cdk/core:checkSecretUsage":        true,
		"env":                                   "prod",
		"availability-zones:account=1:region=x": []any{"a"},
	})
	if p == nil {
		t.Fatalf("overrides rejected:\n%v", problems)
	}
	if !p.SupportProxyTLS || p.NatGateways != 1 || p.AvailabilityZones[1] != "eu-central-1c" || p.DatabaseMaxCapacity != 8 {
		t.Errorf("overrides not applied: %+v", p)
	}
	for _, v := range []string{"True", "1", "yes", ""} {
		_, problems := load(t, good, map[string]any{"SupportProxyTLS": v})
		expectProblem(t, problems, "-c SupportProxyTLS="+v, "SupportProxyTLS", "params.bad-value")
	}
}

// expectProblem asserts that one error of the code names the key at the
// location.
func expectProblem(t *testing.T, problems diag.List, location, key, code string) {
	t.Helper()
	for _, p := range problems.Errors() {
		if p.Location() == location && p.Path == key && p.Code == code {
			line := p.String()
			if !strings.HasPrefix(line, location+": error: "+key+": ") {
				t.Errorf("problem line %q does not start with location, severity and key", line)
			}
			return
		}
	}
	t.Errorf("no error %s at %s for %s; got:\n%v", code, location, key, problems)
}

func TestBadInputsNameKeyFileAndLine(t *testing.T) {
	cases := []struct {
		name      string
		file      string
		overrides map[string]any
		location  string
		key       string
		code      string
	}{
		{"unknown key", good + "SupportProxyTls: true\n", nil, "params/test.yaml:8", "SupportProxyTls", "params.unknown-key"},
		{"misspelt key", good + "InteropEnabeld: true\n", nil, "params/test.yaml:8", "InteropEnabeld", "params.unknown-key"},
		{"wrong type bool", good + "SupportProxyTLS: yes\n", nil, "params/test.yaml:8", "SupportProxyTLS", "params.bad-value"},
		{"ops access not a bool", good + "OpsAccess: on\n", nil, "params/test.yaml:8", "OpsAccess", "params.bad-value"},
		{"wrong type int", good + "NatGateways: two\n", nil, "params/test.yaml:8", "NatGateways", "params.bad-value"},
		{"wrong type list", good + "AvailabilityZones: eu-central-1a\n", nil, "params/test.yaml:8", "AvailabilityZones", "params.bad-value"},
		{"null value", good + "TTSImage:\n", nil, "params/test.yaml:8", "TTSImage", "params.bad-value"},
		{"duplicate key", good + "Region: eu-west-1\n", nil, "params/test.yaml:8", "Region", "params.duplicate-key"},
		{"missing required", strings.Replace(good, "Account: \"210987654321\"\n", "", 1), nil, "params/test.yaml:1", "Account", "params.missing-key"},
		{"account digits", strings.Replace(good, `"210987654321"`, `"21098765432"`, 1), nil, "params/test.yaml:2", "Account", "params.invalid"},
		{"region", strings.Replace(good, "eu-central-1", "Europe", 1), nil, "params/test.yaml:3", "Region", "params.invalid"},
		{"stack prefix", strings.Replace(good, "tts-prod", "1tts", 1), nil, "params/test.yaml:1", "StackPrefix", "params.invalid"},
		{"domain outside zone", strings.Replace(good, "lns.example.net", "lns.example.org", 1), nil, "params/test.yaml:4", "DomainName", "params.domain-outside-zone"},
		{"domain not a name", strings.Replace(good, "lns.example.net", "LNS_example", 1), nil, "params/test.yaml:4", "DomainName", "params.bad-dns-name"},
		{"hosted zone id", strings.Replace(good, "Z0987654321ABCDEFGHIJ", "zone-1", 1), nil, "params/test.yaml:5", "HostedZoneId", "params.invalid"},
		{"image latest", good + "TTSImage: thethingsnetwork/lorawan-stack:latest\n", nil, "params/test.yaml:8", "TTSImage", "params.unpinned-image"},
		{"image without tag", good + "TTSImage: thethingsnetwork/lorawan-stack\n", nil, "params/test.yaml:8", "TTSImage", "params.unpinned-image"},
		{"net id", strings.Replace(good, `"000013"`, `"13"`, 1), nil, "params/test.yaml:7", "NetID", "params.invalid"},
		{"ns id", good + "NSID: 70B3D57ED\n", nil, "params/test.yaml:8", "NSID", "params.invalid"},
		{"tenant id", good + "TenantID: Bad_Tenant\n", nil, "params/test.yaml:8", "TenantID", "params.invalid"},
		{"zones in other region", good + "AvailabilityZones: [eu-west-1a, eu-west-1b]\n", nil, "params/test.yaml:8", "AvailabilityZones", "params.bad-zone"},
		{"one zone", good + "AvailabilityZones: [eu-central-1a]\n", nil, "params/test.yaml:8", "AvailabilityZones", "params.too-few-zones"},
		{"nat gateways", good + "NatGateways: 3\n", nil, "params/test.yaml:8", "NatGateways", "params.out-of-range"},
		{"proxy TLS without ACME e-mail", good + "SupportProxyTLS: true\n", nil, "params/test.yaml", "AcmeEmail", "params.acme-email-missing"},
		{"bad ACME e-mail", good + "AcmeEmail: Ops <ops@example.net>\n", nil, "params/test.yaml:8", "AcmeEmail", "params.bad-email"},
		{"ACME directory", good + "AcmeDirectory: http://acme.example.net/dir\n", nil, "params/test.yaml:8", "AcmeDirectory", "params.bad-acme-directory"},
		{"renew days", good + "CertificateRenewDays: 80\n", nil, "params/test.yaml:8", "CertificateRenewDays", "params.out-of-range"},
		{"schedule too often", good + "CertificateRenewSchedule: rate(5 minutes)\n", nil, "params/test.yaml:8", "CertificateRenewSchedule", "params.bad-schedule"},
		{"schedule unit", good + "CertificateRenewSchedule: rate(1 hours)\n", nil, "params/test.yaml:8", "CertificateRenewSchedule", "params.bad-schedule"},
		{"schedule cron fields", good + "CertificateRenewSchedule: cron(0 3 * * ?)\n", nil, "params/test.yaml:8", "CertificateRenewSchedule", "params.bad-schedule"},
		{"schedule garbage", good + "CertificateRenewSchedule: twice a day\n", nil, "params/test.yaml:8", "CertificateRenewSchedule", "params.bad-schedule"},
		{"alarm e-mail", good + "AlarmEmail: ops\n", nil, "params/test.yaml:8", "AlarmEmail", "params.bad-email"},
		{"packet broker without interop", good + "InteropPacketBrokerEnabled: true\n", nil, "params/test.yaml:8", "InteropPacketBrokerEnabled", "params.packet-broker-needs-interop"},
		{"packet broker without public address", good + "InteropEnabled: true\nInteropPacketBrokerEnabled: true\nInteropPublicTLSAddress: \"\"\n", nil, "params/test.yaml:10", "InteropPublicTLSAddress", "params.public-tls-address-missing"},
		{"admin e-mail not an address", good + "AdminEmail: root\n", nil, "params/test.yaml:8", "AdminEmail", "params.bad-email"},
		{"public address without port", good + "InteropPublicTLSAddress: https://lns.example.net\n", nil, "params/test.yaml:8", "InteropPublicTLSAddress", "params.url-without-port"},
		{"token issuer not https", good + "InteropPacketBrokerTokenIssuer: http://iam.packetbroker.net\n", nil, "params/test.yaml:8", "InteropPacketBrokerTokenIssuer", "params.bad-url"},
		{"certificate in other region", good + "CertificateArn: arn:aws:acm:us-east-1:210987654321:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f\n", nil, "params/test.yaml:8", "CertificateArn", "params.invalid"},
		{"interop repository outside", good + "InteropRepository: ../../etc\n", nil, "params/test.yaml:8", "InteropRepository", "params.repository-path"},
		{"database capacity step", good + "DatabaseMinCapacity: 0.7\n", nil, "params/test.yaml:8", "DatabaseMinCapacity", "params.bad-capacity"},
		{"database max below min", good + "DatabaseMinCapacity: 8\nDatabaseMaxCapacity: 4\n", nil, "params/test.yaml:9", "DatabaseMaxCapacity", "params.capacity-order"},
		{"backup retention", good + "DatabaseBackupRetentionDays: 0\n", nil, "params/test.yaml:8", "DatabaseBackupRetentionDays", "params.out-of-range"},
		{"password version", good + "DatabasePasswordVersion: \"two words\"\n", nil, "params/test.yaml:8", "DatabasePasswordVersion", "params.invalid"},
		{"e-mail sender outside the zone", good + "EmailSender: noreply@thethings.network\n", nil, "params/test.yaml:8", "EmailSender", "params.email-sender-domain"},
		{"e-mail sender in a look-alike zone", good + "EmailSender: noreply@notexample.net\n", nil, "params/test.yaml:8", "EmailSender", "params.email-sender-domain"},
		{"e-mail sender not an address", good + "EmailSender: TTS <noreply@lns.example.net>\n", nil, "params/test.yaml:8", "EmailSender", "params.bad-email"},
		{"e-mail sender name of two lines", good + "EmailSenderName: \"TTS\\nBcc: x@y\"\n", nil, "params/test.yaml:8", "EmailSenderName", "params.bad-sender-name"},
		{"e-mail credentials version", good + "EmailCredentialsVersion: \"\"\n", nil, "params/test.yaml:8", "EmailCredentialsVersion", "params.empty"},
		{"ingress CIDR", good + "GatewayIngressCidrs: [10.0.0.1/8]\n", nil, "params/test.yaml:8", "GatewayIngressCidrs", "params.bad-cidr"},
		{"empty ingress list", good + "InteropIngressCidrs: []\n", nil, "params/test.yaml:8", "InteropIngressCidrs", "params.empty-cidrs"},
		{"one identity server task", good + "IdentityServerTasks: 1\n", nil, "params/test.yaml:8", "IdentityServerTasks", "params.out-of-range"},
		{"identity server size", good + "IdentityServerMemory: 512\n", nil, "params/test.yaml:8", "IdentityServerMemory", "params.task-size"},
		{"one gateway server task", good + "GatewayServerTasks: 1\n", nil, "params/test.yaml:8", "GatewayServerTasks", "params.out-of-range"},
		{"too many application server tasks", good + "ApplicationServerTasks: 11\n", nil, "params/test.yaml:8", "ApplicationServerTasks", "params.out-of-range"},
		{"one proxy task", good + "ProxyTasks: 1\n", nil, "params/test.yaml:8", "ProxyTasks", "params.out-of-range"},
		{"service size", good + "ServiceCpu: 1024\nServiceMemory: 1024\n", nil, "params/test.yaml:9", "ServiceMemory", "params.task-size"},
		{"cache replicas", good + "CacheReplicas: 0\n", nil, "params/test.yaml:8", "CacheReplicas", "params.out-of-range"},
		{"cache node type", good + "CacheNodeType: t4g.small\n", nil, "params/test.yaml:8", "CacheNodeType", "params.invalid"},
		{"log retention", good + "LogRetentionDays: 10\n", nil, "params/test.yaml:8", "LogRetentionDays", "params.bad-retention"},
		{"not a mapping", "- StackPrefix\n", nil, "params/test.yaml:1", "(file)", "params.not-a-mapping"},
		{"broken YAML", good + "Region: [eu\n", nil, "params/test.yaml:8", "(file)", "params.yaml-syntax"},
		{"unknown override", good, map[string]any{"NatGateway": "1"}, "-c NatGateway=1", "NatGateway", "params.unknown-key"},
		{"override wrong type", good, map[string]any{"DatabaseReaders": "one"}, "-c DatabaseReaders=one", "DatabaseReaders", "params.bad-value"},
		{"override bad value", good, map[string]any{"Region": "mars"}, "-c Region=mars", "Region", "params.invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, problems := load(t, c.file, c.overrides)
			if p != nil {
				t.Errorf("accepted; want an error")
			}
			expectProblem(t, problems, c.location, c.key, c.code)
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	file := strings.Replace(good, "Account: \"210987654321\"\n", "", 1) +
		"Colour: blue\n" +
		"SupportProxyTLS: maybe\n" +
		"NatGateways: 1.5\n"
	_, problems := load(t, file, nil)
	expectProblem(t, problems, "params/test.yaml:7", "Colour", "params.unknown-key")
	expectProblem(t, problems, "params/test.yaml:8", "SupportProxyTLS", "params.bad-value")
	expectProblem(t, problems, "params/test.yaml:9", "NatGateways", "params.bad-value")
	expectProblem(t, problems, "params/test.yaml:1", "Account", "params.missing-key")
	if n := len(problems.Errors()); n != 4 {
		t.Errorf("%d errors, want exactly 4 (one per problem):\n%v", n, problems)
	}
	for _, line := range strings.Split(problems.String(), "\n") {
		if !strings.HasPrefix(line, "params/test.yaml:") {
			t.Errorf("line %q does not start with file and line", line)
		}
	}
}

func TestWarningsDoNotStopTheLoad(t *testing.T) {
	p, problems := load(t, good+"DeletionProtection: false\nDatabaseReaders: 0\n", nil)
	if p == nil {
		t.Fatalf("rejected:\n%v", problems)
	}
	if len(warningsOf(problems, "DeletionProtection")) != 1 || len(warningsOf(problems, "DatabaseReaders")) != 1 {
		t.Errorf("want warnings for DeletionProtection and DatabaseReaders, got:\n%v", problems)
	}
}

func TestRestoreSnapshotsAreChecked(t *testing.T) {
	p, problems := load(t, good+"DatabaseSnapshot: tts-data-databasecluster5b53a178-snapshot-1a2b3c\nCacheSnapshot: tts-data-cachegroup-final\n", nil)
	if p == nil {
		t.Fatalf("rejected:\n%v", problems)
	}
	shared := "arn:aws:rds:eu-central-1:123456789012:cluster-snapshot:tts-final"
	if p, problems := load(t, good+"DatabaseSnapshot: "+shared+"\n", nil); p == nil {
		t.Errorf("shared snapshot ARN rejected:\n%v", problems)
	}
	_, problems = load(t, good+"DatabaseSnapshot: my_snapshot\nCacheSnapshot: \"-x\"\n", nil)
	for _, key := range []string{"DatabaseSnapshot", "CacheSnapshot"} {
		found := false
		for _, e := range problems.Errors() {
			found = found || (e.Path == key && strings.Contains(e.Message, "remove the line"))
		}
		if !found {
			t.Errorf("no error for %s that says how to fix it:\n%v", key, problems)
		}
	}
}

func TestLoadBalancerAddressesAreOnePerZone(t *testing.T) {
	p, problems := load(t, good+"LoadBalancerAddresses: [eipalloc-0123456789abcdef0, eipalloc-0fedcba987654321f]\n", nil)
	if p == nil || len(p.LoadBalancerAddresses) != 2 {
		t.Fatalf("two allocation ids for two zones rejected:\n%v", problems)
	}
	for _, bad := range []string{"[eipalloc-0123456789abcdef0]", "[eipalloc-0123456789abcdef0, eipalloc-0123456789abcdef0]", "[eipalloc-0123456789abcdef0, 203.0.113.7]"} {
		_, problems := load(t, good+"LoadBalancerAddresses: "+bad+"\n", nil)
		found := false
		for _, e := range problems.Errors() {
			found = found || e.Path == "LoadBalancerAddresses"
		}
		if !found {
			t.Errorf("LoadBalancerAddresses %s: no error:\n%v", bad, problems)
		}
	}
}

func TestDeletingEverythingWarns(t *testing.T) {
	_, problems := load(t, good+"DeletionProtection: false\nRetainData: false\n", nil)
	w := warningsOf(problems, "DeletionProtection")
	if len(w) != 1 || w[0].Code != "params.deletion-unprotected-no-retain" {
		t.Errorf("want one warning that deleting the stacks deletes the data for good, got:\n%v", problems)
	}
}

// warningsOf returns the warnings about one key.
func warningsOf(problems diag.List, key string) diag.List {
	var out diag.List
	for _, w := range problems.Warnings() {
		if w.Path == key {
			out = append(out, w)
		}
	}
	return out
}

// warningKeys returns the keys that have warnings, sorted, each once.
func warningKeys(problems diag.List) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range problems.Warnings() {
		if !seen[w.Path] {
			seen[w.Path] = true
			out = append(out, w.Path)
		}
	}
	sort.Strings(out)
	return out
}

// E-mail addresses in domains reserved for examples and tests synthesize,
// with a warning that names what will not work; real domains pass quietly.
func TestReservedMailDomainsWarn(t *testing.T) {
	consequence := map[string]string{
		"AcmeEmail":  "Let's Encrypt refuses",
		"AdminEmail": "administrator user cannot receive mail",
		"AlarmEmail": "alarms",
	}
	for _, c := range []struct {
		addr     string
		reserved bool
	}{
		{"ops@example.com", true},
		{"ops@EXAMPLE.org", true},
		{"ops@mail.example.net", true},
		{"ops@corp.example", true},
		{"ops@lns.test", true},
		{"ops@nowhere.invalid", true},
		{"ops@localhost", true},
		{"ops@box.localhost", true},
		{"ops@thethings.network", false},
		{"ops@notexample.com", false},
		{"ops@example.community", false},
		{"ops@example.co.uk", false},
		{"ops@testing.io", false},
	} {
		for key, words := range consequence {
			// The other addresses are real, so only key can warn.
			file := good + "AdminEmail: admin@thethings.network\n"
			if key == "AdminEmail" {
				file = good
			}
			file += key + ": " + c.addr + "\n"
			p, problems := load(t, file, nil)
			if p == nil {
				t.Errorf("%s: %s rejected; a reserved domain must only warn:\n%v", key, c.addr, problems)
				continue
			}
			w := warningsOf(problems, key)
			switch {
			case c.reserved && (len(w) != 1 || !strings.Contains(w[0].Message, words) || !strings.Contains(w[0].Message, c.addr)):
				t.Errorf("%s: %s: want one warning naming the address and %q, got:\n%v", key, c.addr, words, problems)
			case !c.reserved && len(problems) != 0:
				t.Errorf("%s: %s is not reserved, got:\n%v", key, c.addr, problems)
			}
		}
	}
	// The derived AdminEmail warns too, and says how to set it.
	_, problems := load(t, good, nil)
	if w := warningsOf(problems, "AdminEmail"); len(w) != 1 || !strings.Contains(w[0].Message, "admin@lns.example.net") || !strings.Contains(w[0].Message, "add 'AdminEmail:") {
		t.Errorf("derived AdminEmail in example.net: %v", problems)
	}
	// No AlarmEmail, no warning about it.
	if w := warningsOf(problems, "AlarmEmail"); len(w) != 0 {
		t.Errorf("AlarmEmail unset warns: %v", w)
	}
}

func TestEnvironmentSelection(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/prod.yaml", []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	p, problems := FromContext(map[string]any{"env": "prod", "NatGateways": "1"}, dir)
	if p == nil || p.StackPrefix != "tts-prod" || p.NatGateways != 1 {
		t.Fatalf("env=prod not loaded from %s: %v", dir, problems)
	}
	if p, _ := FromContext(map[string]any{}, dir); p == nil || p.StackPrefix != "tts" {
		t.Errorf("no env did not load the embedded example")
	}
	_, problems = FromContext(map[string]any{"env": "staging"}, dir)
	expectProblem(t, problems, dir+"/staging.yaml", "env", "params.env-unreadable")
	_, problems = FromContext(map[string]any{"env": "../secrets"}, dir)
	expectProblem(t, problems, "-c env=../secrets", "env", "params.bad-env")
}

func TestReadmeParameterReferenceIsCurrent(t *testing.T) {
	doc, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReplaceReference(string(doc))
	if err != nil {
		t.Fatal(err)
	}
	if want != string(doc) {
		t.Error("README.md's parameter reference differs from params/model.go: run `make docs` and commit README.md")
	}
	for _, f := range fields() {
		if f.doc == "" {
			t.Errorf("parameter %s has no doc tag", f.name)
		}
	}
}

func TestCheckScheduleAcceptsCommonSchedules(t *testing.T) {
	for _, ok := range []string{"rate(12 hours)", "rate(1 hour)", "rate(1 day)", "rate(90 minutes)", "cron(17 3,15 * * ? *)"} {
		if err := CheckSchedule(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"rate(2 days)", "rate(30 minutes)", "rate(0 hours)", "cron(* * *)", ""} {
		if CheckSchedule(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// An e-mail sender in the zone is accepted (also below DomainName); one in a
// reserved zone warns that SES cannot verify it.
func TestEmailSender(t *testing.T) {
	for _, addr := range []string{"noreply@lns.example.net", "noreply@example.net", "noreply@mail.lns.example.net"} {
		p, problems := load(t, good+"EmailSender: "+addr+"\n", nil)
		if p == nil || len(problems.Errors()) != 0 {
			t.Fatalf("%s rejected:\n%v", addr, problems)
		}
		if w := warningsOf(problems, "EmailSender"); len(w) != 1 || !strings.Contains(w[0].Message, "SES cannot verify") {
			t.Errorf("%s is in example.net: want the reserved-domain warning, got:\n%v", addr, problems)
		}
		if !p.EmailEnabled() || p.EmailDomain() != addr[strings.Index(addr, "@")+1:] || p.EmailSenderName != "The Things Stack for LoRaWAN" || p.EmailCredentialsVersion != "1" {
			t.Errorf("%s: enabled %v, domain %q, name %q, version %q", addr, p.EmailEnabled(), p.EmailDomain(), p.EmailSenderName, p.EmailCredentialsVersion)
		}
	}
	p, problems := load(t, good, nil)
	if p == nil || p.EmailEnabled() || p.EmailDomain() != "" || len(warningsOf(problems, "EmailSender")) != 0 {
		t.Errorf("without EmailSender: enabled %v, domain %q, %v", p.EmailEnabled(), p.EmailDomain(), problems)
	}
	real := strings.NewReplacer("example.net", "thethings.network").Replace(good)
	if p, problems := load(t, real+"EmailSender: noreply@thethings.network\n", nil); p == nil || len(warningsOf(problems, "EmailSender")) != 0 {
		t.Errorf("a real domain in the zone: %v", problems)
	}
}
