package test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/ttsservice"
	"github.com/lorawan-stack-aws/tts-ecs/stacks"
)

func opsOff() map[string]string { return map[string]string{"OpsAccess": "false"} }

// ecsService is an ECS service of a template with its task definition.
type ecsService struct {
	stack, id string
	service   Resource
	task      Resource
	// tts: the task runs The Things Stack (its main container's entry point
	// is ttn-lw-stack).
	tts bool
	// taskRole is the logical id of the task role.
	taskRole string
}

// ecsServices reads every ECS service of the assembly and tells, from its
// task definition, whether it runs The Things Stack.
func ecsServices(t *testing.T, a *Assembly) []ecsService {
	t.Helper()
	var out []ecsService
	for name, tpl := range a.Templates {
		for id, r := range tpl.OfType("AWS::ECS::Service") {
			taskID := refTo(r.Properties["TaskDefinition"])
			task, ok := tpl.Resources[taskID]
			if !ok {
				t.Fatalf("%s/%s: task definition %v not in the stack", name, id, r.Properties["TaskDefinition"])
			}
			s := ecsService{stack: name, id: id, service: r, task: task, taskRole: refTo(task.Properties["TaskRoleArn"])}
			for _, c := range task.Properties["ContainerDefinitions"].([]any) {
				if get(c, "Name") == ttsservice.MainContainer && jsonText(get(c, "EntryPoint")) == jsonText([]string{ttsservice.Binary}) {
					s.tts = true
				}
			}
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].stack+out[i].id < out[j].stack+out[j].id })
	return out
}

// rolePolicies returns the policy statements attached to a role of a stack
// (its inline policies and the AWS::IAM::Policy resources naming it).
func rolePolicies(tpl Template, role string) []any {
	var out []any
	for _, r := range tpl.OfType("AWS::IAM::Policy") {
		for _, ref := range oneOrMany(r.Properties["Roles"]) {
			if refTo(ref) == role {
				out = append(out, get(r.Properties, "PolicyDocument", "Statement").([]any)...)
			}
		}
	}
	for _, p := range oneOrMany(get(tpl.Resources[role].Properties, "Policies")) {
		out = append(out, oneOrMany(get(p, "PolicyDocument", "Statement"))...)
	}
	return out
}

// oneOrMany reads a policy element that is a value or a list of values.
func oneOrMany(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	default:
		return []any{x}
	}
}

// statementWith returns the statements that allow action.
func statementsWith(statements []any, action string) []any {
	var out []any
	for _, s := range statements {
		for _, a := range oneOrMany(get(s, "Action")) {
			if a == action {
				out = append(out, s)
			}
		}
	}
	return out
}

