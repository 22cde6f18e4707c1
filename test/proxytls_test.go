package test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
)

// exampleClientCA is a CA certificate of the embedded example's interop
// repository, used as the client CA bundle of the interop listener.
const exampleClientCA = "example-interop/example-js/root-ca.pem"

// clientCertSet is proxy TLS mode with Packet Broker interop and optional
// client certificates: the mode that lets both kinds of peers in.
func clientCertSet() map[string]string {
	return map[string]string{
		"SupportProxyTLS": "true", "InteropEnabled": "true", "InteropPacketBrokerEnabled": "true",
		"InteropClientCertMode": "optional", "InteropClientCAFile": exampleClientCA,
	}
}

func TestProxyChecksClientCertificatesOnTheInteropPort(t *testing.T) {
	a := synthOnce(t, clientCertSet())
	tpl := a.Stack(t, "Services")
	id, _, _, main := proxyService(t, tpl)
	env := namedValues(main["Environment"], "Value")
	conf, _ := env["NGINX_CONF"].(string)
	flat := strings.Join(strings.Fields(conf), " ")
	for _, want := range []string{
		"listen 8886 ssl; ssl_certificate /etc/nginx/tls/fullchain.pem; ssl_certificate_key /etc/nginx/tls/privkey.pem; ssl_verify_client optional; ssl_client_certificate /etc/nginx/bi/client-ca.pem; ssl_verify_depth 2;",
		"proxy_set_header X-Client-Cert $ssl_client_escaped_cert;",
		"proxy_pass http://tts_is_interop;",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("%s: the nginx.conf lacks %q", id, want)
		}
	}
	// Packet Broker's bearer token is not touched: no directive names it.
	if regexp.MustCompile(`(?i)(_set_header\s+authorization|\$http_authorization)`).MatchString(conf) {
		t.Errorf("%s: the nginx.conf handles the Authorization header; it must pass unchanged", id)
	}
	ca, err := os.ReadFile(filepath.Join("..", "params", filepath.FromSlash(exampleClientCA)))
	if err != nil {
		t.Fatal(err)
	}
	if env["INTEROP_CLIENT_CA"] != string(ca) {
		t.Errorf("%s: INTEROP_CLIENT_CA is not the content of %s", id, exampleClientCA)
	}
	if script := fmt.Sprint(asList(main["Command"])...); !strings.Contains(script, `printf '%s\n' "$INTEROP_CLIENT_CA" > /etc/nginx/bi/client-ca.pem`) {
		t.Errorf("%s: the start script %s does not write the client CA bundle", id, script)
	}
	checkProxyConfig(t, id, conf, true, true)
}

func TestClientCertParametersAreChecked(t *testing.T) {
	for _, c := range []struct {
		name      string
		overrides map[string]string
		file      string // where the problem is reported
		code      string
	}{
		{"without proxy TLS", map[string]string{"SupportProxyTLS": "false", "InteropEnabled": "true", "InteropClientCertMode": "optional", "InteropClientCAFile": exampleClientCA},
			"-c InteropClientCertMode=optional", "params.client-cert-needs-proxy-tls"},
		{"CA file that is no CA", map[string]string{"SupportProxyTLS": "true", "InteropEnabled": "true", "InteropClientCertMode": "required", "InteropClientCAFile": "example-interop/example-js/client.pem"},
			"-c InteropClientCAFile=example-interop/example-js/client.pem", "params.ca-bundle-not-ca"},
		{"missing CA file", map[string]string{"SupportProxyTLS": "true", "InteropEnabled": "true", "InteropClientCertMode": "optional", "InteropClientCAFile": "example-interop/missing.pem"},
			"-c InteropClientCAFile=example-interop/missing.pem", "params.client-ca-unreadable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := synthesize(c.overrides)
			if err == nil {
				t.Fatal("synthesized; want a parameter error")
			}
			found := false
			for _, d := range diag.FromError(err) {
				found = found || (d.Code == c.code && d.File == c.file)
			}
			if !found {
				t.Errorf("no %s at %s:\n%v", c.code, c.file, err)
			}
		})
	}
}
