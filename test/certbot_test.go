package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/stacks"
)

// proxyOn and proxyOff are combinations of combos(), so that their synthesis
// is shared with the other tests.
func proxyOn() map[string]string  { return combo{proxyTLS: true, interop: true}.overrides() }
func proxyOff() map[string]string { return combo{proxyTLS: false, interop: true}.overrides() }

// certbotTask returns the task definition with the certbot container.
func certbotTask(tpl Template) (string, Resource, map[string]any) {
	for id, r := range tpl.OfType("AWS::ECS::TaskDefinition") {
		for _, d := range asList(get(r.Properties, "ContainerDefinitions")) {
			if m, _ := d.(map[string]any); m["Name"] == "certbot" {
				return id, r, m
			}
		}
	}
	return "", Resource{}, nil
}

func TestCertbotTaskInProxyMode(t *testing.T) {
	a := synthOnce(t, proxyOn())
	tpl := a.Stack(t, "Services")
	taskID, task, c := certbotTask(tpl)
	if c == nil {
		t.Fatal("no task definition with a certbot container")
	}
	env := map[string]string{}
	for _, e := range asList(c["Environment"]) {
		env[get(e, "Name").(string)] = jsonText(get(e, "Value"))
	}
	p := a.Params
	for k, want := range map[string]string{
		"CERT_DOMAIN": `"` + p.DomainName + `"`, "CERT_WILDCARD": `"true"`, "ACME_EMAIL": `"` + p.AcmeEmail + `"`,
		"ACME_SERVER": `"production"`, "RENEW_BEFORE_DAYS": `"30"`, "AWS_REGION": `"` + p.Region + `"`,
		"CERT_METRIC_NAMESPACE": `"TTS/Certificates"`,
	} {
		if env[k] != want {
			t.Errorf("%s = %s, want %s", k, env[k], want)
		}
	}
	for k, name := range map[string]string{"CERT_SECRET_ID": "proxy-certificate", "ACME_ACCOUNT_SECRET_ID": "acme-account"} {
		if want := `"` + p.StackPrefix + "/tts/" + name + `"`; env[k] != want {
			t.Errorf("%s = %s, want the Data stack's secret %s", k, env[k], want)
		}
	}
	if img := jsonText(c["Image"]); !strings.Contains(img, "cdk-hnb659fds-container-assets") {
		t.Errorf("image %s, want the CDK asset built from certbot/Dockerfile", img)
	}
	if logs := jsonText(get(c, "LogConfiguration", "Options", "awslogs-group")); !strings.Contains(logs, "CertbotLogs") {
		t.Errorf("log group %s, want CertbotLogs", logs)
	}
	_, _ = taskID, task

	rules := tpl.OfType("AWS::Events::Rule")
	var scheduled int
	for _, r := range rules {
		if get(r.Properties, "ScheduleExpression") == "rate(12 hours)" {
			scheduled++
			tgt := get(r.Properties, "Targets", "0")
			if !strings.Contains(jsonText(get(tgt, "EcsParameters", "TaskDefinitionArn")), taskID) {
				t.Errorf("schedule target %s does not run the certbot task", jsonText(tgt))
			}
			if !strings.Contains(jsonText(get(tgt, "EcsParameters", "NetworkConfiguration")), "Tasksinternal") {
				t.Errorf("schedule target is not in the internal security group: %s", jsonText(get(tgt, "EcsParameters")))
			}
		}
	}
	if scheduled != 1 {
		t.Errorf("%d schedules of rate(12 hours), want 1", scheduled)
	}

	crs := tpl.OfType("Custom::CertbotRun")
	if len(crs) != 1 {
		t.Fatalf("%d Custom::CertbotRun, want 1", len(crs))
	}
	var crID string
	for id, r := range crs {
		crID = id
		if get(r.Properties, "Container") != "certbot" || !strings.Contains(jsonText(get(r.Properties, "TaskDefinition")), taskID) {
			t.Errorf("the first run does not run the certbot container of %s: %s", taskID, jsonText(r.Properties))
		}
	}
	id, svc, _, _ := proxyService(t, tpl)
	if !strings.Contains(jsonText(svc.DependsOn), crID) {
		t.Errorf("the proxy %s does not depend on the first Certbot run %s: %s", id, crID, jsonText(svc.DependsOn))
	}
}