// With OpsAccess (the default), in both TLS modes and with the Packet Broker
// Agent: every service whose task runs The Things Stack (read from the task
// definitions, not from a list) accepts ECS Exec, runs under an init process
// and its task role may open the session channels, write the session log
// and decrypt the session key, nothing more; the proxy does not. The
// cluster encrypts and logs the sessions to the Data stack's encrypted,
// retained log group, and the operators' policy is scoped to the cluster.
func TestOpsAccessOnEveryServiceOfTheThingsStack(t *testing.T) {
	for _, set := range []map[string]string{nil, proxyOn(), pbaOn} {
		a := synthOnce(t, set)
		cols, _ := collectors(t, a)
		collectorLogs := map[string]bool{}
		for _, c := range cols {
			collectorLogs[c.logGroup] = true
		}
		p := a.Params
		logGroup := stacks.OpsSessionLogGroupName(p.StackPrefix)
		logGroupArn := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", p.Region, p.Account, logGroup)
		keyRef := jsonText(map[string]any{"Fn::GetStackOutput": map[string]any{"StackName": p.StackName("Data"), "OutputName": stacks.OpsAccessKeyOutput}})

		// The Data stack's key and log group.
		data := a.Stack(t, "Data")
		logsID, logs := "", Resource{}
		for id, r := range data.OfType("AWS::Logs::LogGroup") {
			if r.Properties["LogGroupName"] == logGroup {
				logsID, logs = id, r
			}
		}
		if logsID == "" {
			t.Fatalf("%s: no log group %s in the Data stack", canonical(set), logGroup)
		}
		keyID := refTo(logs.Properties["KmsKeyId"])
		key, ok := data.Resources[keyID]
		if !ok || key.Type != "AWS::KMS::Key" {
			t.Fatalf("%s: the session log group is not encrypted with a key of the Data stack: %v", canonical(set), logs.Properties["KmsKeyId"])
		}
		if logs.DeletionPolicy != "RetainExceptOnCreate" || key.DeletionPolicy != "RetainExceptOnCreate" || key.Properties["EnableKeyRotation"] != true {
			t.Errorf("%s: log group %s and key %s: deletion policies %q, %q, rotation %v; want both retained, rotation on", canonical(set), logsID, keyID, logs.DeletionPolicy, key.DeletionPolicy, key.Properties["EnableKeyRotation"])
		}
		if got := logs.Properties["RetentionInDays"]; got != float64(p.LogRetentionDays) {
			t.Errorf("%s: session log retention %v, want %d (LogRetentionDays)", canonical(set), got, p.LogRetentionDays)
		}
		var logsMayUse bool
		for _, s := range get(key.Properties, "KeyPolicy", "Statement").([]any) {
			if get(s, "Principal", "Service") == fmt.Sprintf("logs.%s.amazonaws.com", p.Region) {
				logsMayUse = get(s, "Condition", "ArnEquals", "kms:EncryptionContext:aws:logs:arn") == logGroupArn
			}
		}
		if !logsMayUse {
			t.Errorf("%s: the key policy does not let CloudWatch Logs use the key for %s only", canonical(set), logGroupArn)
		}
		if o := get(data.Outputs, stacks.OpsAccessKeyOutput, "Value"); refTo(o) != keyID {
			t.Errorf("%s: output %s is %v, want the key %s", canonical(set), stacks.OpsAccessKeyOutput, o, keyID)
		}

		// The cluster.
		is := a.Stack(t, "IdentityServer")
		clusterID, cluster := only(t, is, "AWS::ECS::Cluster")
		exec := get(cluster.Properties, "Configuration", "ExecuteCommandConfiguration")
		if get(exec, "Logging") != "OVERRIDE" || get(exec, "LogConfiguration", "CloudWatchEncryptionEnabled") != true ||
			get(exec, "LogConfiguration", "CloudWatchLogGroupName") != logGroup || jsonText(get(exec, "KmsKeyId")) != keyRef {
			t.Errorf("%s: ExecuteCommandConfiguration %s; want sessions encrypted with the Data stack's ops access key and logged to %s, encrypted", canonical(set), jsonText(exec), logGroup)
		}

		// The services.
		services := ecsServices(t, a)
		var tts []string
		for _, s := range services {
			tpl := a.Templates[s.stack]
			statements := rolePolicies(tpl, s.taskRole)
			channels := statementsWith(statements, "ssmmessages:OpenDataChannel")
			if !s.tts {
				if s.service.Properties["EnableExecuteCommand"] != nil || len(channels) > 0 {
					t.Errorf("%s: %s/%s does not run The Things Stack but has ECS Exec (%v) or its permissions", canonical(set), s.stack, s.id, s.service.Properties["EnableExecuteCommand"])
				}
				continue
			}
			tts = append(tts, s.id)
			if s.service.Properties["EnableExecuteCommand"] != true {
				t.Errorf("%s: %s/%s runs The Things Stack without ECS Exec", canonical(set), s.stack, s.id)
			}
			for _, c := range s.task.Properties["ContainerDefinitions"].([]any) {
				if get(c, "Name") == ttsservice.MainContainer && get(c, "LinuxParameters", "InitProcessEnabled") != true {
					t.Errorf("%s: %s/%s: the container of The Things Stack runs without an init process", canonical(set), s.stack, s.id)
				}
			}
			if len(channels) != 1 || get(channels[0], "Resource") != "*" {
				t.Errorf("%s: %s/%s: task role statements for the session channels: %s", canonical(set), s.stack, s.id, jsonText(channels))
			}
			// The metrics collector's own log group is checked by
			// TestCollectorWritesOnlyItsLogGroup.
			var write []any
			for _, w := range statementsWith(statements, "logs:PutLogEvents") {
				if ga, _ := get(w, "Resource", "Fn::GetAtt").([]any); len(ga) == 0 || !collectorLogs[fmt.Sprint(ga[0])] {
					write = append(write, w)
				}
			}
			if len(write) != 1 || get(write[0], "Resource") != logGroupArn+":*" {
				t.Errorf("%s: %s/%s: the task role may write %s, want the session log group only", canonical(set), s.stack, s.id, jsonText(write))
			}
			decrypt := statementsWith(statements, "kms:Decrypt")
			var sessionKey bool
			for _, d := range decrypt {
				sessionKey = sessionKey || jsonText(get(d, "Resource")) == keyRef
			}
			if !sessionKey {
				t.Errorf("%s: %s/%s: the task role may not decrypt with the session key: %s", canonical(set), s.stack, s.id, jsonText(decrypt))
			}
			// Nothing else of the task role's statements names ssm, logs
			// or the session key.
			for _, st := range statements {
				text := jsonText(st)
				if strings.Contains(text, "ssm:") || strings.Contains(text, "logs:DeleteLogGroup") || strings.Contains(text, `"*:`) {
					t.Errorf("%s: %s/%s: unexpected task role statement %s", canonical(set), s.stack, s.id, text)
				}
			}
		}
		want := 9
		if set != nil && set["PacketBrokerEnabled"] == "true" {
			want = 10
		}
		if len(tts) != want {
			t.Errorf("%s: %d services run The Things Stack (%v), want %d (is, gs, ns, as, js, console, gcs, dcs, dr and pba with the agent)", canonical(set), len(tts), tts, want)
		}
		outputs := 0
		for _, tpl := range a.Templates {
			for id, o := range tpl.Outputs {
				if strings.HasPrefix(id, "OpsAccessService") {
					outputs++
					if _, ok := tpl.Resources[refTo(get(o, "Value"))]; !ok {
						t.Errorf("%s: output %s names no service of its stack: %v", canonical(set), id, o)
					}
				}
			}
		}
		if outputs != len(tts) {
			t.Errorf("%s: %d service outputs for make exec, want one per service of The Things Stack (%d)", canonical(set), outputs, len(tts))
		}

		// The operators' managed policy.
		policyID, policy := only(t, is, "AWS::IAM::ManagedPolicy")
		if refTo(get(is.Outputs, stacks.OpsAccessPolicyOutput, "Value")) != policyID || refTo(get(is.Outputs, stacks.OpsAccessClusterOutput, "Value")) != clusterID {
			t.Errorf("%s: outputs %s and %s do not name the policy and the cluster", canonical(set), stacks.OpsAccessPolicyOutput, stacks.OpsAccessClusterOutput)
		}
		clusterArn := jsonText(map[string]any{"Fn::GetAtt": []string{clusterID, "Arn"}})
		for _, st := range get(policy.Properties, "PolicyDocument", "Statement").([]any) {
			actions := oneOrMany(get(st, "Action"))
			scoped := jsonText(get(st, "Condition", "ArnEquals", "ecs:cluster")) == clusterArn
			for _, action := range actions {
				switch {
				case strings.HasPrefix(action.(string), "ecs:") && !scoped:
					t.Errorf("%s: %s is allowed without the condition ecs:cluster = this cluster: %s", canonical(set), action, jsonText(st))
				case action == "ecs:ExecuteCommand" && get(st, "Condition", "StringEquals", "ecs:container-name") != ttsservice.MainContainer:
					t.Errorf("%s: ecs:ExecuteCommand is not limited to the container %s", canonical(set), ttsservice.MainContainer)
				case !strings.HasPrefix(action.(string), "ecs:") && get(st, "Resource") == "*":
					t.Errorf("%s: %s on every resource", canonical(set), action)
				}
			}
		}
		if len(statementsWith(get(policy.Properties, "PolicyDocument", "Statement").([]any), "ecs:ExecuteCommand")) != 1 ||
			len(statementsWith(get(policy.Properties, "PolicyDocument", "Statement").([]any), "kms:GenerateDataKey")) != 1 {
			t.Errorf("%s: the operators' policy lacks ecs:ExecuteCommand or kms:GenerateDataKey on the session key", canonical(set))
		}
	}
}

