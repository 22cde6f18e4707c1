package test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/testpki"
)

// TestDatabaseBootstrapAgainstRealPostgreSQL runs the Identity Server's
// database bootstrap exactly as synthesized (the command of the task
// definition that Custom::TaskRun runs) with /bin/sh and the real
// ttn-lw-stack against a real PostgreSQL on loopback, with the role and
// database the Data template creates and the URI the Configuration template's
// Custom::DatabaseURI composes (by the function the Lambda runs).
func TestDatabaseBootstrapAgainstRealPostgreSQL(t *testing.T) {
	tts := findTool(t, "ttn-lw-stack", os.Getenv("TTS_BINARY"))
	pgBin := filepath.Dir(findTool(t, "initdb", postgresBinDir()+"/initdb"))
	psql := findTool(t, "psql", "")

	a := synthOnce(t, nil)
	script, env := bootstrapTask(t, a)
	dbName, dbUser, uriProps := databaseOf(t, a)

	pg := startPostgres(t, pgBin, psql)
	dbPassword := "pw-" + randomHex(t, 8) + ".,=^_"
	pg.sql(t, "postgres", fmt.Sprintf(`CREATE ROLE %q LOGIN PASSWORD '%s'`, dbUser, dbPassword))
	secret, _ := json.Marshal(map[string]any{"username": dbUser, "password": dbPassword, "host": "127.0.0.1", "port": pg.port})
	uri, err := deployres.DatabaseURI(string(secret), uriProps.Database, uriProps.SSLMode)
	if err != nil {
		t.Fatalf("composing the database URI as Custom::DatabaseURI does: %v", err)
	}

	// ttn-lw-stack on PATH under its own name, as in the image.
	binDir := t.TempDir()
	if err := os.Symlink(tts, filepath.Join(binDir, "ttn-lw-stack")); err != nil {
		t.Fatal(err)
	}
	adminPassword := "Adm1n-" + randomHex(t, 12)
	consoleSecret := "console-" + randomHex(t, 16)
	secrets := []string{adminPassword, consoleSecret, dbPassword}
	baseEnv := append(append([]string{"PATH=" + binDir + ":/usr/bin:/bin", "HOME=" + binDir}, env...), "TTN_LW_IS_DATABASE_URI="+uri)
	runEnv := func(console string) []string {
		return append(append([]string(nil), baseEnv...), "ADMIN_PASSWORD="+adminPassword, "CONSOLE_SECRET="+console)
	}
	var logs []string
	run := func(name string, env []string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		logs = append(logs, name+":\n"+string(out))
		return string(out), err
	}
	userHash := func() string {
		return pg.sql(t, dbName, `SELECT u.password FROM users u JOIN accounts a ON a.account_id = u.id AND a.account_type = 'user' WHERE a.uid = 'admin' AND u.admin`)
	}
	clientHash := func() string {
		return pg.sql(t, dbName, `SELECT client_secret FROM clients WHERE client_id = 'console'`)
	}
	recreate := func() {
		pg.sql(t, "postgres", fmt.Sprintf(`DROP DATABASE IF EXISTS %q`, dbName))
		pg.sql(t, "postgres", fmt.Sprintf(`CREATE DATABASE %q OWNER %q`, dbName, dbUser))
	}
	defer func() {
		// (b) Nothing the bootstrap printed holds a secret.
		for _, l := range logs {
			for _, s := range secrets {
				if strings.Contains(l, s) {
					t.Errorf("a secret is in the bootstrap's output:\n%s", strings.ReplaceAll(l, s, "<SECRET>"))
				}
			}
		}
		if t.Failed() {
			for _, l := range logs {
				for _, s := range secrets {
					l = strings.ReplaceAll(l, s, "<SECRET>")
				}
				t.Log(l)
			}
		}
	}()

	// (a) A fresh database: schema, administrator and Console client.
	recreate()
	if out, err := run("first run", runEnv(consoleSecret)); err != nil {
		t.Fatalf("first bootstrap: %v\n%s", err, out)
	}
	if n := pg.sql(t, dbName, `SELECT count(*) FROM bun_migrations`); n == "" || n == "0" {
		t.Errorf("%s applied migrations after the first bootstrap", n)
	}
	firstHash, firstClient := userHash(), clientHash()
	if firstHash == "" || firstClient == "" {
		t.Fatalf("after the first bootstrap: admin password hash %q, Console client secret hash %q; want both", firstHash, firstClient)
	}
	if redirects := pg.sql(t, dbName, `SELECT array_to_string(redirect_uris, ' ') FROM clients WHERE client_id = 'console'`); !strings.Contains(redirects, "https://"+a.Params.DomainName+"/console/oauth/callback") {
		t.Errorf("Console redirect URIs %q, want the deployment's domain", redirects)
	}

	// (c) The operator changes the administrator's password (as the Console
	// would, here with the command); the next bootstrap keeps it, and
	// updates the Console client to a new secret.
	operator := exec.Command(tts, "is-db", "create-admin-user", "--id", "admin", "--email", a.Params.AdminEmail, "--password", "Changed-"+randomHex(t, 8))
	operator.Env = baseEnv
	if out, err := operator.CombinedOutput(); err != nil {
		t.Fatalf("changing the admin password: %v\n%s", err, out)
	}
	changed := userHash()
	if changed == firstHash {
		t.Fatal("the operator's password change did not change the stored hash; the check below would prove nothing")
	}
	newConsole := "console-" + randomHex(t, 16)
	secrets = append(secrets, newConsole)
	if out, err := run("second run", runEnv(newConsole)); err != nil {
		t.Fatalf("second bootstrap: %v\n%s", err, out)
	}
	if userHash() != changed {
		t.Error("the second bootstrap reverted the administrator's changed password")
	}
	if clientHash() == firstClient {
		t.Error("the second bootstrap did not update the Console client's secret")
	}

	// (d) Two bootstraps started together on a fresh database both succeed
	// (the deployment runs one; a retried migration finds the schema).
	recreate()
	type result struct {
		out string
		err error
	}
	results := make(chan result, 2)
	for i := range 2 {
		go func() {
			out, err := run(fmt.Sprintf("concurrent run %d", i+1), runEnv(consoleSecret))
			results <- result{out, err}
		}()
	}
	for range 2 {
		if r := <-results; r.err != nil {
			t.Errorf("a concurrent bootstrap failed: %v\n%s", r.err, r.out)
		}
	}
	if userHash() == "" || clientHash() == "" {
		t.Error("after two concurrent bootstraps the administrator or the Console client is missing")
	}
}

