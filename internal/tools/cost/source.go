package cost

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/assembly"
)

// FromAssembly returns the stacks of a synthesized cloud assembly and the
// region they are deployed to (one region for all of them).
func FromAssembly(asm *assembly.Assembly) ([]StackTemplate, string, error) {
	var stacks []StackTemplate
	region := ""
	for _, id := range asm.IDs() {
		s := asm.Stacks[id]
		if s.Region == "" || strings.Contains(s.Region, "unknown") {
			return nil, "", fmt.Errorf("stack %s has no region in the assembly's manifest; synthesize with an explicit Region", s.Name)
		}
		if region != "" && s.Region != region {
			return nil, "", fmt.Errorf("stacks in two regions (%s and %s); estimate them apart", region, s.Region)
		}
		region = s.Region
		stacks = append(stacks, StackTemplate{Name: s.Name, Template: s.Template})
	}
	if len(stacks) == 0 {
		return nil, "", fmt.Errorf("the assembly in %s has no stack", asm.Dir)
	}
	return stacks, region, nil
}

// ReadTemplates reads every STACK.json template of a folder (e.g. the
// snapshots of an environment under test/snapshots/env/NAME).
func ReadTemplates(dir string) ([]StackTemplate, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no template (*.json) in %s", dir)
	}
	var stacks []StackTemplate
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var t assembly.Template
		if err := json.Unmarshal(data, &t); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		stacks = append(stacks, StackTemplate{Name: strings.TrimSuffix(filepath.Base(f), ".json"), Template: t})
	}
	return stacks, nil
}
