package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// filterPattern is the one form of CloudWatch Logs JSON filter pattern that
// the proxy's metric filters use: { $.<field> = "<value>" }, where a value
// ending in * matches every string it starts with ("*": any value). Per
// CloudWatch Logs, a JSON pattern matches only events that are JSON objects
// and that have the field.
var filterPattern = regexp.MustCompile(`^\{ \$\.([a-z_]+) = "([^"*]*)(\*?)" \}$`)

func matchFilter(t *testing.T, pattern, line string) bool {
	t.Helper()
	m := filterPattern.FindStringSubmatch(pattern)
	if m == nil {
		t.Fatalf("filter pattern %q is not of the form this test evaluates", pattern)
	}
	var event map[string]any
	if err := json.Unmarshal([]byte(line), &event); err != nil {
		return false
	}
	v, ok := event[m[1]]
	if !ok {
		return false
	}
	s := fmt.Sprint(v)
	if m[3] == "*" {
		return strings.HasPrefix(s, m[2])
	}
	return s == m[2]
}

// The metric filters of the proxy's log, applied to what real nginx with our
// configuration writes to stdout and stderr (the log group's events): every
// access log line is a request, the one answered 502 by an upstream that is
// down is the one server error; the error log's lines are neither.
func TestIntegrationLogFiltersMatchNginxLines(t *testing.T) {
	bin := nginxBinary(t)
	ups, _ := fakeComponents(t)
	p := freePorts(t, 5)
	sample := httpSamples()[0]
	down := ups[sample.want]
	down.HTTP = fmt.Sprintf("127.0.0.1:%d", p[4])
	ups[sample.want] = down
	c := Config{Upstreams: ups, ListenAddress: "127.0.0.1", Listen: Listen{HTTP: p[0], GRPC: p[1], Redirect: p[2], Health: p[3]}}
	out := runNginx(t, bin, c)
	base := fmt.Sprintf("http://127.0.0.1:%d", p[0])
	client := &http.Client{Timeout: 10 * time.Second}
	statuses := map[string]int{}
	var other pathSample
	for _, s := range httpSamples() {
		if s.want != sample.want && s.method == http.MethodGet {
			other = s
			break
		}
	}
	for _, path := range []string{sample.path, other.path, "/metrics"} {
		resp, err := client.Get(base + path)
		must(t, err)
		resp.Body.Close()
		statuses[path] = resp.StatusCode
	}
	if statuses[sample.path] != http.StatusBadGateway || statuses[other.path] != http.StatusOK || statuses["/metrics"] != http.StatusNotFound {
		t.Fatalf("statuses %v, want 502 (upstream down), 200 and 404", statuses)
	}
	// nginx writes the access log line when the request ends; wait for it.
	var lines []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		lines = strings.Split(strings.TrimSpace(out.String()), "\n")
		n := 0
		for _, l := range lines {
			if strings.Contains(l, `"status"`) {
				n++
			}
		}
		if n >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var requests, errors, errorLog int
	for _, l := range lines {
		isRequest, isError := matchFilter(t, AccessLogFilter, l), matchFilter(t, ServerErrorFilter, l)
		if isError && !isRequest {
			t.Errorf("a line counts as a server error but not as a request: %s", l)
		}
		if isRequest {
			requests++
		}
		if isError {
			errors++
			if !strings.Contains(l, sample.path) {
				t.Errorf("server error line is not the request to the stopped upstream: %s", l)
			}
		}
		if strings.Contains(l, "[error]") {
			errorLog++
			if isRequest {
				t.Errorf("an error log line counts as a request: %s", l)
			}
		}
	}
	// The health checks of runNginx are access log lines too (on the health port).
	if requests < 3 || errors != 1 || errorLog == 0 {
		t.Errorf("%d requests, %d server errors, %d error log lines; want at least 3, exactly 1, at least 1 (nginx's connect error):\n%s", requests, errors, errorLog, strings.Join(lines, "\n"))
	}
}
