package smoke

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/internal/ports"
	"github.com/lorawan-stack-aws/tts-ecs/internal/synth/ttsmetrics"
)

// metricsCheckName is the scenario's row of the metrics check.
const metricsCheckName = "Metrics: /metrics needs the generated password; each collector keeps exactly the table's series, as The Things Stack exports them"

// scrape GETs a /metrics URL with basic auth (none when user is "") and
// returns the status and body.
func scrape(ctx context.Context, url, user, password string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// metrics runs after the traffic checks (gateway, joins), because The Things
// Stack exports its traffic series only once it has counted something. For
// every component: /metrics refuses no password and a wrong one (401) and
// answers the generated one. For every collector: its configuration, expanded
// with its container's environment as the collector does, scrapes the
// component as it says (target, path, user, the password from its secret), and
// its keep rule (Prometheus's anchored match) and metric declarations applied
// to that real scrape keep exactly the table's series of the component, each
// with its type and every label kept as a dimension (ttsmetrics.Verify).
// Every component that the table keeps series of must have a collector.
func (s *scenario) metrics(ctx context.Context) (string, error) {
	if len(s.t.Metrics) == 0 {
		return "", errors.New("the deployment runs no component of The Things Stack with an HTTP listener")
	}
	var problems, details []string
	collected := map[string]bool{}
	for _, ep := range s.t.Metrics {
		url := "http://" + ep.HTTPAddr + ttsmetrics.MetricsPath
		if ep.Password == "" {
			problems = append(problems, ep.Component+": no http.metrics.password: /metrics is open to the VPC")
			continue
		}
		for _, try := range []struct{ user, password, what string }{{"", "", "no password"}, {ttsmetrics.Username, ep.Password + "x", "a wrong password"}} {
			code, _, err := scrape(ctx, url, try.user, try.password)
			if err != nil || code != http.StatusUnauthorized {
				problems = append(problems, fmt.Sprintf("%s: /metrics with %s: HTTP %d %v, want 401", ep.Component, try.what, code, err))
			}
		}
		if code, _, err := scrape(ctx, url, ttsmetrics.Username, ep.Password); err != nil || code != http.StatusOK {
			problems = append(problems, fmt.Sprintf("%s: /metrics with the password: HTTP %d %v", ep.Component, code, err))
			continue
		}
		if ep.CollectorConfig == "" {
			continue
		}
		collected[ep.Component] = true
		expanded, err := ttsmetrics.Expand(ep.CollectorConfig, ep.CollectorEnv)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s collector: %v", ep.Component, err))
			continue
		}
		col, err := ttsmetrics.ParseCollector(expanded)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s collector: %v", ep.Component, err))
			continue
		}
		host, port, err := net.SplitHostPort(col.Target)
		if err != nil || (host != "localhost" && host != "127.0.0.1") {
			problems = append(problems, fmt.Sprintf("%s collector: target %q is not the task's own localhost", ep.Component, col.Target))
			continue
		}
		code, body, err := scrape(ctx, "http://"+net.JoinHostPort(ep.TaskHost, port)+col.Path, col.Username, col.Password)
		if err != nil || code != http.StatusOK {
			problems = append(problems, fmt.Sprintf("%s collector: scraping as configured: HTTP %d %v", ep.Component, code, err))
			continue
		}
		e, err := ttsmetrics.ParseExposition(body)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: /metrics: %v", ep.Component, err))
			continue
		}
		p, summary := ttsmetrics.Verify(ports.Component(ep.Component), col, e)
		for _, x := range p {
			problems = append(problems, ep.Component+" collector: "+x)
		}
		details = append(details, summary)
	}
	for _, c := range ttsmetrics.Collected() {
		if !collected[string(c)] {
			problems = append(problems, fmt.Sprintf("%s: the table keeps its series but its task has no collector", c))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return "", errors.New(strings.Join(problems, "; "))
	}
	return fmt.Sprintf("%d components answer 401 without the password; %s", len(s.t.Metrics), strings.Join(details, "; ")), nil
}
