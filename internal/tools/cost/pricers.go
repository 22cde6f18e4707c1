package cost

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/assembly"
)

// pricer prices one resource from its properties (and the resources of its
// template it refers to). It returns no line when the resource costs
// nothing as configured.
type pricer func(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error)

// pricers are the resource types the code prices. Every other type of a
// template must be free (prices.yaml) or the estimate is refused.
var pricers = map[string]pricer{
	"AWS::ECS::Service":                         priceService,
	"AWS::Events::Rule":                         priceRule,
	"AWS::EC2::NatGateway":                      priceNAT,
	"AWS::EC2::EIP":                             priceEIP,
	"AWS::ElasticLoadBalancingV2::LoadBalancer": priceLoadBalancer,
	"AWS::RDS::DBCluster":                       priceDBCluster,
	"AWS::RDS::DBInstance":                      priceDBInstance,
	"AWS::ElastiCache::ReplicationGroup":        priceReplicationGroup,
	"AWS::ElastiCache::CacheCluster":            priceCacheCluster,
	"AWS::Logs::LogGroup":                       priceLogGroup,
	"AWS::EC2::FlowLog":                         priceFlowLog,
	"AWS::CloudWatch::Alarm":                    priceAlarm,
	"AWS::CloudWatch::CompositeAlarm":           fixed(KindMonitor, "composite-alarm-month", "composite alarm"),
	"AWS::CloudWatch::Dashboard":                fixed(KindMonitor, "dashboard-month", "dashboard"),
	"AWS::SecretsManager::Secret":               fixed(KindSecrets, "secret-month", "secret"),
	"AWS::KMS::Key":                             fixed(KindSecrets, "kms-key-month", "customer managed key"),
	"AWS::Route53::HostedZone":                  fixed(KindOther, "route53-hosted-zone-month", "hosted zone"),
	"AWS::Lambda::Function":                     priceFunction,
	"AWS::S3::Bucket":                           priceBucket,
	"AWS::CloudFront::Distribution":             priceDistribution,
	"AWS::SES::EmailIdentity":                   priceEmailIdentity,
	"AWS::SSM::Parameter":                       priceParameter,
}

// templateIndex is what pricers look up in a resource's template.
type templateIndex struct {
	t assembly.Template
	// serviceLogGroups are the log groups written by tasks of services
	// (priced with the service).
	serviceLogGroups map[string]bool
	// flowLogGroups are the log groups written by flow logs (priced with
	// the flow log).
	flowLogGroups map[string]bool
	// maxTasks is the scaling maximum of a service, by its logical id.
	maxTasks map[string]float64
}

func indexTemplate(t assembly.Template) *templateIndex {
	idx := &templateIndex{t: t, serviceLogGroups: map[string]bool{}, flowLogGroups: map[string]bool{}, maxTasks: map[string]float64{}}
	for _, r := range t.Resources {
		switch r.Type {
		case "AWS::ECS::Service":
			if td, ok := t.Resources[assembly.RefTo(r.Properties["TaskDefinition"])]; ok {
				for _, g := range taskLogGroups(td) {
					idx.serviceLogGroups[g] = true
				}
			}
		case "AWS::EC2::FlowLog":
			if g := assembly.RefTo(r.Properties["LogGroupName"]); g != "" {
				idx.flowLogGroups[g] = true
			}
		case "AWS::ApplicationAutoScaling::ScalableTarget":
			max, ok := number(r.Properties["MaxCapacity"])
			if !ok {
				continue
			}
			for _, ref := range refsIn(r.Properties["ResourceId"]) {
				if s, ok := t.Resources[ref]; ok && s.Type == "AWS::ECS::Service" {
					idx.maxTasks[ref] = max
				}
			}
		}
	}
	return idx
}

