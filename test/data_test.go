package test

import (
	"strings"
	"testing"
)

// statefulTypes are the resource types that hold data or keys to data. They
// live in the Data stack, are retained on deletion and on replacement.
func statefulTypes() []string {
	return []string{
		"AWS::RDS::DBCluster", "AWS::RDS::DBInstance", "AWS::ElastiCache::ReplicationGroup",
		"AWS::S3::Bucket", "AWS::SecretsManager::Secret", "AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::EC2::EIP",
	}
}

// With the default RetainData: true, deleting a stack keeps every resource
// that holds data: the database and the cache end in a final snapshot
// (Snapshot deletes them, so what they use can go too), the rest stays; a
// replacement keeps the old one the same way. Database instances hold no data
// of their own (the cluster's storage does). With RetainData: false nothing
// stays, and every bucket is emptied before CloudFormation deletes it.
func TestEveryStatefulResourceKeepsItsDataUnlessRetainDataIsFalse(t *testing.T) {
	keep := map[string]string{"AWS::RDS::DBCluster": "Snapshot", "AWS::ElastiCache::ReplicationGroup": "Snapshot"}
	for _, set := range []map[string]string{nil, {"SupportProxyTLS": "true"}, {"DeletionProtection": "false"}, restoreSet()} {
		a := synthOnce(t, set)
		for stack, tpl := range a.Templates {
			for id, r := range tpl.Resources {
				if !contains(statefulTypes(), r.Type) || r.Type == "AWS::RDS::DBInstance" {
					continue
				}
				// Elastic IPs of NAT gateways are not data; those of the load balancer are (gateways allow-list them).
				if r.Type == "AWS::EC2::EIP" && !strings.Contains(id, "LoadBalancer") {
					continue
				}
				want, replaced := keep[r.Type], keep[r.Type]
				if want == "" {
					want, replaced = "RetainExceptOnCreate", "Retain"
				}
				if r.DeletionPolicy != want || r.UpdateReplacePolicy != replaced {
					t.Errorf("%s: %s: %s %s has DeletionPolicy %q, UpdateReplacePolicy %q; want %s and %s", canonical(set), stack, r.Type, id, r.DeletionPolicy, r.UpdateReplacePolicy, want, replaced)
				}
			}
		}
	}

	a := synthOnce(t, map[string]string{"RetainData": "false", "DeletionProtection": "false"})
	for stack, tpl := range a.Templates {
		emptied := map[string]bool{}
		for _, r := range tpl.OfType("Custom::S3AutoDeleteObjects") {
			emptied[refTo(r.Properties["BucketName"])] = true
		}
		for id, r := range tpl.Resources {
			if r.DeletionPolicy != "" && r.DeletionPolicy != "Delete" {
				t.Errorf("RetainData false: %s: %s %s has DeletionPolicy %s; want it deleted with the stack", stack, r.Type, id, r.DeletionPolicy)
			}
			if r.Type == "AWS::S3::Bucket" && !emptied[id] {
				t.Errorf("RetainData false: %s: bucket %s is not emptied before its deletion; CloudFormation cannot delete a bucket that holds objects", stack, id)
			}
		}
	}
}