// With OpsAccess false nothing of ECS Exec is in the templates: no service
// accepts a command, no role may open a session, no cluster configuration,
// no operators' policy, no output for make exec. The session key and log
// group stay, unchanged, so that the flip neither deletes nor orphans them.
func TestOpsAccessOffLeavesOnlyTheRetainedSessionLogs(t *testing.T) {
	for _, set := range []map[string]string{opsOff(), mergeOverrides(proxyOn(), opsOff())} {
		a := synthOnce(t, set)
		on := synthOnce(t, func() map[string]string {
			m := mergeOverrides(set)
			delete(m, "OpsAccess")
			return m
		}())
		for name, tpl := range a.Templates {
			for id, r := range tpl.Resources {
				text := jsonText(r.Properties)
				if strings.Contains(text, "ssmmessages:") || strings.Contains(text, "ecs:ExecuteCommand") || strings.Contains(text, "ExecuteCommandConfiguration") ||
					r.Properties["EnableExecuteCommand"] != nil || strings.Contains(text, "InitProcessEnabled") {
					t.Errorf("%s: %s/%s has ECS Exec: %.300s", canonical(set), name, id, text)
				}
				if r.Type == "AWS::IAM::ManagedPolicy" {
					t.Errorf("%s: %s/%s: an operators' policy with OpsAccess off", canonical(set), name, id)
				}
			}
			for id := range tpl.Outputs {
				if strings.HasPrefix(id, "OpsAccess") && id != stacks.OpsAccessKeyOutput {
					t.Errorf("%s: %s has output %s", canonical(set), name, id)
				}
			}
		}
		off, was := a.Stack(t, "Data"), on.Stack(t, "Data")
		for id, r := range was.Resources {
			if strings.HasPrefix(id, "OpsAccessKey") || strings.HasPrefix(id, "OpsSessions") {
				if jsonText(off.Resources[id]) != jsonText(r) {
					t.Errorf("%s: Data/%s differs from the one with OpsAccess on: %s", canonical(set), id, jsonText(off.Resources[id]))
				}
			}
		}
		if jsonText(off.Outputs[stacks.OpsAccessKeyOutput]) != jsonText(was.Outputs[stacks.OpsAccessKeyOutput]) {
			t.Errorf("%s: the Data stack's output %s changes with OpsAccess", canonical(set), stacks.OpsAccessKeyOutput)
		}
	}
}