func TestCertbotIAMIsLeastPrivilege(t *testing.T) {
	a := synthOnce(t, proxyOn())
	tpl := a.Stack(t, "Services")
	var changes int
	for pid, pol := range tpl.OfType("AWS::IAM::Policy") {
		for _, st := range asList(get(pol.Properties, "PolicyDocument", "Statement")) {
			actions := jsonText(get(st, "Action"))
			res := jsonText(get(st, "Resource"))
			if strings.Contains(actions, "route53:*") || strings.Contains(actions, `"*"`) {
				t.Errorf("%s: wildcard action %s", pid, actions)
			}
			if strings.Contains(actions, "route53:") && res == `"*"` && actions != `"route53:ListHostedZones"` {
				t.Errorf("%s: %s on *", pid, actions)
			}
			if strings.Contains(actions, "ChangeResourceRecordSets") {
				changes++
				if res != `"arn:aws:route53:::hostedzone/`+a.Params.HostedZoneId+`"` {
					t.Errorf("ChangeResourceRecordSets on %s, want the hosted zone only", res)
				}
				cond := jsonText(get(st, "Condition", "ForAllValues:StringEquals"))
				if !hasAll(cond, `"route53:ChangeResourceRecordSetsRecordTypes":["TXT"]`, `"route53:ChangeResourceRecordSetsNormalizedRecordNames":["_acme-challenge.`+a.Params.DomainName+`"]`) {
					t.Errorf("ChangeResourceRecordSets conditions %s, want TXT records of _acme-challenge.%s only", cond, a.Params.DomainName)
				}
			}
			if strings.Contains(actions, "cloudwatch:PutMetricData") && !strings.Contains(jsonText(get(st, "Condition")), "TTS/Certificates") {
				t.Errorf("PutMetricData without the namespace condition")
			}
			if strings.Contains(actions, "secretsmanager:PutSecretValue") && strings.Contains(pid, "Certbot") && !hasAll(res, "/tts/proxy-certificate-??????", "/tts/acme-account-??????") {
				t.Errorf("%s: the Certbot task writes %s, want its two secrets", pid, res)
			}
		}
	}
	if changes != 1 {
		t.Errorf("%d statements allow ChangeResourceRecordSets, want 1", changes)
	}
}

// The alarm topic and the target group alarms exist in both TLS modes; the
// Certbot alarms in proxy TLS mode. Every target group of the deployment (in
// the Services and IdentityServer stacks) has an UnHealthyHostCount alarm
// whose dimensions are that target group's and the load balancer's full
// names, followed across stacks to the resources that produce them.
func TestAlarms(t *testing.T) {
	for _, on := range []bool{false, true} {
		overrides := proxyOff()
		if on {
			overrides = proxyOn()
		}
		a := synthOnce(t, overrides)
		tpl := a.Stack(t, "Services")
		_, topic := only(t, tpl, "AWS::SNS::Topic")
		if !strings.Contains(jsonText(get(topic.Properties, "KmsMasterKeyId")), "alias/"+a.Params.StackPrefix+"-alarms") {
			t.Errorf("proxy TLS %v: alarm topic is not encrypted with the alarm key: %s", on, jsonText(topic.Properties))
		}
		groups := map[string]bool{}
		for _, stack := range []string{"Services", "IdentityServer"} {
			for id := range a.Stack(t, stack).OfType("AWS::ElasticLoadBalancingV2::TargetGroup") {
				groups[a.Params.StackName(stack)+"/"+id] = true
			}
		}
		var expiry, failure int
		alarmed := map[string]bool{}
		for id, al := range tpl.OfType("AWS::CloudWatch::Alarm") {
			if !strings.Contains(jsonText(get(al.Properties, "AlarmActions")), "Alarms") {
				t.Errorf("%s does not notify the alarm topic", id)
			}
			metricName := get(al.Properties, "MetricName")
			if get(al.Properties, "Namespace") != stacks.CertMetricNamespace && metricName != "UnHealthyHostCount" {
				continue
			}
			switch metricName {
			case "DaysToExpiry":
				expiry++
				if get(al.Properties, "Threshold") != 14.0 || get(al.Properties, "TreatMissingData") != "breaching" || get(al.Properties, "ComparisonOperator") != "LessThanThreshold" {
					t.Errorf("expiry alarm %s", jsonText(al.Properties))
				}
			case "RenewalFailure":
				failure++
			case "UnHealthyHostCount":
				dims := namedValues(get(al.Properties, "Dimensions"), "Value")
				stack, tg := a.Params.StackName("Services"), dims["TargetGroup"]
				if s, v, ok := stackOutput(a, tg); ok {
					stack, tg = s, v
				}
				if ga, _ := get(tg, "Fn::GetAtt").([]any); len(ga) != 2 || ga[1] != "TargetGroupFullName" {
					t.Errorf("%s: TargetGroup dimension %s is not a target group's full name", id, jsonText(dims["TargetGroup"]))
				}
				alarmed[stack+"/"+refTo(tg)] = true
				if _, lb, ok := stackOutput(a, dims["LoadBalancer"]); !ok || !strings.Contains(jsonText(lb), "LoadBalancerFullName") {
					t.Errorf("%s: LoadBalancer dimension %s is not the load balancer's full name", id, jsonText(dims["LoadBalancer"]))
				}
			}
		}
		if fmt.Sprint(alarmed) != fmt.Sprint(groups) {
			t.Errorf("proxy TLS %v: target groups with an unhealthy-host alarm %v, want every target group %v", on, alarmed, groups)
		}
		want := 0
		if on {
			want = 1
		}
		if expiry != want || failure != want {
			t.Errorf("proxy TLS %v: %d expiry and %d renewal failure alarms, want %d of each", on, expiry, failure, want)
		}
	}
}