// taskLogGroups are the logical ids of the log groups a task definition's
// containers write to (awslogs), each once: containers that share a group
// (a component and its collector) are one stream of the task's logs.
func taskLogGroups(td assembly.Resource) []string {
	var out []string
	seen := map[string]bool{}
	defs, _ := td.Properties["ContainerDefinitions"].([]any)
	for _, d := range defs {
		m, _ := d.(map[string]any)
		lc, _ := m["LogConfiguration"].(map[string]any)
		opts, _ := lc["Options"].(map[string]any)
		if g := assembly.RefTo(opts["awslogs-group"]); g != "" && !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

// taskSize reads a Fargate task definition: vCPUs, GB of memory and the CPU
// architecture's price suffix (arm64 or x86_64).
func taskSize(td assembly.Resource) (vcpu, gb float64, arch string, err error) {
	if td.Type != "AWS::ECS::TaskDefinition" {
		return 0, 0, "", fmt.Errorf("its task definition is not an AWS::ECS::TaskDefinition of the same template")
	}
	cpu, ok1 := number(td.Properties["Cpu"])
	mem, ok2 := number(td.Properties["Memory"])
	if !ok1 || !ok2 {
		return 0, 0, "", fmt.Errorf("the task definition's Cpu and Memory must be literal numbers, got %v and %v", td.Properties["Cpu"], td.Properties["Memory"])
	}
	if compat, _ := td.Properties["RequiresCompatibilities"].([]any); len(compat) > 0 && !containsString(compat, "FARGATE") {
		return 0, 0, "", fmt.Errorf("only Fargate tasks are priced, RequiresCompatibilities is %v", compat)
	}
	arch = "x86_64"
	if rp, _ := td.Properties["RuntimePlatform"].(map[string]any); rp != nil {
		if os, _ := rp["OperatingSystemFamily"].(string); os != "" && os != "LINUX" {
			return 0, 0, "", fmt.Errorf("only Linux tasks are priced, OperatingSystemFamily is %s", os)
		}
		switch a, _ := rp["CpuArchitecture"].(string); a {
		case "ARM64":
			arch = "arm64"
		case "", "X86_64":
		default:
			return 0, 0, "", fmt.Errorf("unknown CpuArchitecture %q", a)
		}
	}
	return cpu / 1024, mem / 1024, arch, nil
}

// taskHour is the cost of one task-hour of a task definition.
func taskHour(p *pricing, td assembly.Resource) (float64, string, error) {
	vcpu, gb, arch, err := taskSize(td)
	if err != nil {
		return 0, "", err
	}
	c1, err := p.cost("fargate-vcpu-hour-"+arch, vcpu)
	if err != nil {
		return 0, "", err
	}
	c2, err := p.cost("fargate-gb-hour-"+arch, gb)
	if err != nil {
		return 0, "", err
	}
	return c1 + c2, fmt.Sprintf("%g vCPU, %g GB, %s", vcpu, gb, strings.ToUpper(arch)), nil
}

func priceService(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	if lt, _ := r.Properties["LaunchType"].(string); lt != "" && lt != "FARGATE" {
		return nil, fmt.Errorf("only Fargate services are priced, LaunchType is %s", lt)
	}
	td, ok := idx.t.Resources[assembly.RefTo(r.Properties["TaskDefinition"])]
	if !ok {
		return nil, fmt.Errorf("its TaskDefinition must be a Ref to a task definition of the same template, got %v", r.Properties["TaskDefinition"])
	}
	tasks := 1.0 // CloudFormation's default DesiredCount
	if v, present := r.Properties["DesiredCount"]; present {
		n, ok := number(v)
		if !ok {
			return nil, fmt.Errorf("DesiredCount must be a literal number, got %v", v)
		}
		tasks = n
	}
	maxTasks := tasks
	if m, ok := idx.maxTasks[id]; ok && m > tasks {
		maxTasks = m
	}
	hour, size, err := taskHour(p, td)
	if err != nil {
		return nil, err
	}
	h := p.hours()
	lines := []Line{{Kind: KindTasks, What: fmt.Sprintf("%g tasks (up to %g) x (%s) x %g h", tasks, maxTasks, size, h), Monthly: tasks * hour * h, Ceiling: maxTasks * hour * h}}
	if tasks == maxTasks {
		lines[0].What = fmt.Sprintf("%g tasks x (%s) x %g h", tasks, size, h)
	}
	// The logs of its tasks, in the groups they write to.
	for _, g := range taskLogGroups(td) {
		gb := p.assume("log-gb-per-task-month")
		per, months, err := logGB(p, idx, g, "logs-ingestion-gb")
		if err != nil {
			return nil, err
		}
		lines = append(lines, Line{Kind: KindLogs, What: fmt.Sprintf("%g tasks x %g GB/month, held %g months", tasks, gb, round(months, 1)), Monthly: tasks * gb * per, Ceiling: maxTasks * gb * per})
	}
	// The custom metrics its collectors publish.
	metrics, names, err := collectorMetrics(p, td)
	if err != nil {
		return nil, err
	}
	if metrics > 0 {
		c, err := p.cost("custom-metric-month", metrics)
		if err != nil {
			return nil, err
		}
		lines = append(lines, Line{Kind: KindMonitor, What: fmt.Sprintf("%g custom metrics from its collectors (%s)", metrics, names), Monthly: c, Ceiling: c})
	}
	return lines, nil
}

// logGB returns the cost of one GB a month written to log group g:
// ingestion (price key ingest) plus storage over its retention.
func logGB(p *pricing, idx *templateIndex, g, ingest string) (perGB, months float64, err error) {
	lg, ok := idx.t.Resources[g]
	if !ok || lg.Type != "AWS::Logs::LogGroup" {
		return 0, 0, fmt.Errorf("its log group %s is not a log group of the same template", g)
	}
	if v, present := lg.Properties["RetentionInDays"]; present {
		days, ok := number(v)
		if !ok {
			return 0, 0, fmt.Errorf("RetentionInDays of %s must be a literal number", g)
		}
		months = days * 12 / 365
	} else {
		months = p.assume("log-retention-months-never-expire")
	}
	in, err := p.cost(ingest, 1)
	if err != nil {
		return 0, 0, err
	}
	store, err := p.cost("logs-storage-gb-month", months)
	if err != nil {
		return 0, 0, err
	}
	return in + store, months, nil
}

func priceLogGroup(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	if idx.serviceLogGroups[id] || idx.flowLogGroups[id] {
		return nil, nil // priced with the services or flow logs that write it
	}
	gb := p.assume("log-gb-per-other-group-month")
	per, months, err := logGB(p, idx, id, "logs-ingestion-gb")
	if err != nil {
		return nil, err
	}
	return []Line{{Kind: KindLogs, What: fmt.Sprintf("%g GB/month, held %g months", gb, round(months, 1)), Monthly: gb * per}}, nil
}

func priceFlowLog(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	gb := p.assume("flow-log-gb-month")
	if dest, _ := r.Properties["LogDestinationType"].(string); dest != "" && dest != "cloud-watch-logs" {
		return nil, fmt.Errorf("only flow logs to CloudWatch Logs are priced, LogDestinationType is %s", dest)
	}
	g := assembly.RefTo(r.Properties["LogGroupName"])
	per, months, err := logGB(p, idx, g, "logs-vended-gb")
	if err != nil {
		return nil, err
	}
	return []Line{{Kind: KindLogs, What: fmt.Sprintf("VPC flow log, %g GB/month, held %g months", gb, round(months, 1)), Monthly: gb * per}}, nil
}

var rateExpr = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// priceRule prices the ECS tasks a scheduled rule runs; the rule itself
// has no charge.
func priceRule(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	targets, _ := r.Properties["Targets"].([]any)
	var lines []Line
	for _, tg := range targets {
		m, _ := tg.(map[string]any)
		ecs, _ := m["EcsParameters"].(map[string]any)
		if ecs == nil {
			continue
		}
		schedule, _ := r.Properties["ScheduleExpression"].(string)
		var runs float64
		switch sm := rateExpr.FindStringSubmatch(schedule); {
		case sm != nil:
			n, _ := strconv.ParseFloat(sm[1], 64)
			perUnit := map[string]float64{"minute": 60, "hour": 1, "day": 1.0 / 24}[strings.TrimSuffix(sm[2], "s")]
			runs = p.hours() * perUnit / n
		case strings.HasPrefix(schedule, "cron("):
			runs = p.assume("scheduled-runs-month-cron")
		default:
			return nil, fmt.Errorf("the rule runs an ECS task on %q, which is not a schedule the estimate reads (rate(...) or cron(...))", schedule)
		}
		td, ok := idx.t.Resources[assembly.RefTo(ecs["TaskDefinitionArn"])]
		if !ok {
			return nil, fmt.Errorf("its ECS target's TaskDefinitionArn must be a Ref to a task definition of the same template")
		}
		count := 1.0
		if v, present := ecs["TaskCount"]; present {
			if n, ok := number(v); ok {
				count = n
			}
		}
		hour, size, err := taskHour(p, td)
		if err != nil {
			return nil, err
		}
		minutes := p.assume("scheduled-task-minutes-per-run")
		lines = append(lines, Line{Kind: KindTasks, What: fmt.Sprintf("scheduled: %g runs x %g task(s) x %g min (%s)", round(runs, 1), count, minutes, size), Monthly: runs * count * minutes / 60 * hour})
	}
	return lines, nil
}

func priceNAT(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	if ct, _ := r.Properties["ConnectivityType"].(string); ct == "private" {
		return nil, fmt.Errorf("private NAT gateways are not priced")
	}
	hours, err := p.cost("nat-gateway-hour", p.hours())
	if err != nil {
		return nil, err
	}
	gb := p.assume("nat-gb-per-gateway-month")
	data, err := p.cost("nat-gateway-gb", gb)
	if err != nil {
		return nil, err
	}
	return []Line{{Kind: KindNAT, What: fmt.Sprintf("NAT gateway x %g h + %g GB", p.hours(), gb), Monthly: hours + data}}, nil
}

func priceEIP(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	c, err := p.cost("public-ipv4-hour", p.hours())
	if err != nil {
		return nil, err
	}
	return []Line{{Kind: KindIPv4, What: fmt.Sprintf("Elastic IP x %g h", p.hours()), Monthly: c}}, nil
}

func priceLoadBalancer(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	typ, _ := r.Properties["Type"].(string)
	var prefix string
	switch typ {
	case "network":
		prefix = "nlb"
	case "", "application":
		prefix = "alb"
	default:
		return nil, fmt.Errorf("load balancers of type %s are not priced", typ)
	}
	hours, err := p.cost(prefix+"-hour", p.hours())
	if err != nil {
		return nil, err
	}
	lcu := p.assume("nlb-lcu-per-hour")
	lcus, err := p.cost(prefix+"-lcu-hour", lcu*p.hours())
	if err != nil {
		return nil, err
	}
	lines := []Line{{Kind: KindLB, What: fmt.Sprintf("%s load balancer x %g h + %g LCU", strings.ToUpper(prefix), p.hours(), lcu), Monthly: hours + lcus}}
	// An internet-facing load balancer without Elastic IPs holds a public
	// IPv4 address of AWS per zone.
	if scheme, _ := r.Properties["Scheme"].(string); scheme != "internal" {
		if _, mapped := r.Properties["SubnetMappings"]; !mapped {
			subnets, _ := r.Properties["Subnets"].([]any)
			if n := float64(len(subnets)); n > 0 {
				c, err := p.cost("public-ipv4-hour", n*p.hours())
				if err != nil {
					return nil, err
				}
				lines = append(lines, Line{Kind: KindIPv4, What: fmt.Sprintf("%g public IPv4 addresses of the load balancer x %g h", n, p.hours()), Monthly: c})
			}
		}
	}
	return lines, nil
}

func priceDBCluster(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	if engine, _ := r.Properties["Engine"].(string); !strings.HasPrefix(engine, "aurora") {
		return nil, fmt.Errorf("only Aurora clusters are priced, Engine is %v", r.Properties["Engine"])
	}
	if st, _ := r.Properties["StorageType"].(string); st != "" && st != "aurora" {
		return nil, fmt.Errorf("only Aurora Standard storage is priced, StorageType is %s", st)
	}
	gb := p.assume("database-storage-gb")
	io := p.assume("database-io-million-month")
	s, err := p.cost("aurora-storage-gb-month", gb)
	if err != nil {
		return nil, err
	}
	i, err := p.cost("aurora-io-million", io)
	if err != nil {
		return nil, err
	}
	return []Line{{Kind: KindDatabase, What: fmt.Sprintf("Aurora storage %g GB + %g million I/O", gb, io), Monthly: s + i}}, nil
}

// priceDBInstance prices an Aurora Serverless v2 instance at its cluster's
// minimum capacity all month (the floor), its ceiling at the maximum.
func priceDBInstance(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	class, _ := r.Properties["DBInstanceClass"].(string)
	if class != "db.serverless" {
		return nil, fmt.Errorf("only Aurora Serverless v2 instances (db.serverless) are priced, DBInstanceClass is %v", r.Properties["DBInstanceClass"])
	}
	cluster, ok := idx.t.Resources[assembly.RefTo(r.Properties["DBClusterIdentifier"])]
	if !ok {
		return nil, fmt.Errorf("its DBClusterIdentifier must be a Ref to a cluster of the same template")
	}
	sc, _ := cluster.Properties["ServerlessV2ScalingConfiguration"].(map[string]any)
	lo, ok1 := number(sc["MinCapacity"])
	hi, ok2 := number(sc["MaxCapacity"])
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("its cluster's ServerlessV2ScalingConfiguration must give literal MinCapacity and MaxCapacity")
	}
	floor, err := p.cost("aurora-serverless-v2-acu-hour", lo*p.hours())
	if err != nil {
		return nil, err
	}
	ceiling, _ := p.rate("aurora-serverless-v2-acu-hour")
	return []Line{{Kind: KindDatabase, What: fmt.Sprintf("Serverless v2 instance, %g ACU (up to %g) x %g h", lo, hi, p.hours()), Monthly: floor, Ceiling: ceiling * hi * p.hours()}}, nil
}

func cacheNodes(p *pricing, nodeType string, nodes float64) ([]Line, error) {
	c, err := p.cost("elasticache-node-hour:"+nodeType, nodes*p.hours())
	if err != nil {
		return nil, err
	}
	return []Line{{Kind: KindCache, What: fmt.Sprintf("%g x %s x %g h", nodes, nodeType, p.hours()), Monthly: c}}, nil
}

func priceReplicationGroup(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	nodeType, _ := r.Properties["CacheNodeType"].(string)
	if nodeType == "" {
		return nil, fmt.Errorf("CacheNodeType must be a literal")
	}
	var nodes float64
	if n, ok := number(r.Properties["NumCacheClusters"]); ok {
		nodes = n
	} else {
		groups, ok := number(r.Properties["NumNodeGroups"])
		if !ok {
			groups = 1
		}
		replicas, ok := number(r.Properties["ReplicasPerNodeGroup"])
		if !ok {
			return nil, fmt.Errorf("give NumCacheClusters, or ReplicasPerNodeGroup (and NumNodeGroups), as literal numbers")
		}
		nodes = groups * (replicas + 1)
	}
	return cacheNodes(p, nodeType, nodes)
}

func priceCacheCluster(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	nodeType, _ := r.Properties["CacheNodeType"].(string)
	nodes, ok := number(r.Properties["NumCacheNodes"])
	if nodeType == "" || !ok {
		return nil, fmt.Errorf("CacheNodeType and NumCacheNodes must be literals")
	}
	return cacheNodes(p, nodeType, nodes)
}

// priceAlarm counts the metrics an alarm watches: one for a single-metric
// alarm, one per metric of a metric-math alarm (expressions are free).
func priceAlarm(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	metrics := 1.0
	highRes := false
	if list, ok := r.Properties["Metrics"].([]any); ok {
		metrics = 0
		for _, m := range list {
			mm, _ := m.(map[string]any)
			if stat, ok := mm["MetricStat"].(map[string]any); ok {
				metrics++
				if period, ok := number(stat["Period"]); ok && period < 60 {
					highRes = true
				}
			}
		}
	} else if period, ok := number(r.Properties["Period"]); ok && period < 60 {
		highRes = true
	}
	key, what := "alarm-metric-month", "alarm"
	if highRes {
		key, what = "alarm-high-resolution-metric-month", "high-resolution alarm"
	}
	c, err := p.cost(key, metrics)
	if err != nil {
		return nil, err
	}
	return []Line{{Kind: KindMonitor, What: fmt.Sprintf("%s, %g metric(s)", what, metrics), Monthly: c}}, nil
}

// fixed prices a resource at one unit of a monthly price.
func fixed(kind, key, what string) pricer {
	return func(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
		c, err := p.cost(key, 1)
		if err != nil {
			return nil, err
		}
		return []Line{{Kind: kind, What: what, Monthly: c}}, nil
	}
}

func priceFunction(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	arch := "x86_64"
	if list, _ := r.Properties["Architectures"].([]any); containsString(list, "arm64") {
		arch = "arm64"
	}
	mb := 128.0
	if v, present := r.Properties["MemorySize"]; present {
		n, ok := number(v)
		if !ok {
			return nil, fmt.Errorf("MemorySize must be a literal number")
		}
		mb = n
	}
	calls := p.assume("lambda-invocations-month")
	secs := p.assume("lambda-seconds-per-invocation")
	compute, err := p.cost("lambda-gb-second-"+arch, calls*secs*mb/1024)
	if err != nil {
		return nil, err
	}
	reqs, err := p.cost("lambda-million-requests", calls/1e6)
	if err != nil {
		return nil, err
	}
	return []Line{{Kind: KindFunctions, What: fmt.Sprintf("%g invocations x %g s x %g MB, %s", calls, secs, mb, arch), Monthly: compute + reqs}}, nil
}

func priceBucket(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	gb := p.assume("bucket-gb")
	c, err := p.cost("s3-standard-gb-month", gb)
	if err != nil {
		return nil, err
	}
	return []Line{{Kind: KindStorage, What: fmt.Sprintf("S3 Standard, %g GB", gb), Monthly: c}}, nil
}

func priceDistribution(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	gb := p.assume("cdn-gb-out-month")
	c, err := p.cost("cloudfront-gb-out", gb)
	if err != nil {
		return nil, err
	}
	return []Line{{Kind: KindStorage, What: fmt.Sprintf("CloudFront, %g GB out", gb), Monthly: c}}, nil
}

func priceEmailIdentity(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	n := p.assume("emails-month")
	c, err := p.cost("ses-thousand-messages", n/1000)
	if err != nil {
		return nil, err
	}
	return []Line{{Kind: KindOther, What: fmt.Sprintf("SES, %g messages", n), Monthly: c}}, nil
}

// priceParameter: standard parameters are free, advanced ones are not.
func priceParameter(p *pricing, idx *templateIndex, id string, r assembly.Resource) ([]Line, error) {
	switch tier, _ := r.Properties["Tier"].(string); tier {
	case "", "Standard":
		return nil, nil
	case "Advanced":
		c, err := p.cost("ssm-advanced-parameter-month", 1)
		if err != nil {
			return nil, err
		}
		return []Line{{Kind: KindOther, What: "advanced parameter", Monthly: c}}, nil
	default:
		return nil, fmt.Errorf("parameter tier %q is not priced (Intelligent-Tiering may make it advanced); use Standard or Advanced", tier)
	}
}

// rate returns a price without counting it (for ceilings).
func (p *pricing) rate(key string) (float64, bool) {
	v, ok := p.region.Prices[key]
	return v, ok
}

// refsIn returns every logical id referenced anywhere in v.
func refsIn(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if id := assembly.RefTo(x); id != "" && len(x) == 1 {
				out = append(out, id)
				return
			}
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// number reads a literal number of a template (JSON number or numeric
// string).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func containsString(list []any, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
