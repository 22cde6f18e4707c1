package test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/deployres"
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
