// Package test checks the synthesized templates of the app. Each parameter set
// is synthesized once per test binary (synthOnce) and shared by every test
// that needs it; assertions work on the template JSON with t.Errorf, so one
// failure never hides the others.
package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/params"
	"github.com/lorawan-stack-aws/tts-ecs/stacks"
)

// Assembly is one synthesized parameter set.
type Assembly struct {
	Params *params.Params
	Dir    string
	// Templates by stack name (<prefix>-<Stack>).
	Templates map[string]Template
	// Messages are the synthesis annotations (cdk-nag findings among them).
	Messages []Message
	// ValidationFindings are the built-in validator's findings of any
	// severity (errors already fail the synthesis).
	ValidationFindings []string
}

// Message is one synthesis annotation.
type Message struct {
	Stack, Level, Path, Text string
}

// Template is a CloudFormation template.
type Template struct {
	Resources map[string]Resource `json:"Resources"`
	Outputs   map[string]any      `json:"Outputs"`
	Raw       string              `json:"-"`
}

// Resource is one template resource.
type Resource struct {
	Type                string         `json:"Type"`
	Properties          map[string]any `json:"Properties"`
	DeletionPolicy      string         `json:"DeletionPolicy"`
	UpdateReplacePolicy string         `json:"UpdateReplacePolicy"`
	Metadata            map[string]any `json:"Metadata"`
	DependsOn           any            `json:"DependsOn"`
}

// OfType returns the resources of a type by logical id.
func (t Template) OfType(typ string) map[string]Resource {
	out := map[string]Resource{}
	for id, r := range t.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// Stack returns the template of the stack with the given short name.
func (a *Assembly) Stack(t *testing.T, name string) Template {
	t.Helper()
	tpl, ok := a.Templates[a.Params.StackName(name)]
	if !ok {
		t.Fatalf("no template for stack %s", a.Params.StackName(name))
	}
	return tpl
}

// cache holds the assemblies of this test binary. Tests never run in parallel
// (jsii does not allow it), the mutex only guards against a future mistake.
type cache struct {
	mu   sync.Mutex
	sets map[string]*synthResult
}

type synthResult struct {
	asm *Assembly
	err error
}

var synthCache = &cache{sets: map[string]*synthResult{}}

// synthOnce synthesizes the embedded example with the overrides (context
// values, as `-c Key=value` gives them) once per test binary.
func synthOnce(t *testing.T, overrides map[string]string) *Assembly {
	t.Helper()
	key := canonical(overrides)
	synthCache.mu.Lock()
	defer synthCache.mu.Unlock()
	r, ok := synthCache.sets[key]
	if !ok {
		asm, err := synthesize(overrides)
		r = &synthResult{asm: asm, err: err}
		synthCache.sets[key] = r
	}
	if r.err != nil {
		t.Fatalf("synthesis with %s failed: %v", key, r.err)
	}
	return r.asm
}

func canonical(overrides map[string]string) string {
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := []string{"example"}
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("-c %s=%s", k, overrides[k]))
	}
	return strings.Join(parts, " ")
}

// cdkJSONContext is the context of cdk.json, which the CLI gives the app.
func cdkJSONContext() (map[string]any, error) {
	data, err := os.ReadFile(filepath.Join("..", "cdk.json"))
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	return cfg.Context, nil
}

// synthesize builds the app as main.go does, with cdk.json's context, and
// reads back every template and message.
func synthesize(overrides map[string]string) (asm *Assembly, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synthesis panicked: %v", r)
		}
	}()
	ctx, err := cdkJSONContext()
	if err != nil {
		return nil, err
	}
	for k, v := range overrides {
		ctx[k] = v
	}
	p, problems := params.LoadEmbedded(ctx)
	if err := problems.Errors().Err(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tts-synth-")
	if err != nil {
		return nil, err
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(dir)})
	repo, interopProblems := stacks.LoadInterop(p, time.Now())
	if err := interopProblems.Errors().Err(); err != nil {
		return nil, err
	}
	if _, err := stacks.Build(app, p, stacks.Inputs{Interop: repo, ModuleDir: ".."}); err != nil {
		return nil, err
	}
	cloud := app.Synth(nil)
	asm = &Assembly{Params: p, Dir: dir, Templates: map[string]Template{}}
	for _, s := range *cloud.Stacks() {
		name := *s.StackName()
		raw, err := os.ReadFile(filepath.Join(dir, *s.TemplateFile()))
		if err != nil {
			return nil, err
		}
		var tpl Template
		if err := json.Unmarshal(raw, &tpl); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		tpl.Raw = string(raw)
		asm.Templates[name] = tpl
		for _, m := range *s.Messages() {
			//lint:ignore SA1019 the Go binding has no other type for synthesis messages
			asm.Messages = append(asm.Messages, Message{Stack: name, Level: string(m.Level), Path: *m.Id, Text: fmt.Sprint(m.Entry.Data)})
		}
	}
	if report, err := os.ReadFile(filepath.Join(dir, "validation-report.json")); err == nil {
		var r struct {
			PluginReports []struct {
				PluginName string            `json:"pluginName"`
				Violations []json.RawMessage `json:"violations"`
			} `json:"pluginReports"`
		}
		if err := json.Unmarshal(report, &r); err != nil {
			return nil, fmt.Errorf("validation-report.json: %w", err)
		}
		for _, pr := range r.PluginReports {
			for _, v := range pr.Violations {
				asm.ValidationFindings = append(asm.ValidationFindings, pr.PluginName+": "+string(v))
			}
		}
	}
	if len(asm.Templates) != len(stacks.Names()) {
		return nil, fmt.Errorf("%d templates, want %d", len(asm.Templates), len(stacks.Names()))
	}
	return asm, nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	synthCache.mu.Lock()
	for _, r := range synthCache.sets {
		if r.asm != nil {
			os.RemoveAll(r.asm.Dir)
		}
	}
	synthCache.mu.Unlock()
	jsii.Close()
	os.Exit(code)
}
