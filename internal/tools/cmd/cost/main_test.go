package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cost"
)

// writeAssembly writes a cloud assembly of one stack in region.
func writeAssembly(t *testing.T, region, template string) string {
	t.Helper()
	dir := t.TempDir()
	manifest := `{"artifacts": {"s": {"type": "aws:cloudformation:stack", "environment": "aws://123456789012/` + region + `", "properties": {"templateFile": "s.template.json", "stackName": "s"}}}}`
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "s.template.json"), []byte(template), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReportPricesAnAssemblyAndRefusesWhatTheTableLacks(t *testing.T) {
	table, err := cost.LoadTable()
	if err != nil {
		t.Fatal(err)
	}
	nat := `{"Resources": {"Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {}}}}`
	if got := report(table, "ok", writeAssembly(t, "eu-west-1", nat)); got != 0 {
		t.Errorf("a NAT gateway in eu-west-1: exit %d, want 0", got)
	}
	if got := report(table, "far", writeAssembly(t, "ap-south-2", nat)); got != 1 {
		t.Errorf("a region without prices: exit %d, want 1", got)
	}
	unknown := `{"Resources": {"X": {"Type": "AWS::Made::Up", "Properties": {}}}}`
	if got := report(table, "unknown", writeAssembly(t, "eu-west-1", unknown)); got != 1 {
		t.Errorf("an unknown resource type: exit %d, want 1", got)
	}
}