func TestDatabaseIsEncryptedProtectedAndSpreadOverZones(t *testing.T) {
	a := synthOnce(t, nil)
	tpl := a.Stack(t, "Data")
	keyID, _ := dataKey(t, tpl)
	_, c := only(t, tpl, "AWS::RDS::DBCluster")
	checks := map[string]any{
		"Engine":                "aurora-postgresql",
		"StorageEncrypted":      true,
		"DeletionProtection":    true,
		"BackupRetentionPeriod": float64(a.Params.DatabaseBackupRetentionDays),
		"DatabaseName":          "ttn_lorawan",
	}
	for k, want := range checks {
		if got := get(c.Properties, k); got != want {
			t.Errorf("cluster %s = %v, want %v", k, got, want)
		}
	}
	if refTo(get(c.Properties, "KmsKeyId")) != keyID {
		t.Errorf("cluster storage is not encrypted with the data key")
	}
	if get(c.Properties, "ServerlessV2ScalingConfiguration", "MinCapacity") != a.Params.DatabaseMinCapacity ||
		get(c.Properties, "ServerlessV2ScalingConfiguration", "MaxCapacity") != a.Params.DatabaseMaxCapacity {
		t.Errorf("scaling = %s, want %g..%g", jsonText(get(c.Properties, "ServerlessV2ScalingConfiguration")), a.Params.DatabaseMinCapacity, a.Params.DatabaseMaxCapacity)
	}
	password := jsonText(get(c.Properties, "MasterUserPassword"))
	if !strings.Contains(password, "{{resolve:secretsmanager:") {
		t.Errorf("master password is %s, want a Secrets Manager dynamic reference", password)
	}
	exports := jsonText(get(c.Properties, "EnableCloudwatchLogsExports"))
	if !strings.Contains(exports, "postgresql") {
		t.Errorf("postgresql logs are not exported")
	}
	zones := map[string]bool{}
	instances := tpl.OfType("AWS::RDS::DBInstance")
	if len(instances) != 1+a.Params.DatabaseReaders {
		t.Errorf("%d instances, want a writer and %d reader(s)", len(instances), a.Params.DatabaseReaders)
	}
	for id, i := range instances {
		if get(i.Properties, "DBInstanceClass") != "db.serverless" || get(i.Properties, "PubliclyAccessible") != false {
			t.Errorf("instance %s = %s, want a private db.serverless instance", id, jsonText(i.Properties))
		}
		z, _ := get(i.Properties, "AvailabilityZone").(string)
		zones[z] = true
	}
	if len(zones) < 2 {
		t.Errorf("writer and reader are in zones %v, want different zones", sortedKeys(zones))
	}
	_, pg := only(t, tpl, "AWS::RDS::DBClusterParameterGroup")
	if get(pg.Properties, "Parameters", "rds.force_ssl") != "1" || get(pg.Properties, "Parameters", "ssl_min_protocol_version") != "TLSv1.2" {
		t.Errorf("parameter group %s does not require TLS 1.2+", jsonText(pg.Properties))
	}
}

func TestDatabaseDeletionProtectionFollowsTheParameter(t *testing.T) {
	a := synthOnce(t, map[string]string{"DeletionProtection": "false"})
	_, c := only(t, a.Stack(t, "Data"), "AWS::RDS::DBCluster")
	if get(c.Properties, "DeletionProtection") != false {
		t.Errorf("-c DeletionProtection=false left deletion protection %v", get(c.Properties, "DeletionProtection"))
	}
	if c.DeletionPolicy != "Snapshot" {
		t.Errorf("cluster deletion policy %q without deletion protection; a deletion must still leave a final snapshot", c.DeletionPolicy)
	}
}

func TestCacheIsEncryptedMultiAZWithAuthToken(t *testing.T) {
	a := synthOnce(t, nil)
	tpl := a.Stack(t, "Data")
	keyID, _ := dataKey(t, tpl)
	_, g := only(t, tpl, "AWS::ElastiCache::ReplicationGroup")
	for k, want := range map[string]any{
		"Engine":                   "redis",
		"TransitEncryptionEnabled": true,
		"AtRestEncryptionEnabled":  true,
		"MultiAZEnabled":           true,
		"AutomaticFailoverEnabled": true,
		"ReplicasPerNodeGroup":     float64(a.Params.CacheReplicas),
		"CacheNodeType":            a.Params.CacheNodeType,
	} {
		if got := get(g.Properties, k); got != want {
			t.Errorf("replication group %s = %v, want %v", k, got, want)
		}
	}
	if !strings.Contains(jsonText(get(g.Properties, "KmsKeyId")), keyID) {
		t.Errorf("cache is not encrypted with the data key")
	}
	token := jsonText(get(g.Properties, "AuthToken"))
	if !strings.Contains(token, "{{resolve:secretsmanager:") {
		t.Errorf("AUTH token is %s, want a Secrets Manager dynamic reference", token)
	}
	azs, _ := get(g.Properties, "PreferredCacheClusterAZs").([]any)
	distinct := map[any]bool{}
	for _, z := range azs {
		distinct[z] = true
	}
	if len(distinct) < 2 {
		t.Errorf("cache nodes in zones %v, want at least 2 zones", azs)
	}
}

