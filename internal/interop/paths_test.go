package interop

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestRequestPathsAsTTSSendsThem loads each path value, builds the URL as
// TTS does (scheme://fqdn:port/PATH, JoinServer.URL) and posts to it through
// Go's HTTP client against a local server: the checker must refuse exactly
// the values whose request fails or loses part of what is written, and warn
// where Go rewrites the path.
func TestRequestPathsAsTTSSendsThem(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.RequestURI }))
	defer srv.Close()
	su, _ := url.Parse(srv.URL)

	const (
		ok = iota
		warning
		refused
	)
	for _, c := range []struct {
		path string // as written in the file (YAML double-quoted)
		want int
		sent string // RequestURI the Join Server receives; "" when the request fails
		code string // the checker's code
	}{
		{"api/join?code=XYZ", ok, "/api/join?code=XYZ", ""},
		{"api/join?code=XYZ&tenant=a%2Fb", ok, "/api/join?code=XYZ&tenant=a%2Fb", ""},
		{"api/join?a?b", ok, "/api/join?a?b", ""},
		{"api/v1/lbi/joinreq", ok, "/api/v1/lbi/joinreq", ""},
		{"api/join#top", refused, "/api/join", "interop.path-fragment"},
		{"api/join?code=XYZ#top", refused, "/api/join?code=XYZ", "interop.path-fragment"},
		{"api/100%", refused, "", "interop.bad-path"},
		{"api/join\\u0001", refused, "", "interop.bad-path"},
		{"api/join?code=X YZ", refused, "", "interop.path-query-space"},
		{"api/join now", warning, "/api/join%20now", "interop.path-chars"},
		{"api/jöin", warning, "/api/j%C3%B6in", "interop.path-chars"},
		{"api/join?name=\\\"x\\\"", warning, "/api/join?name=\"x\"", "interop.path-query-chars"},
		{"/api/join", warning, "//api/join", "interop.path-leading-slash"},
	} {
		t.Run(c.path, func(t *testing.T) {
			js := fmt.Sprintf("scheme: 'http'\nfqdn: '%s'\nport: %s\nprotocol: 'BI1.0'\npaths:\n  join: \"%s\" #<\n", su.Hostname(), su.Port(), c.path)
			repo, probs := Load(repoFS(map[string]string{"config.yml": goodConfig, "js.yml": js}), ".", testNow)
			var written string
			if err := yamlUnquote(c.path, &written); err != nil {
				t.Fatal(err)
			}
			// The real request.
			got = ""
			code, err := postLikeTTS(t, fmt.Sprintf("http://%s:%s/%s", su.Hostname(), su.Port(), written), ttsJoinServerFile{})
			switch {
			case c.sent == "" && err == nil && code != http.StatusBadRequest:
				t.Fatalf("the request succeeded (%d, %q); the case is wrong", code, got)
			case c.sent != "" && (err != nil || got != c.sent):
				t.Fatalf("request: error %v, server got %q, want %q; the case is wrong", err, got, c.sent)
			}
			// The checker.
			line := lineOf(t, js, "#<")
			switch c.want {
			case ok:
				for _, p := range probs {
					if p.Line == line {
						t.Errorf("want no problem, got %s", p)
					}
				}
				if u := repo.JoinServers["js.yml"].URL(repo.JoinServers["js.yml"].Paths.Join); u != srv.URL+"/"+written {
					t.Errorf("URL = %s, want %s", u, srv.URL+"/"+written)
				}
			case warning:
				requireProblem(t, probs, c.code, "js.yml", line)
				if findProblem(probs.Errors(), "", "js.yml", line) != nil {
					t.Errorf("want only a warning:\n%s", dump(probs))
				}
			case refused:
				requireProblem(t, probs, c.code, "js.yml", line)
			}
		})
	}
}

// TestExampleQueryPathURL shows the URL TTS builds from a path with a query,
// with the default scheme and port.
func TestExampleQueryPathURL(t *testing.T) {
	js := "fqdn: 'js.example.com'\nprotocol: 'BI1.0'\npaths:\n  join: 'api/join?code=XYZ'\n  app-s-key: 'api/appskey?code=XYZ'\n"
	repo, probs := Load(repoFS(withJS(js)), ".", testNow)
	if len(probs) != 0 {
		t.Fatal(dump(probs))
	}
	s := repo.JoinServers["js.yml"]
	for p, want := range map[string]string{s.Paths.Join: "https://js.example.com:443/api/join?code=XYZ", s.Paths.AppSKey: "https://js.example.com:443/api/appskey?code=XYZ"} {
		if u := s.URL(p); u != want {
			t.Errorf("URL(%q) = %s, want %s", p, u, want)
		}
	}
}

// yamlUnquote reads a YAML double-quoted string body as the checker does.
func yamlUnquote(s string, out *string) error {
	var v struct{ V string }
	if err := yaml.Unmarshal([]byte("v: \""+s+"\"\n"), &v); err != nil {
		return err
	}
	*out = v.V
	return nil
}
