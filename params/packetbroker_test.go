package params

import (
	"testing"
)

// The DevAddr prefixes of NetIDs of each type. 000013 (The Things Network)
// is 26000000/7 in The Things Stack's documentation ("Define DevAddr Prefix
// by NetID"); the others are the DevAddrs of The Things Stack's own test of
// NewDevAddr (pkg/types/devaddr_test.go, v3.32.1: NetID, DevAddr with the
// NwkAddr filled in, NwkAddr bits), cut to the prefix.
func TestNetIDPrefix(t *testing.T) {
	for _, c := range []struct {
		netID       string
		devAddr     uint32
		nwkAddrBits int
	}{
		{"000013", 0x26000000, 25},
		{"00001F", 0x3effff42, 25},
		{"20001F", 0x9fffff42, 24},
		{"4000FF", 0xcfffff42, 20},
		{"6001FE", 0xe3fcff42, 17},
		{"8001FF", 0xf0ffff42, 15},
		{"A000FF", 0xf81fff42, 13},
		{"C000FF", 0xfc03ff42, 10},
		{"E1FFFF", 0xfeffffc2, 7},
	} {
		n := 32 - c.nwkAddrBits
		want := DevAddrPrefix{DevAddr: c.devAddr &^ (^uint32(0) >> n), Length: n}
		got, err := NetIDPrefix(c.netID)
		if err != nil {
			t.Errorf("%s: %v", c.netID, err)
			continue
		}
		if got != want {
			t.Errorf("NetIDPrefix(%s) = %s, want %s", c.netID, got, want)
		}
		if _, err := ParseDevAddrPrefix(got.String()); err != nil {
			t.Errorf("%s: the derived prefix %s does not parse: %v", c.netID, got, err)
		}
	}
}

func TestPacketBrokerParameters(t *testing.T) {
	p, problems := load(t, good, nil)
	if p == nil {
		t.Fatalf("good file rejected:\n%v", problems)
	}
	if p.PacketBrokerEnabled || !p.PacketBrokerHomeNetwork || !p.PacketBrokerForwarder || !p.PacketBrokerListed || !p.PicturesEnabled {
		t.Errorf("defaults: enabled %v, home network %v, forwarder %v, listed %v, pictures %v; want false, true, true, true, true",
			p.PacketBrokerEnabled, p.PacketBrokerHomeNetwork, p.PacketBrokerForwarder, p.PacketBrokerListed, p.PicturesEnabled)
	}
	if got, _ := p.PacketBrokerPrefixes(); len(got) != 1 || got[0] != "26000000/7" {
		t.Errorf("derived prefixes of NetID 000013: %v, want [26000000/7]", got)
	}

	on := good + "PacketBrokerEnabled: true\n"
	_, problems = load(t, on, nil)
	expectProblem(t, problems, "params/test.yaml", "PacketBrokerApiKeySecret", "params.packet-broker-secret-missing")

	for _, c := range []struct{ line, key, code string }{
		{"PacketBrokerDevAddrPrefixes: [26000001/7]", "PacketBrokerDevAddrPrefixes", "params.bad-devaddr-prefix"},
		{"PacketBrokerDevAddrPrefixes: [260000/7]", "PacketBrokerDevAddrPrefixes", "params.bad-devaddr-prefix"},
		{"PacketBrokerTechnicalContact: noc", "PacketBrokerTechnicalContact", "params.bad-email"},
		{"PacketBrokerClusterID: Eu_1", "PacketBrokerClusterID", "params.invalid"},
		{"PacketBrokerDataPlaneAddress: https://eu.packetbroker.net", "PacketBrokerDataPlaneAddress", "params.invalid"},
		{"PacketBrokerApiKeySecret: arn:aws:secretsmanager:eu-central-1:210987654321:secret:pb", "PacketBrokerApiKeySecret", "params.invalid"},
		{"PacketBrokerApiKeySecret: arn:aws:secretsmanager:eu-west-1:210987654321:secret:pb-AbC123", "PacketBrokerApiKeySecret", "params.invalid"},
		{"PacketBrokerApiKeySecret: pb key", "PacketBrokerApiKeySecret", "params.invalid"},
	} {
		_, problems := load(t, good+c.line+"\n", nil)
		expectProblem(t, problems, "params/test.yaml:8", c.key, c.code)
	}

	for _, secret := range []string{"tts-prod/packet-broker-api-key", "arn:aws:secretsmanager:eu-central-1:210987654321:secret:tts-prod/pb-AbC123"} {
		if p, problems := load(t, on+"PacketBrokerApiKeySecret: "+secret+"\n", nil); p == nil {
			t.Errorf("%s refused:\n%v", secret, problems)
		}
	}
	_, problems = load(t, on+"PacketBrokerApiKeySecret: pb-key\nPacketBrokerHomeNetwork: false\nPacketBrokerForwarder: false\n", nil)
	if !problems.HasErrors() {
		t.Errorf("both roles off: no error")
	}

	exp := "StackPrefix: t\nAccount: \"210987654321\"\nRegion: eu-central-1\nDomainName: lns.example.net\nHostedZoneId: Z0987654321ABCDEFGHIJ\nHostedZoneName: example.net.\nNetID: \"000000\"\nPacketBrokerEnabled: true\nPacketBrokerApiKeySecret: pb-key\n"
	p, problems = load(t, exp, nil)
	if p == nil {
		t.Fatalf("experimental NetID rejected:\n%v", problems)
	}
	if w := warningsOf(problems, "PacketBrokerDevAddrPrefixes"); len(w) != 1 || w[0].Code != "params.packet-broker-shared-prefix" {
		t.Errorf("experimental NetID with the derived prefix: warnings %v, want params.packet-broker-shared-prefix", w)
	}
}
