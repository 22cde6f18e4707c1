package deployres

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// fakeECS runs one task that reports the given states, one per DescribeTasks.
type fakeECS struct {
	runs     []*ecs.RunTaskInput
	states   []ecstypes.Task
	describe int
	noTask   bool
}

func (f *fakeECS) RunTask(_ context.Context, in *ecs.RunTaskInput, _ ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	f.runs = append(f.runs, in)
	if f.noTask {
		return &ecs.RunTaskOutput{Failures: []ecstypes.Failure{{Reason: aws.String("RESOURCE:ENI")}}}, nil
	}
	return &ecs.RunTaskOutput{Tasks: []ecstypes.Task{{TaskArn: aws.String("arn:task/1")}}}, nil
}

func (f *fakeECS) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	i := min(f.describe, len(f.states)-1)
	f.describe++
	return &ecs.DescribeTasksOutput{Tasks: []ecstypes.Task{f.states[i]}}, nil
}

func running() ecstypes.Task { return ecstypes.Task{LastStatus: aws.String("RUNNING")} }

func stopped(code *int32, reason string) ecstypes.Task {
	return ecstypes.Task{LastStatus: aws.String("STOPPED"), StoppedReason: aws.String(reason), Containers: []ecstypes.Container{
		{Name: aws.String("log-router"), ExitCode: aws.Int32(0)},
		{Name: aws.String("certbot"), ExitCode: code},
	}}
}

func certbotEvent(req cfn.RequestType) cfn.Event {
	return cfn.Event{RequestType: req, ResourceType: CertbotRunType, ResourceProperties: map[string]any{
		"Cluster": "cluster", "TaskDefinition": "arn:taskdef/certbot:3", "Container": "certbot",
		"Subnets": []any{"subnet-a", "subnet-b"}, "SecurityGroups": []any{"sg-1"}, "LogGroup": "certbot-logs",
	}}
}

func TestCertbotRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fake   *fakeECS
		req    cfn.RequestType
		runs   int
		errHas []string
	}{
		{name: "exit 0 after polling", fake: &fakeECS{states: []ecstypes.Task{running(), running(), stopped(aws.Int32(0), "Essential container in task exited")}}, req: cfn.RequestCreate, runs: 1},
		{name: "update runs again", fake: &fakeECS{states: []ecstypes.Task{stopped(aws.Int32(0), "")}}, req: cfn.RequestUpdate, runs: 1},
		{name: "exit 1", fake: &fakeECS{states: []ecstypes.Task{stopped(aws.Int32(1), "Essential container in task exited")}}, req: cfn.RequestCreate, runs: 1,
			errHas: []string{"exited with 1", "certbot or its deploy hook failed", "certbot-logs", "arn:task/1"}},
		{name: "never ran", fake: &fakeECS{states: []ecstypes.Task{stopped(nil, "CannotPullContainerError: pull access denied")}}, req: cfn.RequestCreate, runs: 1,
			errHas: []string{"CannotPullContainerError", "certbot-logs"}},
		{name: "not started", fake: &fakeECS{noTask: true}, req: cfn.RequestCreate, runs: 1, errHas: []string{"started no Certbot task", "RESOURCE:ENI"}},
		{name: "delete does nothing", fake: &fakeECS{}, req: cfn.RequestDelete, runs: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Handler{ECS: tc.fake, PollInterval: time.Millisecond}
			ev := certbotEvent(tc.req)
			ev.PhysicalResourceID = "certbot-run"
			id, data, err := h.Handle(context.Background(), ev)
			if id != "certbot-run" {
				t.Errorf("physical id %q, want certbot-run", id)
			}
			if len(tc.fake.runs) != tc.runs {
				t.Fatalf("%d RunTask calls, want %d", len(tc.fake.runs), tc.runs)
			}
			if tc.runs > 0 {
				in := tc.fake.runs[0]
				nc := in.NetworkConfiguration.AwsvpcConfiguration
				if aws.ToString(in.TaskDefinition) != "arn:taskdef/certbot:3" || in.LaunchType != ecstypes.LaunchTypeFargate ||
					nc.AssignPublicIp != ecstypes.AssignPublicIpDisabled || strings.Join(nc.Subnets, ",") != "subnet-a,subnet-b" || strings.Join(nc.SecurityGroups, ",") != "sg-1" {
					t.Errorf("RunTask input %+v %+v", in, nc)
				}
			}
			if len(tc.errHas) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tc.runs > 0 && data["ExitCode"] != int32(0) {
					t.Errorf("data %v, want ExitCode 0", data)
				}
				return
			}
			wantErr(t, err, tc.errHas)
		})
	}
}

