package cost

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/assembly"
)

// testTable has round prices, so that the expected figures can be worked
// out by hand; 100 hours a month.
const testTable = `
date: "2026-01-01"
currency: USD
hoursPerMonth: 100
prices:
  fargate-vcpu-hour-arm64: {unit: vCPU-hour, source: test}
  fargate-gb-hour-arm64: {unit: GB-hour, source: test}
  fargate-vcpu-hour-x86_64: {unit: vCPU-hour, source: test}
  fargate-gb-hour-x86_64: {unit: GB-hour, source: test}
  nat-gateway-hour: {unit: h, source: test}
  nat-gateway-gb: {unit: GB, source: test}
  public-ipv4-hour: {unit: h, source: test}
  nlb-hour: {unit: h, source: test}
  nlb-lcu-hour: {unit: h, source: test}
  aurora-serverless-v2-acu-hour: {unit: h, source: test}
  aurora-storage-gb-month: {unit: GB-month, source: test}
  aurora-io-million: {unit: million, source: test}
  elasticache-node-hour:cache.t4g.small: {unit: h, source: test}
  logs-ingestion-gb: {unit: GB, source: test}
  logs-storage-gb-month: {unit: GB-month, source: test}
  alarm-metric-month: {unit: metric-month, source: test}
  secret-month: {unit: month, source: test}
  custom-metric-month: {unit: metric-month, source: test}
regions:
  test-1:
    name: Test
    prices:
      fargate-vcpu-hour-arm64: 0.04
      fargate-gb-hour-arm64: 0.01
      fargate-vcpu-hour-x86_64: 0.05
      fargate-gb-hour-x86_64: 0.02
      nat-gateway-hour: 0.05
      nat-gateway-gb: 0.1
      public-ipv4-hour: 0.01
      nlb-hour: 0.02
      nlb-lcu-hour: 0.01
      aurora-serverless-v2-acu-hour: 0.1
      aurora-storage-gb-month: 0.1
      aurora-io-million: 0.2
      elasticache-node-hour:cache.t4g.small: 0.03
      logs-ingestion-gb: 0.5
      logs-storage-gb-month: 0.03
      alarm-metric-month: 0.1
      secret-month: 0.4
      custom-metric-month: 0.3
    unconfirmed: [elasticache-node-hour:cache.t4g.small]
assumptions:
  log-gb-per-task-month: {value: 2, unit: GB, doc: test}
  log-gb-per-other-group-month: {value: 1, unit: GB, doc: test}
  log-retention-months-never-expire: {value: 12, unit: months, doc: test}
  nat-gb-per-gateway-month: {value: 10, unit: GB, doc: test}
  nlb-lcu-per-hour: {value: 1, unit: LCU, doc: test}
  database-storage-gb: {value: 10, unit: GB, doc: test}
  database-io-million-month: {value: 5, unit: million, doc: test}
  collector-label-values: {value: 5, unit: values, doc: test}
free:
  "Custom::*": {reason: custom resource}
  AWS::ECS::TaskDefinition: {reason: priced through the service}
  AWS::ApplicationAutoScaling::ScalableTarget: {reason: no charge}
  AWS::IAM::Role: {reason: no charge, caveat: nothing really}
`

