package test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
)

// stackOutput follows a Fn::GetStackOutput of one template to the value of
// the output in the producing stack's template; ok is false when v is not
// such a reference or the output does not exist.
func stackOutput(a *Assembly, v any) (stack string, value any, ok bool) {
	ref, isMap := get(v, "Fn::GetStackOutput").(map[string]any)
	if !isMap {
		return "", nil, false
	}
	stack, _ = ref["StackName"].(string)
	name, _ := ref["OutputName"].(string)
	tpl, found := a.Templates[stack]
	if !found {
		return stack, nil, false
	}
	out, found := tpl.Outputs[name]
	if !found {
		return stack, nil, false
	}
	return stack, get(out, "Value"), true
}

// The database URI that the Configuration stack composes names the database
// that the Data stack's cluster creates, and is composed from that
// cluster's own credentials secret (whose attachment adds the cluster's host
// and port). Checked across the synthesized templates of every combination:
// the Data stack creates, the Configuration stack consumes.
func TestDatabaseURINamesTheDatabaseTheClusterCreates(t *testing.T) {
	for _, c := range combos() {
		if !c.valid() {
			continue
		}
		a := synthOnce(t, c.overrides())
		name := canonical(c.overrides())
		dataStack := a.Params.StackName("Data")
		data := a.Stack(t, "Data")
		clusterID, cluster := only(t, data, "AWS::RDS::DBCluster")
		dbName, _ := cluster.Properties["DatabaseName"].(string)
		port, _ := cluster.Properties["Port"].(float64)
		user, _ := cluster.Properties["MasterUsername"].(string)
		if dbName == "" || port == 0 || user == "" {
			t.Fatalf("%s: cluster %s has DatabaseName %q, Port %v, MasterUsername %q; want all set", name, clusterID, dbName, port, user)
		}

		_, uri := only(t, a.Stack(t, "Configuration"), deployres.DatabaseURIType)
		if got := uri.Properties["Database"]; got != dbName {
			t.Errorf("%s: %s connects to database %v, the cluster %s creates %q", name, deployres.DatabaseURIType, got, clusterID, dbName)
		}

		// The source secret is the cluster's: an output of the Data stack
		// that is the secret's attachment to this cluster, and that secret
		// is the one the cluster's master password comes from.
		stack, value, ok := stackOutput(a, uri.Properties["SourceSecretArn"])
		if !ok || stack != dataStack {
			t.Errorf("%s: SourceSecretArn %s is not an output of %s", name, jsonText(uri.Properties["SourceSecretArn"]), dataStack)
			continue
		}
		att, found := data.Resources[refTo(value)]
		if !found || att.Type != "AWS::SecretsManager::SecretTargetAttachment" {
			t.Errorf("%s: SourceSecretArn is %s output %s, not a secret attached to the cluster", name, dataStack, jsonText(value))
			continue
		}
		if refTo(att.Properties["TargetId"]) != clusterID || att.Properties["TargetType"] != "AWS::RDS::DBCluster" {
			t.Errorf("%s: the source secret is attached to %s, not to the cluster %s", name, jsonText(att.Properties["TargetId"]), clusterID)
		}
		secretID := refTo(att.Properties["SecretId"])
		if pw := jsonText(cluster.Properties["MasterUserPassword"]); secretID == "" || !strings.Contains(pw, `"Ref":"`+secretID+`"`) {
			t.Errorf("%s: the source secret %s is not the one the cluster's password comes from (%s)", name, secretID, pw)
		}

		// What the deploy-time function makes of it, given the secret as the
		// attachment fills it for this cluster, reaches that database on that
		// port.
		secret := fmt.Sprintf(`{"username":%q,"password":"pw","host":"db.internal","port":%d}`, user, int(port))
		sslMode, _ := uri.Properties["SSLMode"].(string)
		db, _ := uri.Properties["Database"].(string)
		composed, err := deployres.DatabaseURI(secret, db, sslMode)
		if err != nil {
			t.Errorf("%s: composing the URI: %v", name, err)
			continue
		}
		u, err := url.Parse(composed)
		if err != nil {
			t.Errorf("%s: composed URI does not parse: %v", name, err)
			continue
		}
		if u.Path != "/"+dbName || u.Port() != fmt.Sprint(int(port)) || u.User.Username() != user {
			t.Errorf("%s: composed URI reaches %s as %s on port %s; the cluster serves %q as %s on %d", name, u.Path, u.User.Username(), u.Port(), dbName, user, int(port))
		}
	}
}

