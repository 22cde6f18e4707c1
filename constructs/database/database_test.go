package database

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

func TestDatabaseAlone(t *testing.T) {
	for _, restoreFrom := range []string{"", "tts-final"} {
		stack := cdktest.Stack(t)
		vpc := cdktest.VPC(stack)
		db, err := New(stack, "Database", Props{
			Vpc: vpc, Subnets: &awsec2.SubnetSelection{SubnetGroupName: jsii.String(cdktest.PrivateSubnets)},
			AvailabilityZones: []string{cdktest.Region + "a", cdktest.Region + "b"}, Key: awskms.NewKey(stack, jsii.String("Key"), nil),
			Identifier: "test-db", SecretName: "test/tts/db", MinCapacity: 0.5, MaxCapacity: 2, Readers: 1, BackupRetention: 7,
			DeletionProtection: true, LogRetention: awslogs.RetentionDays_ONE_WEEK, RestoreFrom: restoreFrom,
		})
		if err != nil {
			t.Fatal(err)
		}
		if db.Name == "" || db.Secret == nil {
			t.Fatal("no database name or secret")
		}
		tpl := cdktest.Synth(t, stack)
		c := tpl.Only(t, "AWS::RDS::DBCluster")
		p := c.Properties
		if p["StorageEncrypted"] != true || p["DeletionProtection"] != true || p["Port"] != float64(Port) || p["DatabaseName"] != db.Name {
			t.Errorf("cluster %v: want encrypted, protected, port %d, database %s", p, Port, db.Name)
		}
		if c.DeletionPolicy != "Snapshot" {
			t.Errorf("DeletionPolicy %q, want Snapshot", c.DeletionPolicy)
		}
		if got, _ := p["SnapshotIdentifier"].(string); got != restoreFrom {
			t.Errorf("SnapshotIdentifier %q, want %q", got, restoreFrom)
		}
		if _, named := p["MasterUsername"]; named == (restoreFrom != "") {
			t.Errorf("MasterUsername present %v with RestoreFrom %q; a restore keeps the snapshot's user", named, restoreFrom)
		}
		zones := map[string]bool{}
		for _, i := range tpl.OfType("AWS::RDS::DBInstance") {
			z, _ := i.Properties["AvailabilityZone"].(string)
			zones[z] = true
		}
		if len(zones) != 2 {
			t.Errorf("writer and reader in zones %v, want two zones", zones)
		}
		params := cdktest.JSON(tpl.Only(t, "AWS::RDS::DBClusterParameterGroup").Properties)
		if !strings.Contains(params, `"rds.force_ssl":"1"`) {
			t.Errorf("parameters %s do not force TLS", params)
		}
		var generated int
		for _, s := range tpl.OfType("AWS::SecretsManager::Secret") {
			if s.Properties["Name"] == "test/tts/db" {
				generated++
				if s.DeletionPolicy != "RetainExceptOnCreate" {
					t.Errorf("credentials secret DeletionPolicy %q, want it kept", s.DeletionPolicy)
				}
			}
		}
		if generated != 1 {
			t.Errorf("%d secrets named test/tts/db, want 1", generated)
		}
	}
}

func TestDatabasePropsAreChecked(t *testing.T) {
	stack := cdktest.Stack(t)
	vpc := cdktest.VPC(stack)
	ok := Props{Vpc: vpc, AvailabilityZones: []string{"a", "b"}, Key: awskms.NewKey(stack, jsii.String("Key"), nil),
		Identifier: "db", SecretName: "s", MinCapacity: 0.5, MaxCapacity: 1, BackupRetention: 7}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid props refused: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*Props)
		want []string
	}{
		{"no key", func(p *Props) { p.Key = nil }, []string{"database.missing-scope"}},
		{"one zone", func(p *Props) { p.AvailabilityZones = []string{"a"} }, []string{"database.too-few-zones"}},
		{"no identifier", func(p *Props) { p.Identifier = "" }, []string{"database.missing-identifier"}},
		{"no secret name", func(p *Props) { p.SecretName = "" }, []string{"database.missing-secret-name"}},
		{"capacity reversed", func(p *Props) { p.MaxCapacity = 0.25 }, []string{"database.bad-capacity"}},
		{"capacity too small", func(p *Props) { p.MinCapacity = 0.25 }, []string{"database.bad-capacity"}},
		{"negative readers", func(p *Props) { p.Readers = -1 }, []string{"database.negative-readers"}},
		{"backups too long", func(p *Props) { p.BackupRetention = 36 }, []string{"database.bad-backup-retention"}},
		{"no backups", func(p *Props) { p.BackupRetention = 0 }, []string{"database.bad-backup-retention"}},
		{"everything wrong", func(p *Props) { *p = Props{Readers: -1} }, []string{"database.missing-scope", "database.too-few-zones",
			"database.missing-identifier", "database.missing-secret-name", "database.bad-capacity", "database.negative-readers", "database.bad-backup-retention"}},
	} {
		p := ok
		c.edit(&p)
		_, err := New(stack, "Database", p)
		if got := diag.FromError(err).Codes(); !slices.Equal(got, c.want) {
			t.Errorf("%s: codes %v, want %v (error %v)", c.name, got, c.want, err)
		}
	}
}
