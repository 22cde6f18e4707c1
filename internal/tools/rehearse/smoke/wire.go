package smoke

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Semtech UDP packet forwarder protocol, version 2.
const (
	udpVersion  = 2
	udpPushData = 0x00
	udpPushAck  = 0x01
	udpPullData = 0x02
	udpPullAck  = 0x04
	udpPullResp = 0x03
)

// udpPacket is a Semtech UDP upstream packet: version, token, identifier,
// gateway EUI and, for PUSH_DATA, JSON.
func udpPacket(ident byte, token uint16, eui [8]byte, payload []byte) []byte {
	b := []byte{udpVersion, byte(token >> 8), byte(token), ident}
	b = append(b, eui[:]...)
	return append(b, payload...)
}

// udpAck reads an acknowledgement: its identifier and token.
func udpAck(b []byte) (ident byte, token uint16, err error) {
	if len(b) < 4 || b[0] != udpVersion {
		return 0, 0, fmt.Errorf("not a Semtech UDP v2 packet: % x", b)
	}
	return b[3], uint16(b[1])<<8 | uint16(b[2]), nil
}

// statJSON is a PUSH_DATA payload with a gateway status.
func statJSON() []byte {
	b, _ := json.Marshal(map[string]any{"stat": map[string]any{
		"time": "2024-01-01 00:00:00 GMT", "rxnb": 0, "rxok": 0, "rxfw": 0, "ackr": 100.0, "dwnb": 0, "txnb": 0,
	}})
	return b
}

// rxpkJSON is a PUSH_DATA payload with one LoRa uplink of phy.
func rxpkJSON(freqMHz float64, datr string, tmst uint32, phy []byte) []byte {
	b, _ := json.Marshal(map[string]any{"rxpk": []map[string]any{{
		"tmst": tmst, "chan": 0, "rfch": 0, "freq": freqMHz, "stat": 1, "modu": "LORA",
		"datr": datr, "codr": "4/5", "rssi": -42, "lsnr": 7.5, "size": len(phy),
		"data": base64.StdEncoding.EncodeToString(phy),
	}}})
	return b
}

// uplinkChannel is a frequency and data rate valid for a frequency plan
// (its band's first default channel at SF7BW125, or the 125 kHz channel
// of the US and AU sub-band 2).
func uplinkChannel(frequencyPlanID string) (float64, string) {
	switch {
	case strings.HasPrefix(frequencyPlanID, "US_902_928"):
		return 903.9, "SF7BW125"
	case strings.HasPrefix(frequencyPlanID, "AU_915_928"):
		return 916.8, "SF7BW125"
	case strings.HasPrefix(frequencyPlanID, "AS_923"):
		return 923.2, "SF7BW125"
	case strings.HasPrefix(frequencyPlanID, "IN_865_867"):
		return 865.0625, "SF7BW125"
	case strings.HasPrefix(frequencyPlanID, "KR_920_923"):
		return 922.1, "SF7BW125"
	default:
		return 868.1, "SF7BW125"
	}
}

// joinRequest is a LoRaWAN join-request PHYPayload: MHDR 0x00, JoinEUI,
// DevEUI (both little-endian), DevNonce and a MIC (not verified by the
// Network Server, which leaves that to the Join Server).
func joinRequest(joinEUI, devEUI [8]byte, devNonce uint16, mic [4]byte) []byte {
	b := make([]byte, 0, 23)
	b = append(b, 0x00)
	b = append(b, reversed(joinEUI[:])...)
	b = append(b, reversed(devEUI[:])...)
	b = binary.LittleEndian.AppendUint16(b, devNonce)
	return append(b, mic[:]...)
}

func reversed(b []byte) []byte {
	r := make([]byte, len(b))
	for i := range b {
		r[len(b)-1-i] = b[i]
	}
	return r
}

// MQTT 3.1.1.

// mqttConnect is a CONNECT packet with a clean session, a username and a
// password.
func mqttConnect(clientID, username, password string) []byte {
	var body []byte
	body = mqttString(body, "MQTT")
	body = append(body, 4, 0xC2, 0, 30) // level 4; username, password, clean session; keep alive 30 s
	body = mqttString(body, clientID)
	body = mqttString(body, username)
	body = mqttString(body, password)
	return append(append([]byte{0x10}, mqttLength(len(body))...), body...)
}

