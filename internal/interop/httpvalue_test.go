package interop

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// ttsJoinServerFile is the part of a Join Server file that TTS's interop
// client (pkg/interop/client.go) reads into its request: strings, decoded
// from YAML.
type ttsJoinServerFile struct {
	Headers   map[string]string `yaml:"headers"`
	BasicAuth struct {
		Username string `yaml:"username"`
		Password string `yaml:"password"`
	} `yaml:"basic-auth"`
}

// postLikeTTS sends a Backend Interfaces request the way TTS's interop client
// does: a POST with a JSON body, Content-Type set, then each custom header
// with Header.Set, then SetBasicAuth when a username is set, through a Go
// HTTP client. It returns the client error, or the status code.
func postLikeTTS(t *testing.T, url string, js ttsJoinServerFile) (int, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"MessageType":"JoinReq"}`))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range js.Headers {
		req.Header.Set(k, v)
	}
	if js.BasicAuth.Username != "" {
		req.SetBasicAuth(js.BasicAuth.Username, js.BasicAuth.Password)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// joinServerStub answers 200 when the request carries X-Api-Key apiKey and
// the Basic credentials user/password, and 401 otherwise.
func joinServerStub(t *testing.T, apiKey, user, password string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if r.Header.Get("X-Api-Key") != apiKey || !ok || u != user || p != password {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestHeaderValueRuleMatchesNetHTTP checks headerValueProblem against what
// Go's HTTP client really sends, for every byte value.
func TestHeaderValueRuleMatchesNetHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	values := []string{"v\n", "v\r\n", "\n", "v\n\n", "", "v"}
	for b := 0; b < 256; b++ {
		values = append(values, "a"+string([]byte{byte(b)})+"b")
	}
	for _, v := range values {
		_, err := postLikeTTS(t, srv.URL, ttsJoinServerFile{Headers: map[string]string{"X-Api-Key": v}})
		refused := err != nil && strings.Contains(err.Error(), "invalid header field value")
		if err != nil && !refused {
			t.Fatalf("%q: unexpected error %v", v, err)
		}
		if got := headerValueProblem(v); (got != "") != refused {
			t.Errorf("%q: headerValueProblem = %q, but net/http refused = %v", v, got, refused)
		}
	}
	if got := headerValueProblem("api-key\n"); got != "ends with a line break" {
		t.Errorf("trailing newline: %q", got)
	}
	if got := headerValueProblem("a\x00b"); got != "contains a NUL byte at byte 2 of 3" {
		t.Errorf("NUL: %q", got)
	}
}

const secretHeadersJS = `fqdn: 'js.example.com'
protocol: 'BI1.0'
basic-auth:
  username: 'ns-1'
  password: {secret: 'tts/js', json-key: 'password'}
headers:
  X-Api-Key: {secret: 'tts/api'}