// testTemplate is one of each priced kind, written by hand.
const testTemplate = `{"Resources": {
  "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"Cpu": "512", "Memory": "2048",
    "RuntimePlatform": {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"},
    "ContainerDefinitions": [{"LogConfiguration": {"LogDriver": "awslogs", "Options": {"awslogs-group": {"Ref": "Logs"}}}},
      {"Name": "collector", "LogConfiguration": {"LogDriver": "awslogs", "Options": {"awslogs-group": {"Ref": "Logs"}}}, "Environment": [{"Name": "AOT_CONFIG_CONTENT", "Value": {"Fn::Sub": [
        "exporters:\n  awsemf:\n    log_group_name: '${G}'\n    metric_declarations:\n      - dimensions: [[component]]\n        metric_name_selectors: ['^a_total$$', '^b$$']\n      - dimensions: [[component, message_type]]\n        metric_name_selectors: ['^c_total$$']\nreceivers:\n  prometheus:\n    config:\n      scrape_configs:\n        - static_configs:\n            - labels: {component: gs}\n",
        {"G": {"Ref": "OtherLogs"}}]}}]}]}},
  "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 365}},
  "OtherLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
  "Service": {"Type": "AWS::ECS::Service", "Properties": {"DesiredCount": 3, "TaskDefinition": {"Ref": "Task"}, "LaunchType": "FARGATE"}},
  "Scaling": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {"MinCapacity": 3, "MaxCapacity": 6,
    "ResourceId": {"Fn::Join": ["", ["service/cluster/", {"Fn::GetAtt": ["Service", "Name"]}]]}}},
  "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
  "Ip": {"Type": "AWS::EC2::EIP", "Properties": {}},
  "Nlb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"Type": "network", "Scheme": "internet-facing", "Subnets": ["a", "b"]}},
  "Db": {"Type": "AWS::RDS::DBCluster", "Properties": {"Engine": "aurora-postgresql", "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 4}}},
  "Writer": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceClass": "db.serverless", "DBClusterIdentifier": {"Ref": "Db"}}},
  "Cache": {"Type": "AWS::ElastiCache::ReplicationGroup", "Properties": {"CacheNodeType": "cache.t4g.small", "NumNodeGroups": 1, "ReplicasPerNodeGroup": 2}},
  "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [
    {"Id": "a", "MetricStat": {"Period": 60}}, {"Id": "b", "MetricStat": {"Period": 60}}, {"Id": "e", "Expression": "a+b"}]}},
  "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
  "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
  "Run": {"Type": "Custom::TaskRun", "Properties": {}}
}}`