// mqttDisconnect is a DISCONNECT packet.
func mqttDisconnect() []byte { return []byte{0xE0, 0x00} }

func mqttString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func mqttLength(n int) []byte {
	var b []byte
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

// mqttConnack returns the return code of a CONNACK packet.
func mqttConnack(b []byte) (byte, error) {
	if len(b) < 4 || b[0] != 0x20 || b[1] != 2 {
		return 0, fmt.Errorf("not a CONNACK: % x", b)
	}
	return b[3], nil
}

// gRPC over HTTP/2 and the protocol buffers wire format.

// grpcFrame is a gRPC message frame (uncompressed).
func grpcFrame(msg []byte) []byte {
	b := []byte{0}
	b = binary.BigEndian.AppendUint32(b, uint32(len(msg)))
	return append(b, msg...)
}

// grpcMessage returns the first message of a gRPC response body.
func grpcMessage(body []byte) ([]byte, error) {
	if len(body) < 5 {
		return nil, fmt.Errorf("gRPC body of %d bytes has no message", len(body))
	}
	if body[0] != 0 {
		return nil, errors.New("gRPC message is compressed")
	}
	n := binary.BigEndian.Uint32(body[1:5])
	if uint32(len(body)-5) < n {
		return nil, fmt.Errorf("gRPC message of %d bytes is truncated to %d", n, len(body)-5)
	}
	return body[5 : 5+n], nil
}

// protoField is one field of a protocol buffers message: its number, wire
// type, and either its varint or its bytes (length-delimited).
type protoField struct {
	Num    uint64
	Type   byte
	Varint uint64
	Bytes  []byte
}

// protoFields decodes the top level of a protocol buffers message.
func protoFields(b []byte) ([]protoField, error) {
	var fields []protoField
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errors.New("protobuf: bad field key")
		}
		b = b[n:]
		f := protoField{Num: key >> 3, Type: byte(key & 7)}
		switch f.Type {
		case 0:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, errors.New("protobuf: bad varint")
			}
			f.Varint, b = v, b[n:]
		case 1:
			if len(b) < 8 {
				return nil, errors.New("protobuf: truncated fixed64")
			}
			b = b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return nil, errors.New("protobuf: truncated bytes")
			}
			f.Bytes, b = b[n:n+int(l)], b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return nil, errors.New("protobuf: truncated fixed32")
			}
			b = b[4:]
		default:
			return nil, fmt.Errorf("protobuf: wire type %d not supported", f.Type)
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// protoPath follows nested length-delimited fields by number and returns
// the bytes of the last one.
func protoPath(b []byte, nums ...uint64) ([]byte, bool) {
	for _, num := range nums {
		fields, err := protoFields(b)
		if err != nil {
			return nil, false
		}
		found := false
		for _, f := range fields {
			if f.Num == num && f.Type == 2 {
				b, found = f.Bytes, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return b, true
}

// protoBool is the value of a top-level bool field.
func protoBool(b []byte, num uint64) bool {
	fields, _ := protoFields(b)
	for _, f := range fields {
		if f.Num == num && f.Type == 0 {
			return f.Varint != 0
		}
	}
	return false
}

// eui64Prefix parses "HEX16/bits".
func eui64Prefix(s string) (eui uint64, bits int, err error) {
	hex, length, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("JoinEUI prefix %q is not HEX16/bits", s)
	}
	eui, err = strconv.ParseUint(hex, 16, 64)
	if err != nil || len(hex) != 16 {
		return 0, 0, fmt.Errorf("JoinEUI prefix %q: %q is not 16 hex digits", s, hex)
	}
	bits, err = strconv.Atoi(length)
	if err != nil || bits < 0 || bits > 64 {
		return 0, 0, fmt.Errorf("JoinEUI prefix %q: length is not 0 to 64", s)
	}
	return eui, bits, nil
}

// inPrefix tells whether eui starts with the first bits of prefix.
func inPrefix(eui, prefix uint64, bits int) bool {
	if bits == 0 {
		return true
	}
	shift := 64 - bits
	return eui>>shift == prefix>>shift
}

// euiBytes is eui as 8 big-endian bytes.
func euiBytes(eui uint64) [8]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], eui)
	return b
}