`

// TestSecretWithTrailingNewline follows a secret stored with a trailing
// newline from the checker to the request TTS sends.
func TestSecretWithTrailingNewline(t *testing.T) {
	srv := joinServerStub(t, "api-key-value", "ns-1", "hunter2")

	// What TTS reads when the values are clean: the request is accepted.
	files := map[string]string{"config.yml": goodConfig, "js.yml": secretHeadersJS}
	repo, probs := Load(repoFS(files), ".", testNow)
	if len(probs) != 0 {
		t.Fatal(dump(probs))
	}
	materialize := func(secrets map[string]string) (ttsJoinServerFile, error) {
		get := func(_ context.Context, id string) (string, error) {
			if v, ok := secrets[id]; ok {
				return v, nil
			}
			return "", errors.New("ResourceNotFoundException")
		}
		out, err := Materialize(context.Background(), repo.Files(), repo.SecretRefs, get)
		if err != nil {
			return ttsJoinServerFile{}, err
		}
		var js ttsJoinServerFile
		for _, f := range out {
			if f.Path == "js.yml" {
				if err := yaml.Unmarshal(f.Data, &js); err != nil {
					t.Fatal(err)
				}
			}
		}
		return js, nil
	}
	js, err := materialize(map[string]string{"tts/api": "api-key-value", "tts/js": `{"password": "hunter2"}`})
	if err != nil {
		t.Fatal(err)
	}
	if code, err := postLikeTTS(t, srv.URL, js); err != nil || code != http.StatusOK {
		t.Fatalf("clean values: status %d, error %v", code, err)
	}

	// What the resolver used to write for secrets stored with a trailing
	// newline (the value as a double-quoted YAML string): Go refuses the
	// header, and the Join Server refuses the password.
	oldOutput := strings.NewReplacer(
		"{secret: 'tts/api'}", `"api-key-value\n"`,
		"{secret: 'tts/js', json-key: 'password'}", `"hunter2\n"`).Replace(secretHeadersJS)
	var old ttsJoinServerFile
	if err := yaml.Unmarshal([]byte(oldOutput), &old); err != nil {
		t.Fatal(err)
	}
	if _, err := postLikeTTS(t, srv.URL, old); err == nil || !strings.Contains(err.Error(), `net/http: invalid header field value for "X-Api-Key"`) {
		t.Errorf("header with trailing newline: want Go's invalid header field value, got %v", err)
	}
	old.Headers["X-Api-Key"] = "api-key-value"
	if code, err := postLikeTTS(t, srv.URL, old); err != nil || code != http.StatusUnauthorized {
		t.Errorf("password with trailing newline: want 401 from the Join Server, got %d, %v", code, err)
	}
	// The checker refuses that file as it is...
	_, probs = Load(repoFS(map[string]string{"config.yml": goodConfig, "js.yml": oldOutput}), ".", testNow)
	requireProblem(t, probs, "interop.bad-header-value", "js.yml", lineOf(t, oldOutput, "X-Api-Key"))
	requireProblem(t, probs, "interop.bad-credential", "js.yml", lineOf(t, oldOutput, "password"))

	// ...and Materialize refuses the secrets, naming file, path and secret,
	// never the value.
	for _, c := range []struct {
		name    string
		secrets map[string]string
		want    []string
	}{
		{"header", map[string]string{"tts/api": "api-key-value\n", "tts/js": `{"password": "hunter2"}`},
			[]string{"js.yml: headers.X-Api-Key: ", "{secret tts/api}", "ends with a line break", "invalid header field value", "without the trailing newline"}},
		{"header CRLF", map[string]string{"tts/api": "api-key-value\r\n", "tts/js": `{"password": "hunter2"}`},
			[]string{"js.yml: headers.X-Api-Key: ", "ends with a line break"}},
		{"header NUL", map[string]string{"tts/api": "api-key\x00value", "tts/js": `{"password": "hunter2"}`},
			[]string{"js.yml: headers.X-Api-Key: ", "contains a NUL byte at byte 8 of 13", "without line breaks or other control characters"}},
		{"password", map[string]string{"tts/api": "api-key-value", "tts/js": `{"password": "hunter2\n"}`},
			[]string{"js.yml: basic-auth.password: ", "{secret tts/js, json-key password}", "ends with a line break", "refuse them", "without the trailing newline"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := materialize(c.secrets)
			if err == nil {
				t.Fatal("Materialize accepted the value")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, v := range []string{"api-key", "hunter2"} {
				if strings.Contains(err.Error(), v) {
					t.Errorf("error reveals a secret value: %v", err)
				}
			}
		})
	}
}

// TestLiteralValuesWithControlCharacters: the checker refuses literal
// header and basic-auth values that Go or the Join Server would refuse.
func TestLiteralValuesWithControlCharacters(t *testing.T) {
	js := "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\nbasic-auth:\n  username: \"ns\\t1\\r2\" #<user\n  password: \"pw\\x7F\" #<pw\nheaders:\n  X-Version: |  #<block\n    2\n  X-Tab: \"a\\tb\"\n  X-Number: 2\n"
	_, probs := Load(repoFS(map[string]string{"config.yml": goodConfig, "js.yml": js}), ".", testNow)
	requireProblem(t, probs, "interop.bad-credential", "js.yml", lineOf(t, js, "#<user"))
	requireProblem(t, probs, "interop.bad-credential", "js.yml", lineOf(t, js, "#<pw"))
	requireProblem(t, probs, "interop.bad-header-value", "js.yml", lineOf(t, js, "#<block"))
	if n := len(probs.Errors()); n != 3 {
		t.Errorf("a tab and a number are valid header values; want 3 errors, got:\n%s", dump(probs))
	}
}