func TestNoCertbotWithoutProxyTLS(t *testing.T) {
	tpl := synthOnce(t, proxyOff()).Stack(t, "Services")
	if _, _, c := certbotTask(tpl); c != nil {
		t.Error("a Certbot task exists although the load balancer terminates TLS")
	}
	for _, typ := range []string{"AWS::Events::Rule", "Custom::CertbotRun"} {
		if n := len(tpl.OfType(typ)); n != 0 {
			t.Errorf("%d %s without SupportProxyTLS, want 0", n, typ)
		}
	}
	// The certificate secret and the Certbot log group exist in both modes.
	data := synthOnce(t, proxyOff()).Stack(t, "Data")
	if !strings.Contains(data.Raw, "/tts/proxy-certificate") {
		t.Error("the Data stack has no proxy-certificate secret without SupportProxyTLS; flipping the mode would remove it")
	}
}

func TestCertbotScheduleRoleRunsOnlyTheCertbotTask(t *testing.T) {
	tpl := synthOnce(t, proxyOn()).Stack(t, "Services")
	taskID, task, _ := certbotTask(tpl)
	taskRole, executionRole := refTo(get(task.Properties, "TaskRoleArn")), refTo(get(task.Properties, "ExecutionRoleArn"))
	if taskRole == "" || executionRole == "" {
		t.Fatalf("the Certbot task definition names no task role or execution role: %v", task.Properties)
	}
	found := false
	for id, pol := range tpl.OfType("AWS::IAM::Policy") {
		if !strings.Contains(id, "CertbotTaskEventsRole") {
			continue
		}
		found = true
		for _, st := range asList(get(pol.Properties, "PolicyDocument", "Statement")) {
			actions, res := jsonText(get(st, "Action")), jsonText(get(st, "Resource"))
			switch actions {
			case `"ecs:RunTask"`:
				if !strings.Contains(res, taskID) {
					t.Errorf("the schedule may run %s, want the Certbot task definition only", res)
				}
			case `"iam:PassRole"`:
				if !hasAll(res, taskRole, executionRole) || strings.Count(res, "Arn") != 2 {
					t.Errorf("the schedule may pass %s, want the Certbot task's two roles", res)
				}
			case `"ecs:TagResource"`:
			default:
				t.Errorf("the schedule's role may also %s on %s", actions, res)
			}
		}
	}
	if !found {
		t.Error("no policy of the schedule's role")
	}
}
