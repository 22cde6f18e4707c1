package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// opsAccess runs the commands that README's "Ops access" documents for make
// exec, as ECS Exec runs them in a running task (Target.Exec): an API key
// for the administrator made with `ttn-lw-stack is-db create-user-api-key`
// in the Identity Server's task, which then authenticates a REST call
// through the proxy; `ttn-lw-stack is-db migrate` there (what the database
// bootstrap runs, a no-op on a migrated database); and
// `ttn-lw-stack ns-db cleanup --dry-run` in the Network Server's task.
func (s *scenario) opsAccess(ctx context.Context) (string, error) {
	run := func(service string, argv ...string) (ExecResult, error) {
		res, err := s.t.Exec(ctx, service, argv...)
		if err != nil {
			return res, fmt.Errorf("%s in %s: %w", strings.Join(argv, " "), service, err)
		}
		if res.Code != 0 {
			return res, fmt.Errorf("%s in %s: exit %d: %s", strings.Join(argv, " "), service, res.Code, tail(res.Stderr, 5))
		}
		return res, nil
	}
	name := "ops-" + randomHex(4)
	res, err := run("is", "ttn-lw-stack", "is-db", "create-user-api-key", "--user-id", s.t.AdminUserID, "--name", name)
	if err != nil {
		return "", err
	}
	var key struct {
		ID   string `json:"id"`
		Key  string `json:"key"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &key); err != nil || key.Key == "" || key.Name != name {
		return "", fmt.Errorf("is-db create-user-api-key printed no API key named %s (%v): %.200s", name, err, res.Stdout)
	}
	var user struct {
		IDs struct {
			UserID string `json:"user_id"`
		} `json:"ids"`
	}
	if err := s.web.api(ctx, http.MethodGet, "/api/v3/users/"+s.t.AdminUserID, key.Key, nil, &user); err != nil {
		return "", fmt.Errorf("the API key of is-db create-user-api-key: %w", err)
	}
	if user.IDs.UserID != s.t.AdminUserID {
		return "", fmt.Errorf("GET /api/v3/users/%s with the new API key answered user %q", s.t.AdminUserID, user.IDs.UserID)
	}
	if _, err := run("is", "ttn-lw-stack", "is-db", "migrate"); err != nil {
		return "", err
	}
	if _, err := run("ns", "ttn-lw-stack", "ns-db", "cleanup", "--dry-run"); err != nil {
		return "", err
	}
	return fmt.Sprintf("API key %s of %s authenticates GET /api/v3/users/%s; is-db migrate and ns-db cleanup --dry-run exit 0", key.ID, s.t.AdminUserID, s.t.AdminUserID), nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
