package interop

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePrefix(t *testing.T) {
	good := map[string]Prefix{
		"EC656E0000000000/24": {EUI: EUI64{0xEC, 0x65, 0x6E}, Bits: 24},
		"ec656e0000000000/24": {EUI: EUI64{0xEC, 0x65, 0x6E}, Bits: 24},
		"0000000000000000/0":  {Bits: 0},
		"70B3D57ED0000001/64": {EUI: EUI64{0x70, 0xB3, 0xD5, 0x7E, 0xD0, 0, 0, 1}, Bits: 64},
		"8000000000000000/1":  {EUI: EUI64{0x80}, Bits: 1},
	}
	for in, want := range good {
		got, err := ParsePrefix(in)
		if err != nil || got != want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"EC656E0000000000":     "slash",
		"EC656E000000000/24":   "16 hexadecimal",
		"EC656E00000000000/24": "16 hexadecimal",
		"EC656E000000000G/24":  "16 hexadecimal",
		"EC656E0000000000/65":  "0 to 64",
		"EC656E0000000000/-1":  "0 to 64",
		"EC656E0000000000/024": "leading zeros",
		"EC656E0000000000/08":  "leading zeros",
		"EC656E0000000000/":    "0 to 64",
		"EC656E0000000000/2a":  "0 to 64",
		"EC656E0000000001/24":  "did you mean EC656E0000000000/24",
		"0000000000000001/0":   "did you mean 0000000000000000/0",
		"":                     "slash",
	}
	for in, want := range bad {
		_, err := ParsePrefix(in)
		var pe *PrefixError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePrefix(%q) error = %v; want a PrefixError mentioning %q", in, err, want)
		}
	}
}

func TestPrefixMatches(t *testing.T) {
	mustEUI := func(s string) EUI64 {
		e, err := ParseEUI64(s)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	p24, _ := ParsePrefix("EC656E0000000000/24")
	p0, _ := ParsePrefix("0000000000000000/0")
	p64, _ := ParsePrefix("EC656E0000001234/64")
	p4, _ := ParsePrefix("F000000000000000/4")
	cases := []struct {
		p    Prefix
		eui  string
		want bool
	}{
		{p24, "EC656E0000001234", true},
		{p24, "EC656EFFFFFFFFFF", true},
		{p24, "EC656F0000000000", false},
		{p0, "0123456789ABCDEF", true},
		{p0, "FFFFFFFFFFFFFFFF", true},
		{p64, "EC656E0000001234", true},
		{p64, "EC656E0000001235", false},
		{p4, "FEDCBA9876543210", true},
		{p4, "EFFFFFFFFFFFFFFF", false},
	}
	for _, c := range cases {
		if got := c.p.Matches(mustEUI(c.eui)); got != c.want {
			t.Errorf("%v.Matches(%s) = %v, want %v", c.p, c.eui, got, c.want)
		}
	}
}

func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"EC656E0000000000/24", "0000000000000000/0", "FFFFFFFFFFFFFFFF/64", "EC656E0000000001/24", "x/1", "/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrefix(s)
		if err != nil {
			var pe *PrefixError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a PrefixError", err)
			}
			if pe.Suggestion != "" {
				if _, err := ParsePrefix(pe.Suggestion); err != nil {
					t.Fatalf("suggestion %q for %q does not parse: %v", pe.Suggestion, s, err)
				}
			}
			return
		}
		if p.Bits < 0 || p.Bits > 64 {
			t.Fatalf("%q parsed to out-of-range length %d", s, p.Bits)
		}
		again, err := ParsePrefix(p.String())
		if err != nil || again != p {
			t.Fatalf("%q -> %v does not round-trip: %v, %v", s, p, again, err)
		}
		if !strings.EqualFold(p.String(), s) {
			t.Fatalf("%q parsed to %v, which is not the same text", s, p)
		}
		if !p.Matches(p.EUI) {
			t.Fatalf("%v does not match its own EUI", p)
		}
	})
}
