package ttsconfig

import (
	"slices"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
)

func pbaInputs() Inputs {
	in := inputs()
	in.PBA = &PacketBrokerAgent{
		DataPlaneAddress: "eu.packetbroker.net:443", ClusterID: "eu1",
		HomeNetwork: true, DevAddrPrefixes: []string{"26000000/7", "27000000/8"}, Forwarder: true,
		Name: "Example", AdministrativeContact: "admin@example.org", TechnicalContact: "noc@example.org", Listed: false,
	}
	return in
}

// The agent's settings, exactly, and what the others learn of it; every key
// is one The Things Stack v3.32.1 knows (New checks them).
func TestPacketBrokerAgentSettings(t *testing.T) {
	p, err := New(pbaInputs())
	if err != nil {
		t.Fatal(err)
	}
	got := settingsOf(p, ports.PacketBrokerAgent)
	want := map[string]Setting{
		"pba.net-id":                                    {Key: "pba.net-id", Value: "000013"},
		"pba.tenant-id":                                 {Key: "pba.tenant-id", Value: "example"},
		"pba.cluster-id":                                {Key: "pba.cluster-id", Value: "eu1"},
		"pba.data-plane-address":                        {Key: "pba.data-plane-address", Value: "eu.packetbroker.net:443"},
		"pba.authentication-mode":                       {Key: "pba.authentication-mode", Value: "oauth2"},
		"pba.oauth2.client-id":                          {Key: "pba.oauth2.client-id", Secret: SecretPBAAPIKey, SecretKey: "id"},
		"pba.oauth2.client-secret":                      {Key: "pba.oauth2.client-secret", Secret: SecretPBAAPIKey, SecretKey: "secret"},
		"pba.registration.name":                         {Key: "pba.registration.name", Value: "Example"},
		"pba.registration.administrative-contact.email": {Key: "pba.registration.administrative-contact.email", Value: "admin@example.org"},
		"pba.registration.technical-contact.email":      {Key: "pba.registration.technical-contact.email", Value: "noc@example.org"},
		"pba.registration.listed":                       {Key: "pba.registration.listed", Value: "false"},
		"pba.home-network.enable":                       {Key: "pba.home-network.enable", Value: "true"},
		"pba.home-network.dev-addr-prefixes":            {Key: "pba.home-network.dev-addr-prefixes", Value: "26000000/7 27000000/8"},
		"pba.forwarder.enable":                          {Key: "pba.forwarder.enable", Value: "true"},
		"pba.forwarder.token-key":                       {Key: "pba.forwarder.token-key", Secret: SecretPBATokenKey},
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %+v, want %+v", k, got[k], w)
		}
	}
	for k, s := range got {
		if k[:4] == "pba." && want[k] == (Setting{}) {
			t.Errorf("unexpected %s = %+v", k, s)
		}
	}
	// The agent is a cluster member like the others, with the cluster keys,
	// Redis for its events, and no Backend Interfaces listener.
	for _, k := range []string{"cluster.keys", "cluster.identity-server", "redis.address", "events.backend", "grpc.listen-tls", "http.cookie.hash-key"} {
		if _, ok := got[k]; !ok {
			t.Errorf("the agent lacks %s", k)
		}
	}
	if s, ok := got["interop.listen"]; !ok || s.Value != "" {
		t.Errorf("the agent's interop.listen = %+v, want off", s)
	}
	for _, c := range p.componentsWithSettings() {
		if s := settingsOf(p, c)["cluster.packet-broker-agent"]; s.Value != "pba.tts.local:1884" {
			t.Errorf("%s: cluster.packet-broker-agent = %q, want pba.tts.local:1884", c, s.Value)
		}
	}
	if s := settingsOf(p, ports.GatewayServer)["gs.forward"]; s.Value != "=00000000/0 packetbroker=00000000/0" {
		t.Errorf("gs.forward = %q; want the cluster's Network Server and Packet Broker", s.Value)
	}
}

func TestPacketBrokerAgentRoles(t *testing.T) {
	in := pbaInputs()
	in.PBA.Forwarder = false
	p, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := settingsOf(p, ports.GatewayServer)["gs.forward"]; ok {
		t.Errorf("home network only: the Gateway Server forwards to Packet Broker")
	}
	if _, ok := settingsOf(p, ports.PacketBrokerAgent)["pba.forwarder.token-key"]; ok {
		t.Errorf("home network only: a token key is set")
	}
	in = pbaInputs()
	in.PBA.HomeNetwork, in.PBA.DevAddrPrefixes = false, nil
	p, err = New(in)
	if err != nil {
		t.Fatal(err)
	}
	if s := settingsOf(p, ports.PacketBrokerAgent); s["pba.home-network.enable"].Value != "false" || s["pba.home-network.dev-addr-prefixes"] != (Setting{}) {
		t.Errorf("forwarder only: home network %+v, prefixes %+v", s["pba.home-network.enable"], s["pba.home-network.dev-addr-prefixes"])
	}
	in = pbaInputs()
	in.PBA.DevAddrPrefixes = nil
	if _, err := New(in); err == nil {
		t.Errorf("home network without prefixes: no error")
	}
}

func TestNoAgentNoAgentSettings(t *testing.T) {
	p, err := New(inputs())
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(p.componentsWithSettings(), ports.PacketBrokerAgent) {
		t.Errorf("the agent is configured while off")
	}
	for _, k := range p.Keys() {
		if k == "cluster.packet-broker-agent" || k == "gs.forward" || k[:4] == "pba." {
			t.Errorf("%s is set while the agent is off", k)
		}
	}
}

func TestPictureSettings(t *testing.T) {
	for _, on := range []bool{true, false} {
		in := inputs()
		in.Pictures = on
		p, err := New(in)
		if err != nil {
			t.Fatal(err)
		}
		is := settingsOf(p, ports.IdentityServer)
		for _, kind := range []string{"profile-picture", "end-device-picture"} {
			pre := "is." + kind + "."
			if is[pre+"bucket"].Ref != RefPicturesBucket {
				t.Errorf("%sbucket = %+v, want the pictures bucket", pre, is[pre+"bucket"])
			}
			wantURL, wantDisable := Setting{Key: pre + "bucket-url", Ref: RefPicturesURL}, "false"
			if !on {
				wantURL, wantDisable = Setting{Key: pre + "bucket-url"}, "true"
			}
			if is[pre+"bucket-url"] != wantURL || is[pre+"disable-upload"].Value != wantDisable {
				t.Errorf("pictures %v: %sbucket-url %+v, disable-upload %q; want %+v, %s", on, pre, is[pre+"bucket-url"], is[pre+"disable-upload"].Value, wantURL, wantDisable)
			}
		}
	}
}