// bootstrapTask returns the script and the plain environment of the task
// definition that the IdentityServer stack's Custom::TaskRun runs.
func bootstrapTask(t *testing.T, a *Assembly) (string, []string) {
	t.Helper()
	tpl := a.Stack(t, "IdentityServer")
	_, run := only(t, tpl, "Custom::TaskRun")
	task := tpl.Resources[refTo(get(run.Properties, "TaskDefinition"))]
	for _, d := range asList(get(task.Properties, "ContainerDefinitions")) {
		if get(d, "Name") != get(run.Properties, "Container") {
			continue
		}
		if got := jsonText(get(d, "EntryPoint")); got != `["/bin/sh","-c"]` {
			t.Fatalf("the bootstrap runs %s, want /bin/sh -c", got)
		}
		script, _ := get(d, "Command", "0").(string)
		var env []string
		for k, v := range namedValues(get(d, "Environment"), "Value") {
			s, ok := v.(string)
			switch {
			case ok:
			case !strings.HasPrefix(k, "TTN_LW_"):
				// Not read by The Things Stack (a value that only makes
				// the task definition change, known at deploy time).
				s = "deploy-time-value"
			default:
				t.Fatalf("environment %s is %s, want a literal", k, jsonText(v))
			}
			env = append(env, k+"="+s)
		}
		return script, env
	}
	t.Fatalf("no container %v in the bootstrap's task definition", get(run.Properties, "Container"))
	return "", nil
}