// A deployment restored from the final snapshots of an earlier one: the
// cluster is created from DatabaseSnapshot with the master user name the
// snapshot carries (the one this app's clusters are created with), and its
// password is reset to the secret the Configuration stack composes the
// database URI from; the replication group is created from CacheSnapshot.
// Without the parameters nothing is restored.
func TestDatabaseAndCacheRestoreFromSnapshots(t *testing.T) {
	fresh := synthOnce(t, nil)
	_, freshCluster := only(t, fresh.Stack(t, "Data"), "AWS::RDS::DBCluster")
	_, freshGroup := only(t, fresh.Stack(t, "Data"), "AWS::ElastiCache::ReplicationGroup")
	if freshCluster.Properties["SnapshotIdentifier"] != nil || freshGroup.Properties["SnapshotName"] != nil {
		t.Errorf("without DatabaseSnapshot and CacheSnapshot, cluster SnapshotIdentifier %v and cache SnapshotName %v; want none",
			freshCluster.Properties["SnapshotIdentifier"], freshGroup.Properties["SnapshotName"])
	}
	snapshotUser, _ := freshCluster.Properties["MasterUsername"].(string)

	set := restoreSet()
	a := synthOnce(t, set)
	data := a.Stack(t, "Data")
	clusterID, cluster := only(t, data, "AWS::RDS::DBCluster")
	if got := cluster.Properties["SnapshotIdentifier"]; got != set["DatabaseSnapshot"] {
		t.Errorf("cluster SnapshotIdentifier %v, want %s", got, set["DatabaseSnapshot"])
	}
	if u, ok := cluster.Properties["MasterUsername"]; ok {
		t.Errorf("cluster restored from a snapshot sets MasterUsername %v; the snapshot brings its own", u)
	}
	if cluster.Properties["DatabaseName"] == nil {
		t.Errorf("restored cluster has no DatabaseName; the database URI needs the name the snapshot holds")
	}

	_, uri := only(t, a.Stack(t, "Configuration"), deployres.DatabaseURIType)
	_, value, ok := stackOutput(a, uri.Properties["SourceSecretArn"])
	att, found := data.Resources[refTo(value)]
	if !ok || !found {
		t.Fatalf("SourceSecretArn %s is not an output of the Data stack naming a resource", jsonText(uri.Properties["SourceSecretArn"]))
	}
	secretID := refTo(att.Properties["SecretId"])
	if refTo(att.Properties["TargetId"]) != clusterID {
		t.Errorf("the database URI's secret is attached to %s, not to the restored cluster %s", jsonText(att.Properties["TargetId"]), clusterID)
	}
	if pw := jsonText(cluster.Properties["MasterUserPassword"]); secretID == "" || !strings.Contains(pw, `"Ref":"`+secretID+`"`) {
		t.Errorf("the restored cluster's password (%s) is not reset to the secret %s the database URI is composed from", pw, secretID)
	}
	template, _ := get(data.Resources[secretID].Properties, "GenerateSecretString", "SecretStringTemplate").(string)
	if snapshotUser == "" || !strings.Contains(template, fmt.Sprintf("%q", snapshotUser)) {
		t.Errorf("the secret's user (%s) is not %q, the master user of the snapshots this app's clusters leave", template, snapshotUser)
	}

	_, group := only(t, data, "AWS::ElastiCache::ReplicationGroup")
	if got := group.Properties["SnapshotName"]; got != set["CacheSnapshot"] {
		t.Errorf("cache SnapshotName %v, want %s", got, set["CacheSnapshot"])
	}
}
