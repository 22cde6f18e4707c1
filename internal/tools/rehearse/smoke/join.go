package smoke

import (
	"context"
	"crypto/aes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// aesCMAC is AES-CMAC (RFC 4493), with which LoRaWAN computes the MIC of a
// join-request (LoRaWAN 1.0.3, 6.2.4: cmac = aes128_cmac(AppKey, MHDR |
// JoinEUI | DevEUI | DevNonce), MIC = cmac[0..3]).
func aesCMAC(key, msg []byte) ([16]byte, error) {
	var out [16]byte
	block, err := aes.NewCipher(key)
	if err != nil {
		return out, err
	}
	shift := func(in [16]byte) [16]byte {
		var o [16]byte
		for i := 0; i < 16; i++ {
			o[i] = in[i] << 1
			if i < 15 {
				o[i] |= in[i+1] >> 7
			}
		}
		if in[0]&0x80 != 0 {
			o[15] ^= 0x87
		}
		return o
	}
	var l [16]byte
	block.Encrypt(l[:], l[:])
	k1 := shift(l)
	k2 := shift(k1)
	n := (len(msg) + 15) / 16
	complete := n > 0 && len(msg)%16 == 0
	if n == 0 {
		n = 1
	}
	var last [16]byte
	rest := msg[(n-1)*16:]
	copy(last[:], rest)
	sub := k1
	if !complete {
		last[len(rest)] = 0x80
		sub = k2
	}
	for i := range last {
		last[i] ^= sub[i]
	}
	for i := 0; i < n-1; i++ {
		for j := 0; j < 16; j++ {
			out[j] ^= msg[i*16+j]
		}
		block.Encrypt(out[:], out[:])
	}
	for j := range out {
		out[j] ^= last[j]
	}
	block.Encrypt(out[:], out[:])
	return out, nil
}

// localJoin joins a device of the deployment's own Join Server through the
// Semtech UDP gateway of gatewayUDP: the device is registered in the
// Identity, Network and Join Server with a root key, its join-request carries
// a correct MIC, the Network Server gets the join-accept from the cluster's
// Join Server and the Gateway Server sends it to the gateway (PULL_RESP on the
// gateway's pull socket). This is the traffic after which The Things Stack
// exports its accepted-join and downlink counters.
func (s *scenario) localJoin(ctx context.Context) (string, error) {
	joinEUI, devEUI := randomEUI(), randomEUI()
	appKey := []byte(randomBytes(16))
	dev, err := s.createDevice(ctx, joinEUI, devEUI, &nsDevice{"MAC_V1_0_3", "PHY_V1_0_3_REV_A"})
	if err != nil {
		return "", err
	}
	ids := map[string]any{
		"device_id":       dev,
		"application_ids": map[string]string{"application_id": s.app},
		"join_eui":        fmt.Sprintf("%016X", joinEUI),
		"dev_eui":         fmt.Sprintf("%016X", devEUI),
	}
	if err := s.web.api(ctx, http.MethodPut, "/api/v3/js/applications/"+s.app+"/devices/"+dev, s.token, map[string]any{
		"end_device": map[string]any{"ids": ids, "root_keys": map[string]any{"app_key": map[string]string{"key": strings.ToUpper(hex.EncodeToString(appKey))}}},
		"field_mask": map[string]any{"paths": []string{"root_keys.app_key.key"}},
	}, nil); err != nil {
		return "", fmt.Errorf("Join Server device: %w", err)
	}

	// The gateway's pull socket: PULL_DATA from it makes it the downlink
	// path, where the Gateway Server sends PULL_RESP.
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", s.t.GatewayUDPAddr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	send := func(pkt []byte, want byte) error {
		token := binary.BigEndian.Uint16([]byte(randomBytes(2)))
		pkt = append([]byte(nil), pkt...)
		binary.BigEndian.PutUint16(pkt[1:3], token)
		if _, err := conn.Write(pkt); err != nil {
			return err
		}
		_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return fmt.Errorf("no acknowledgement 0x%02x: %w", want, err)
			}
			if ident, tok, err := udpAck(buf[:n]); err == nil && ident == want && tok == token {
				return nil
			}
		}
	}
	freq, datr := uplinkChannel(s.t.FrequencyPlanID)
	attempts := 0
	for ctx.Err() == nil {
		if err := send(udpPacket(udpPullData, 0, s.gateway, nil), udpPullAck); err != nil {
			return "", fmt.Errorf("PULL_DATA: %w", err)
		}
		phy := joinRequest(euiBytes(joinEUI), euiBytes(devEUI), binary.BigEndian.Uint16([]byte(randomBytes(2))), [4]byte{})
		mic, err := aesCMAC(appKey, phy[:19])
		if err != nil {
			return "", err
		}
		copy(phy[19:], mic[:4])
		tmst := binary.BigEndian.Uint32([]byte(randomBytes(4))) >> 1
		if err := send(udpPacket(udpPushData, 0, s.gateway, rxpkJSON(freq, datr, tmst, phy)), udpPushAck); err != nil {
			return "", fmt.Errorf("join-request uplink: %w", err)
		}
		attempts++
		// RX1 is 5 s after the uplink, RX2 6 s: the Gateway Server sends
		// PULL_RESP ahead of it.
		deadline := time.Now().Add(joinRetry + 3*time.Second)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			_ = conn.SetReadDeadline(deadline)
			n, err := conn.Read(buf)
			if err != nil {
				break
			}
			if n > 4 && buf[0] == 2 && buf[3] == udpPullResp {
				return fmt.Sprintf("device %s joined through the cluster's Join Server: PULL_RESP with the join-accept (%d bytes) after %d join-request(s)", dev, n-4, attempts), nil
			}
		}
	}
	return "", errors.New("no PULL_RESP (join-accept) from the Gateway Server after " + fmt.Sprint(attempts) + " join-requests")
}
