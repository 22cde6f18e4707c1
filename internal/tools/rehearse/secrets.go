package rehearse

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
)

const (
	lowers      = "abcdefghijklmnopqrstuvwxyz"
	uppers      = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits      = "0123456789"
	punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// GenerateSecretString generates a value the way Secrets Manager does for a
// secret's GenerateSecretString: the same length and character classes, and
// the SecretStringTemplate with GenerateStringKey when given.
func GenerateSecretString(g map[string]any) (string, error) {
	flag := func(k string) bool { v, _ := g[k].(bool); return v }
	length := 32
	if n, ok := g["PasswordLength"].(float64); ok {
		length = int(n)
	}
	var classes []string
	if !flag("ExcludeLowercase") {
		classes = append(classes, lowers)
	}
	if !flag("ExcludeUppercase") {
		classes = append(classes, uppers)
	}
	if !flag("ExcludeNumbers") {
		classes = append(classes, digits)
	}
	if !flag("ExcludePunctuation") {
		classes = append(classes, punctuation)
	}
	if flag("IncludeSpace") {
		classes = append(classes, " ")
	}
	exclude, _ := g["ExcludeCharacters"].(string)
	var pool []rune
	var reqd []string
	for _, c := range classes {
		var kept []rune
		for _, r := range c {
			if !strings.ContainsRune(exclude, r) {
				kept = append(kept, r)
			}
		}
		pool = append(pool, kept...)
		if len(kept) > 0 {
			reqd = append(reqd, string(kept))
		}
	}
	if len(pool) == 0 {
		return "", fmt.Errorf("GenerateSecretString excludes every character")
	}
	pick := func(set []rune) rune {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		return set[n.Int64()]
	}
	out := make([]rune, length)
	for i := range out {
		out[i] = pick(pool)
	}
	// RequireEachIncludedType defaults to true in Secrets Manager.
	if v, ok := g["RequireEachIncludedType"].(bool); (!ok || v) && length >= len(reqd) {
		for i, set := range reqd {
			out[i] = pick([]rune(set))
		}
	}
	value := string(out)
	tmpl, _ := g["SecretStringTemplate"].(string)
	key, _ := g["GenerateStringKey"].(string)
	if tmpl == "" || key == "" {
		return value, nil
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(tmpl), &obj); err != nil {
		return "", fmt.Errorf("SecretStringTemplate is not a JSON object: %v", err)
	}
	obj[key] = value
	b, err := json.Marshal(obj)
	return string(b), err
}
