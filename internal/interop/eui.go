package interop

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// EUI64 is a 64-bit identifier such as a JoinEUI or a Network Server ID.
type EUI64 [8]byte

// ParseEUI64 parses exactly 16 hexadecimal digits (either case).
func ParseEUI64(s string) (EUI64, error) {
	var e EUI64
	if len(s) != 16 {
		return e, fmt.Errorf("%q is not an EUI-64: want exactly 16 hexadecimal digits, got %d characters", s, len(s))
	}
	if _, err := hex.Decode(e[:], []byte(s)); err != nil {
		return e, fmt.Errorf("%q is not an EUI-64: want only hexadecimal digits 0-9 and A-F", s)
	}
	return e, nil
}

// String returns the upper-case hexadecimal form.
func (e EUI64) String() string { return strings.ToUpper(hex.EncodeToString(e[:])) }

func (e EUI64) uint64() uint64 { return binary.BigEndian.Uint64(e[:]) }

// Prefix is a JoinEUI prefix: the first Bits bits of EUI. Bits past the prefix
// are always zero in a Prefix returned by ParsePrefix.
type Prefix struct {
	EUI  EUI64
	Bits int
}

// String returns the canonical HEX16/BITS form.
func (p Prefix) String() string { return fmt.Sprintf("%s/%d", p.EUI, p.Bits) }

// Matches reports whether the first p.Bits bits of e equal those of the prefix.
// A /0 prefix matches every EUI.
func (p Prefix) Matches(e EUI64) bool {
	m := mask(p.Bits)
	return e.uint64()&m == p.EUI.uint64()&m
}

// mask returns a mask with the first bits bits set. Go defines a shift by 64
// as yielding 0, so bits == 0 gives an empty mask.
func mask(bits int) uint64 { return ^uint64(0) << (64 - uint(bits)) }

// PrefixError is returned by ParsePrefix. Suggestion, when set, is the value
// the author most likely meant.
type PrefixError struct {
	Input      string
	Reason     string
	Suggestion string
}

func (e *PrefixError) Error() string {
	msg := fmt.Sprintf("%q is not a JoinEUI prefix: %s", e.Input, e.Reason)
	if e.Suggestion != "" {
		msg += fmt.Sprintf("; did you mean %s?", e.Suggestion)
	}
	return msg
}

// ParsePrefix parses HEX16/BITS: 16 hexadecimal digits, a slash and a decimal
// prefix length 0..64 without leading zeros, and no bit set past the prefix
// length. TTS itself is laxer (it ignores bits past the length and does not
// range-check the length); a value this parser rejects is a mistake either way.
func ParsePrefix(s string) (Prefix, error) {
	fail := func(reason string) (Prefix, error) {
		return Prefix{}, &PrefixError{Input: s, Reason: reason}
	}
	hexPart, bitsPart, ok := strings.Cut(s, "/")
	if !ok {
		return fail("want HEX16/BITS, e.g. EC656E0000000000/24 (the slash and prefix length are missing)")
	}
	eui, err := ParseEUI64(hexPart)
	if err != nil {
		return fail("the part before the slash must be exactly 16 hexadecimal digits")
	}
	if bitsPart == "" || len(bitsPart) > 2 || (len(bitsPart) == 2 && bitsPart[0] == '0') {
		return fail("the prefix length after the slash must be a number from 0 to 64 without leading zeros")
	}
	bits, err := strconv.Atoi(bitsPart)
	if err != nil || bits < 0 || bits > 64 {
		return fail("the prefix length after the slash must be a number from 0 to 64")
	}
	p := Prefix{EUI: eui, Bits: bits}
	if v := eui.uint64(); v&^mask(bits) != 0 {
		var masked EUI64
		binary.BigEndian.PutUint64(masked[:], v&mask(bits))
		return Prefix{}, &PrefixError{
			Input:      s,
			Reason:     fmt.Sprintf("bits are set after the first %d bits; only the first %d bits may be non-zero", bits, bits),
			Suggestion: Prefix{EUI: masked, Bits: bits}.String(),
		}
	}
	return p, nil
}