// databaseOf returns the database and user the Data template's cluster
// creates, and the Configuration template's URI properties.
func databaseOf(t *testing.T, a *Assembly) (string, string, deployres.DatabaseURIProps) {
	t.Helper()
	_, cluster := only(t, a.Stack(t, "Data"), "AWS::RDS::DBCluster")
	name, _ := get(cluster.Properties, "DatabaseName").(string)
	user, _ := get(cluster.Properties, "MasterUsername").(string)
	_, uri := only(t, a.Stack(t, "Configuration"), "Custom::DatabaseURI")
	var p deployres.DatabaseURIProps
	p.Database, _ = get(uri.Properties, "Database").(string)
	p.SSLMode, _ = get(uri.Properties, "SSLMode").(string)
	if name == "" || user == "" || p.Database == "" {
		t.Fatalf("database %q, user %q, URI database %q: want all three in the templates", name, user, p.Database)
	}
	return name, user, p
}

// findTool returns the path of a program: explicit when set, else on PATH.
// A missing tool skips the test loudly, and fails it under CI=true.
func findTool(t *testing.T, name, explicit string) string {
	t.Helper()
	if explicit != "" {
		if _, err := os.Stat(explicit); err == nil {
			return explicit
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := fmt.Sprintf("%s not found (set TTS_BINARY for ttn-lw-stack; install postgresql for initdb, postgres and psql): the database bootstrap is NOT tested", name)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED: " + msg)
	return ""
}

// postgresBinDir is where Debian installs the server programs.
func postgresBinDir() string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if len(matches) == 0 {
		return ""
	}
	return matches[len(matches)-1]
}

type postgres struct {
	dir, psql string
	port      int
	asUser    *syscall.Credential
}

// startPostgres runs a throwaway PostgreSQL with TLS on 127.0.0.1 (as user
// postgres when the test runs as root: the server refuses root), and stops
// it when the test ends. Local socket connections are trusted; TCP ones
// need the password.
func startPostgres(t *testing.T, bin, psql string) *postgres {
	t.Helper()
	dir, err := os.MkdirTemp("", "isbootstrap-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	pg := &postgres{dir: dir, psql: psql, port: freePort(t)}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, PostgreSQL needs the user postgres (the Debian package creates it): %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.asUser = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := pg.command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	leaf := testpki.New(t).IssueDays(t, []string{"127.0.0.1"}, 1)
	for name, content := range map[string][]byte{"server.crt": leaf.CertPEM, "server.key": leaf.KeyPEM} {
		p := filepath.Join(data, name)
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if pg.asUser != nil {
			if err := os.Chown(p, int(pg.asUser.Uid), int(pg.asUser.Gid)); err != nil {
				t.Fatal(err)
			}
		}
	}
	server := pg.command(filepath.Join(bin, "postgres"), "-D", data, "-k", dir, "-p", strconv.Itoa(pg.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "ssl=on", "-c", "fsync=off")
	var log bytes.Buffer
	server.Stdout, server.Stderr = &log, &log
	if err := server.Start(); err != nil {
		t.Fatalf("starting postgres: %v", err)
	}
	t.Cleanup(func() {
		_ = server.Process.Signal(syscall.SIGINT) // fast shutdown
		done := make(chan struct{})
		go func() { _ = server.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = server.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if out, err := pg.command(psql, "-h", dir, "-p", strconv.Itoa(pg.port), "-U", "postgres", "-c", "SELECT 1").CombinedOutput(); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("PostgreSQL did not start: %v\n%s\n%s", err, out, log.String())
		}
	}
	return pg
}

// command runs as the server's user.
func (pg *postgres) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.asUser}
	cmd.Dir = pg.dir
	return cmd
}

// sql runs one statement as the superuser over the local socket and returns
// its unaligned output.
func (pg *postgres) sql(t *testing.T, db, statement string) string {
	t.Helper()
	out, err := pg.command(pg.psql, "-h", pg.dir, "-p", strconv.Itoa(pg.port), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-At", "-c", statement).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %s: %v\n%s", statement, err, out)
	}
	return strings.TrimSpace(string(out))
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