func TestCertbotRunGivesUpBeforeTheDeadline(t *testing.T) {
	f := &fakeECS{states: []ecstypes.Task{running()}}
	h := &Handler{ECS: f, PollInterval: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), stopMargin+50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := h.Handle(ctx, certbotEvent(cfn.RequestCreate))
	if err == nil || !strings.Contains(err.Error(), "still running") || !strings.Contains(err.Error(), "certbot-logs") {
		t.Fatalf("error %v, want one saying the task is still running, with the log group", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("took %v; it should answer well before the deadline", time.Since(start))
	}
}

func TestCertbotRunRejectsIncompleteProperties(t *testing.T) {
	ev := certbotEvent(cfn.RequestCreate)
	delete(ev.ResourceProperties, "Subnets")
	_, _, err := (&Handler{ECS: &fakeECS{}}).Handle(context.Background(), ev)
	if err == nil || !strings.Contains(err.Error(), "Subnets") {
		t.Fatalf("error %v, want one naming the required properties", err)
	}
}

func bootstrapEvent(req cfn.RequestType) cfn.Event {
	return cfn.Event{RequestType: req, ResourceType: TaskRunType, ResourceProperties: map[string]any{
		"Cluster": "cluster", "TaskDefinition": "arn:taskdef/bootstrap:7", "Container": "bootstrap",
		"Subnets": []any{"subnet-a"}, "SecurityGroups": []any{"sg-1"}, "LogGroup": "is-logs",
		"Purpose": "Identity Server database bootstrap",
	}}
}

func TestTaskRun(t *testing.T) {
	exited := func(code int32) ecstypes.Task {
		return ecstypes.Task{LastStatus: aws.String("STOPPED"), Containers: []ecstypes.Container{{Name: aws.String("bootstrap"), ExitCode: aws.Int32(code)}}}
	}
	for _, tc := range []struct {
		name   string
		fake   *fakeECS
		req    cfn.RequestType
		runs   int
		errHas []string
	}{
		{name: "create waits for exit 0", fake: &fakeECS{states: []ecstypes.Task{running(), exited(0)}}, req: cfn.RequestCreate, runs: 1},
		{name: "update runs again", fake: &fakeECS{states: []ecstypes.Task{exited(0)}}, req: cfn.RequestUpdate, runs: 1},
		{name: "exit 1 fails the resource", fake: &fakeECS{states: []ecstypes.Task{exited(1)}}, req: cfn.RequestCreate, runs: 1,
			errHas: []string{"Identity Server database bootstrap task arn:task/1 exited with 1", "is-logs"}},
		{name: "not started", fake: &fakeECS{noTask: true}, req: cfn.RequestCreate, runs: 1, errHas: []string{"started no Identity Server database bootstrap task"}},
		{name: "delete does nothing", fake: &fakeECS{}, req: cfn.RequestDelete, runs: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Handler{ECS: tc.fake, PollInterval: time.Millisecond}
			ev := bootstrapEvent(tc.req)
			if tc.req != cfn.RequestCreate {
				ev.PhysicalResourceID = "task-run"
			}
			id, _, err := h.Handle(context.Background(), ev)
			if id != "task-run" {
				t.Errorf("physical id %q, want task-run", id)
			}
			if len(tc.fake.runs) != tc.runs {
				t.Fatalf("%d RunTask calls, want %d", len(tc.fake.runs), tc.runs)
			}
			if tc.runs > 0 && aws.ToString(tc.fake.runs[0].TaskDefinition) != "arn:taskdef/bootstrap:7" {
				t.Errorf("ran %s, want the task definition of the properties", aws.ToString(tc.fake.runs[0].TaskDefinition))
			}
			if len(tc.errHas) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			wantErr(t, err, tc.errHas)
		})
	}
}

func TestTaskRunNeedsAPurpose(t *testing.T) {
	ev := bootstrapEvent(cfn.RequestCreate)
	delete(ev.ResourceProperties, "Purpose")
	_, _, err := (&Handler{ECS: &fakeECS{}}).Handle(context.Background(), ev)
	if err == nil || !strings.Contains(err.Error(), "Purpose") {
		t.Fatalf("error %v, want one naming Purpose", err)
	}
}

// wantErr fails unless err mentions every one of want.
func wantErr(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestTaskRunPropertiesParseBack(t *testing.T) {
	task := Task{Cluster: "c", TaskDefinition: "td", Container: "x", Subnets: []string{"s1", "s2"}, SecurityGroups: []string{"sg"}, LogGroup: "lg"}
	run := TaskRunProps{Task: task, Purpose: "bootstrap"}
	gotRun, err := ParseTaskRunProps(*run.Properties())
	if err != nil || !reflect.DeepEqual(gotRun, run) {
		t.Errorf("ParseTaskRunProps(Properties()) = %+v, %v; want %+v", gotRun, err, run)
	}
	certbot := CertbotRunProps{Task: task, Domain: "example.com"}
	gotCertbot, err := ParseCertbotRunProps(*certbot.Properties())
	if err != nil || !reflect.DeepEqual(gotCertbot, certbot) {
		t.Errorf("ParseCertbotRunProps(Properties()) = %+v, %v; want %+v", gotCertbot, err, certbot)
	}
	if _, ok := (*CertbotRunProps{Task: task}.Properties())["Domain"]; ok {
		t.Error("an empty Domain is written; it must be left out")
	}
}
