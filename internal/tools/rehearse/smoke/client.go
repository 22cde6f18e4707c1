package smoke

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// webClient talks to the deployment through the proxy as a browser or API
// client on the public URL would: requests go to HTTPBaseURL with the
// public Host, redirects to PublicBaseURL are mapped back, and cookies are
// kept (one site, so by name only).
type webClient struct {
	t    Target
	http *http.Client

	mu      sync.Mutex
	cookies map[string]*http.Cookie
}

func newWebClient(t Target) *webClient {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: t.RootCAs, ServerName: t.Domain, MinVersion: tls.VersionTLS12},
	}
	return &webClient{
		t: t,
		http: &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		cookies: map[string]*http.Cookie{},
	}
}

// response is a finished HTTP exchange.
type response struct {
	Status   int
	Header   http.Header
	Body     []byte
	Location string // mapped to a path on the deployment when it is ours
}

// do sends method path (a path with query on the deployment) with body and
// headers; bearer, when set, is sent as Authorization.
func (c *webClient) do(ctx context.Context, method, path string, body []byte, header http.Header) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.t.HTTPBaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Host = c.t.Domain
	for k, v := range header {
		req.Header[k] = v
	}
	c.mu.Lock()
	for _, ck := range c.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	c.mu.Unlock()
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	c.mu.Unlock()
	return &response{Status: res.StatusCode, Header: res.Header, Body: b, Location: c.local(res.Header.Get("Location"))}, nil
}

// local maps a Location on the public URL to a path on the deployment and
// leaves other locations as they are.
func (c *webClient) local(loc string) string {
	pub := strings.TrimSuffix(c.t.PublicBaseURL, "/")
	switch {
	case loc == "":
		return ""
	case strings.HasPrefix(loc, pub+"/"):
		return strings.TrimPrefix(loc, pub)
	default:
		return loc
	}
}

// api calls the HTTP API with the bearer token: in and out are JSON.
func (c *webClient) api(ctx context.Context, method, path, bearer string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	h := http.Header{"Authorization": {"Bearer " + bearer}, "Accept": {"application/json"}}
	if in != nil {
		h.Set("Content-Type", "application/json")
	}
	res, err := c.do(ctx, method, path, body, h)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if res.Status/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, res.Status, snippet(res.Body))
	}
	if out != nil {
		if err := json.Unmarshal(res.Body, out); err != nil {
			return fmt.Errorf("%s %s: answer is not JSON: %w", method, path, err)
		}
	}
	return nil
}

var csrfTokenRE = regexp.MustCompile(`CSRF_TOKEN:("(?:[^"\\]|\\.)*")`)

// csrfToken reads the token that the web UI template gives its scripts.
func csrfToken(page []byte) (string, error) {
	m := csrfTokenRE.FindSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("no CSRF_TOKEN in the page (%d bytes)", len(page))
	}
	// The template escapes for JavaScript: \uXXXX and \/ are JSON too,
	// \xXX is not.
	lit := regexp.MustCompile(`\\x([0-9a-fA-F]{2})`).ReplaceAll(m[1], []byte(`\u00$1`))
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return "", fmt.Errorf("CSRF_TOKEN %s: %w", m[1], err)
	}
	return s, nil
}

// snippet is the start of a body for a message.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// query builds a path with query.
func query(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return path + "?" + v.Encode()
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(user) + ":" + url.QueryEscape(pass)))
}