func parseTemplate(t *testing.T, text string) assembly.Template {
	t.Helper()
	var tpl assembly.Template
	if err := json.Unmarshal([]byte(text), &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

func loadTestTable(t *testing.T) *Table {
	t.Helper()
	table, err := ParseTable([]byte(testTable))
	if err != nil {
		t.Fatal(err)
	}
	return table
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestEstimateArithmetic(t *testing.T) {
	table := loadTestTable(t)
	e, err := table.Estimate("hand", "test-1", []StackTemplate{{Name: "s", Template: parseTemplate(t, testTemplate)}})
	if err != nil {
		t.Fatal(err)
	}
	// Worked out by hand, 100 hours a month:
	want := map[string]float64{
		// 3 tasks x (0.5 vCPU x 0.04 + 2 GB x 0.01) x 100 h
		KindTasks: 3 * (0.5*0.04 + 2*0.01) * 100,
		// service logs: 3 tasks x 2 GB x (0.5 + 12 months x 0.03), once
		// although both containers write to the group;
		// the other group: 1 GB x (0.5 + 12 (never expires) x 0.03)
		KindLogs: 3*2*(0.5+12*0.03) + 1*(0.5+12*0.03),
		// 100 h x 0.05 + 10 GB x 0.1
		KindNAT: 100*0.05 + 10*0.1,
		// Elastic IP, and the load balancer's two addresses without one
		KindIPv4: 100*0.01 + 2*100*0.01,
		// 100 h x 0.02 + 1 LCU x 100 h x 0.01
		KindLB: 100*0.02 + 100*0.01,
		// writer at 0.5 ACU x 100 h x 0.1; storage 10 x 0.1; I/O 5 x 0.2
		KindDatabase: 0.5*100*0.1 + 10*0.1 + 5*0.2,
		// 1 group x (2 replicas + 1) nodes x 100 h x 0.03
		KindCache: 3 * 100 * 0.03,
		// two metrics of a metric-math alarm; the collector's custom
		// metrics: a and b with the component, c with the component and
		// 5 message types (the assumption), whatever the number of tasks
		KindMonitor: 2*0.1 + (2+5)*0.3,
		KindSecrets: 0.4,
	}
	got := e.ByKind()
	var total float64
	for kind, w := range want {
		total += w
		if !near(got[kind], w) {
			t.Errorf("%s: got %.6f, want %.6f", kind, got[kind], w)
		}
	}
	for kind, g := range got {
		if _, ok := want[kind]; !ok && g != 0 {
			t.Errorf("unexpected kind %s: %.6f", kind, g)
		}
	}
	if !near(e.Total(), total) {
		t.Errorf("total %.6f, want %.6f", e.Total(), total)
	}
	// The ceiling: 6 tasks and their logs, and the writer at 4 ACU.
	ceiling := total + 3*(0.5*0.04+2*0.01)*100 + 3*2*(0.5+12*0.03) + (4-0.5)*100*0.1
	if !near(e.Ceiling(), ceiling) {
		t.Errorf("ceiling %.6f, want %.6f", e.Ceiling(), ceiling)
	}
	// Only the cache rests on an unconfirmed price.
	if !near(e.Unconfirmed, 3*100*0.03) {
		t.Errorf("unconfirmed %.6f, want %.6f", e.Unconfirmed, 3*100*0.03)
	}
	if e.Caveats["AWS::IAM::Role"] != "nothing really" {
		t.Errorf("caveats %v, want the role's", e.Caveats)
	}
	md := e.Markdown()
	for _, s := range []string{"| `s` |", "log-gb-per-task-month: 2 GB", "nothing really", "3 tasks (up to 6) x (0.5 vCPU, 2 GB, ARM64)", "7 custom metrics from its collectors (a_total, b, c_total)", "collector-label-values: 5 values"} {
		if !strings.Contains(md, s) {
			t.Errorf("the report lacks %q:\n%s", s, md)
		}
	}
}

func TestEstimateX86CostsMore(t *testing.T) {
	table := loadTestTable(t)
	arm := parseTemplate(t, testTemplate)
	x86 := parseTemplate(t, strings.Replace(testTemplate, `"ARM64"`, `"X86_64"`, 1))
	a, err := table.Estimate("arm", "test-1", []StackTemplate{{Name: "s", Template: arm}})
	if err != nil {
		t.Fatal(err)
	}
	x, err := table.Estimate("x86", "test-1", []StackTemplate{{Name: "s", Template: x86}})
	if err != nil {
		t.Fatal(err)
	}
	// 3 tasks x (0.5 x (0.05 - 0.04) + 2 x (0.02 - 0.01)) x 100 h
	if d := x.ByKind()[KindTasks] - a.ByKind()[KindTasks]; !near(d, 3*(0.5*0.01+2*0.01)*100) {
		t.Errorf("x86 - arm64 tasks = %.6f", d)
	}
	delta := DeltaMarkdown(a, x)
	if !strings.Contains(delta, "tasks +$7.50") || !strings.Contains(delta, "`s` +$7.50") {
		t.Errorf("the delta does not show the change of the tasks:\n%s", delta)
	}
}

func TestEstimateRefusesRegionWithoutPrices(t *testing.T) {
	table := loadTestTable(t)
	_, err := table.Estimate("far", "ap-south-2", []StackTemplate{{Name: "s", Template: parseTemplate(t, testTemplate)}})
	if err == nil || !strings.Contains(err.Error(), `region "ap-south-2" has no prices`) || !strings.Contains(err.Error(), "test-1") {
		t.Errorf("got %v, want a refusal that names the region and the regions of the table", err)
	}
}

func TestEstimateRefusesUnknownType(t *testing.T) {
	table := loadTestTable(t)
	tpl := parseTemplate(t, `{"Resources": {"Thing": {"Type": "AWS::Made::Up", "Properties": {}}, "Role": {"Type": "AWS::IAM::Role"}}}`)
	stacks := []StackTemplate{{Name: "s", Template: tpl}}
	unknown := table.UnknownTypes(stacks)
	if len(unknown) != 1 || unknown[0].Type != "AWS::Made::Up" || unknown[0].Where[0] != "s/Thing" {
		t.Errorf("unknown types %+v, want AWS::Made::Up at s/Thing", unknown)
	}
	if _, err := table.Estimate("x", "test-1", stacks); err == nil || !strings.Contains(err.Error(), "AWS::Made::Up (s/Thing)") {
		t.Errorf("got %v, want a refusal naming AWS::Made::Up", err)
	}
}

func TestEstimateRefusesMissingPrice(t *testing.T) {
	table := loadTestTable(t)
	tpl := parseTemplate(t, `{"Resources": {"Cache": {"Type": "AWS::ElastiCache::ReplicationGroup", "Properties": {"CacheNodeType": "cache.r7g.large", "NumCacheClusters": 2}}}}`)
	_, err := table.Estimate("x", "test-1", []StackTemplate{{Name: "s", Template: tpl}})
	if err == nil || !strings.Contains(err.Error(), "elasticache-node-hour:cache.r7g.large") {
		t.Errorf("got %v, want a refusal naming the missing price", err)
	}
}

func TestParseTableChecks(t *testing.T) {
	for name, edit := range map[string][2]string{
		"region without a price": {"      secret-month: 0.4\n", ""},
		"unconfirmed unknown":    {"unconfirmed: [elasticache-node-hour:cache.t4g.small]", "unconfirmed: [no-such-price]"},
		"priced type is free":    {"  AWS::IAM::Role: {reason: no charge, caveat: nothing really}", "  AWS::EC2::NatGateway: {reason: wrong}"},
		"free without reason":    {"{reason: no charge, caveat: nothing really}", "{caveat: nothing really}"},
	} {
		text := strings.Replace(testTable, edit[0], edit[1], 1)
		if text == testTable {
			t.Fatalf("%s: the edit does not apply", name)
		}
		if _, err := ParseTable([]byte(text)); err == nil {
			t.Errorf("%s: the table is accepted", name)
		}
	}
}

// TestEveryTemplateTypeIsClassified reads every synthesized template of
// every environment and combination of switches (test/snapshots, which
// TestSnapshots keeps equal to the synthesis) and fails for a resource type
// the repository's table neither prices nor calls free.
func TestEveryTemplateTypeIsClassified(t *testing.T) {
	table, err := LoadTable()
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	err = filepath.WalkDir("../../../test/snapshots", func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if files, _ := filepath.Glob(filepath.Join(path, "*.json")); len(files) > 0 {
				dirs = append(dirs, path)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no template snapshots under test/snapshots")
	}
	types := map[string]string{}
	for _, dir := range dirs {
		stacks, err := ReadTemplates(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range table.UnknownTypes(stacks) {
			t.Errorf("%s: resource type %s (%s) has neither a price nor a reason to be free; price it in pricers.go or list it under free in %s", dir, u.Type, strings.Join(u.Where, ", "), TableFile)
		}
		for _, s := range stacks {
			for _, r := range s.Template.Resources {
				class, reason := table.Classify(r.Type)
				types[r.Type] = class + " " + reason
			}
		}
	}
	var lines []string
	for typ, c := range types {
		lines = append(lines, typ+": "+c)
	}
	sort.Strings(lines)
	t.Logf("%d resource types:\n%s", len(lines), strings.Join(lines, "\n"))
}

// TestRepositoryTableEstimatesEveryEnvironment prices the snapshots of every
// environment with the repository's table: every price the templates need
// exists for their region.
func TestRepositoryTableEstimatesEveryEnvironment(t *testing.T) {
	table, err := LoadTable()
	if err != nil {
		t.Fatal(err)
	}
	estimates, err := SnapshotEstimates("../../..", table)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range estimates {
		if e.Total() <= 0 || e.Ceiling() < e.Total() {
			t.Errorf("%s: total %.2f, ceiling %.2f", e.Env, e.Total(), e.Ceiling())
		}
	}
}

func TestReadmeCostFiguresAreCurrent(t *testing.T) {
	doc, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	table, err := LoadTable()
	if err != nil {
		t.Fatal(err)
	}
	estimates, err := SnapshotEstimates("../../..", table)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReplaceReadme(string(doc), ReadmeSection(estimates))
	if err != nil {
		t.Fatal(err)
	}
	if want != string(doc) {
		t.Error("README.md's cost figures differ from the estimate of the template snapshots: run `make docs` and commit README.md")
	}
}

func TestMoney(t *testing.T) {
	for v, want := range map[float64]string{0: "$0.00", 1234.567: "$1,234.57", -0.004: "$0.00", -12: "-$12.00", 1000000: "$1,000,000.00"} {
		if got := money(v); got != want {
			t.Errorf("money(%v) = %s, want %s", v, got, want)
		}
	}
}