func TestBucketsAreEncryptedPrivateTLSOnlyAndVersioned(t *testing.T) {
	a := synthOnce(t, nil)
	for _, stack := range []string{"Network", "Data"} {
		tpl := a.Stack(t, stack)
		policies := map[string]string{}
		for _, p := range tpl.OfType("AWS::S3::BucketPolicy") {
			policies[refTo(get(p.Properties, "Bucket"))] = jsonText(p.Properties)
		}
		for id, b := range tpl.OfType("AWS::S3::Bucket") {
			if get(b.Properties, "BucketEncryption", "ServerSideEncryptionConfiguration", "0", "ServerSideEncryptionByDefault", "SSEAlgorithm") == nil {
				t.Errorf("%s: bucket %s is not encrypted", stack, id)
			}
			block := get(b.Properties, "PublicAccessBlockConfiguration")
			for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
				if get(block, k) != true {
					t.Errorf("%s: bucket %s does not set %s", stack, id, k)
				}
			}
			policy := policies[id]
			if !hasAll(policy, `"aws:SecureTransport":"false"`, `"s3:TlsVersion":1.2`, `"Effect":"Deny"`) {
				t.Errorf("%s: bucket %s policy does not deny plain HTTP and TLS below 1.2: %s", stack, id, policy)
			}
		}
	}
	data := a.Stack(t, "Data")
	for _, name := range []string{"Blobs", "InteropRepository"} {
		found := false
		for id, b := range data.OfType("AWS::S3::Bucket") {
			if !strings.HasPrefix(id, name) {
				continue
			}
			found = true
			if get(b.Properties, "VersioningConfiguration", "Status") != "Enabled" {
				t.Errorf("bucket %s is not versioned", id)
			}
			if get(b.Properties, "BucketEncryption", "ServerSideEncryptionConfiguration", "0", "ServerSideEncryptionByDefault", "SSEAlgorithm") != "aws:kms" {
				t.Errorf("bucket %s is not encrypted with the data key", id)
			}
			if get(b.Properties, "LoggingConfiguration", "DestinationBucketName") == nil {
				t.Errorf("bucket %s has no server access logs", id)
			}
		}
		if !found {
			t.Errorf("no %s bucket in the Data stack", name)
		}
	}
}

func TestTTSSecretsAreGeneratedNeverWritten(t *testing.T) {
	a := synthOnce(t, nil)
	tpl := a.Stack(t, "Data")
	keyID, _ := dataKey(t, tpl)
	names := map[string]Resource{}
	for _, s := range tpl.OfType("AWS::SecretsManager::Secret") {
		name, _ := get(s.Properties, "Name").(string)
		names[name] = s
		if get(s.Properties, "SecretString") != nil {
			t.Errorf("secret %s has a SecretString in the template", name)
		}
		if get(s.Properties, "GenerateSecretString") == nil {
			t.Errorf("secret %s is not generated by Secrets Manager", name)
		}
		if refTo(get(s.Properties, "KmsKeyId")) != keyID && !strings.Contains(jsonText(get(s.Properties, "KmsKeyId")), keyID) {
			t.Errorf("secret %s is not encrypted with the data key", name)
		}
	}
	prefix := a.Params.StackPrefix + "/"
	hex := map[string]float64{"tts/cluster-keys": 64, "tts/http-cookie-hash-key": 128, "tts/http-cookie-block-key": 64}
	for suffix, length := range hex {
		s, ok := names[prefix+suffix]
		if !ok {
			t.Errorf("no secret %s%s; have %v", prefix, suffix, sortedKeys(names))
			continue
		}
		gen := get(s.Properties, "GenerateSecretString")
		excluded, _ := get(gen, "ExcludeCharacters").(string)
		if get(gen, "PasswordLength") != length || get(gen, "ExcludeUppercase") != true || get(gen, "ExcludePunctuation") != true || excluded != "ghijklmnopqrstuvwxyz" {
			t.Errorf("secret %s generator %s does not produce %g hex digits", suffix, jsonText(gen), length)
		}
	}
	for _, suffix := range []string{"database", "redis-auth-token", "tts/console-oauth-client-secret", "tts/admin-password", "tts/http-metrics-password"} {
		if _, ok := names[prefix+suffix]; !ok {
			t.Errorf("no secret %s%s; have %v", prefix, suffix, sortedKeys(names))
		}
	}
}

func TestStatefulResourcesLiveOnlyInData(t *testing.T) {
	a := synthOnce(t, nil)
	for stack, tpl := range a.Templates {
		if stack == a.Params.StackName("Data") {
			continue
		}
		for id, r := range tpl.Resources {
			switch r.Type {
			case "AWS::RDS::DBCluster", "AWS::RDS::DBInstance", "AWS::ElastiCache::ReplicationGroup", "AWS::SecretsManager::Secret", "AWS::KMS::Key":
				t.Errorf("%s holds %s %s; stateful resources belong in the Data stack", stack, r.Type, id)
			}
		}
	}
}

func TestKeyRotates(t *testing.T) {
	a := synthOnce(t, nil)
	_, k := dataKey(t, a.Stack(t, "Data"))
	if get(k.Properties, "EnableKeyRotation") != true {
		t.Error("the data key does not rotate")
	}
}
