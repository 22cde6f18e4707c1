package rehearse

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// dataTier starts PostgreSQL for the template's AWS::RDS::DBCluster and
// Redis for its AWS::ElastiCache::ReplicationGroup.
func (r *run) dataTier(ctx context.Context) error {
	if err := r.postgres(ctx); err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	if err := r.redis(ctx); err != nil {
		return fmt.Errorf("Redis: %w", err)
	}
	return nil
}

func (r *run) postgres(ctx context.Context) error {
	st, id, ok := r.a.Find("AWS::RDS::DBCluster")
	if !ok {
		r.note("no AWS::RDS::DBCluster in the assembly: no PostgreSQL started")
		return nil
	}
	props, err := r.evalProps(st.Name, st.Resources[id].Properties)
	if err != nil {
		return fmt.Errorf("%s/%s: %w", st.Name, id, err)
	}
	port := intProp(props["Port"], 5432)
	dbName, _ := props["DatabaseName"].(string)
	forceSSL := false
	if pg, ok := props["DBClusterParameterGroupName"].(string); ok {
		for _, pid := range st.ResourcesOfType("AWS::RDS::DBClusterParameterGroup") {
			if ref, _ := r.ev.Eval(st.Name, map[string]any{"Ref": pid}); ref == pg {
				params, _ := st.Resources[pid].Properties["Parameters"].(map[string]any)
				forceSSL = fmt.Sprint(params["rds.force_ssl"]) == "1"
			}
		}
	}
	// The credentials: the secret attached to the cluster (RDS adds host and
	// port to it, as it does in AWS).
	var secretARN string
	for _, sid := range st.ResourcesOfType("AWS::SecretsManager::SecretTargetAttachment") {
		p := st.Resources[sid].Properties
		if t, _ := r.ev.Eval(st.Name, p["TargetId"]); t == r.v.Refs[st.Name+"/"+id] {
			s, err := r.ev.String(st.Name, p["SecretId"])
			if err != nil {
				return err
			}
			secretARN = s
		}
	}
	if secretARN == "" {
		return fmt.Errorf("%s/%s: no AWS::SecretsManager::SecretTargetAttachment names the cluster; the rehearsal reads the credentials from it", st.Name, id)
	}
	raw, err := r.getSecret(ctx, secretARN)
	if err != nil {
		return err
	}
	var cred map[string]any
	if err := json.Unmarshal([]byte(raw), &cred); err != nil {
		return fmt.Errorf("the cluster's secret is not JSON: %v", err)
	}
	username, _ := cred["username"].(string)
	password, _ := cred["password"].(string)
	if mu, ok := props["MasterUsername"].(string); ok && mu != username {
		return fmt.Errorf("MasterUsername %q differs from the secret's username %q", mu, username)
	}
	cred["host"], cred["port"], cred["engine"], cred["dbClusterIdentifier"] = "127.0.0.1", port, "postgres", props["DBClusterIdentifier"]
	b, _ := json.Marshal(cred)
	if err := r.putSecret(ctx, secretARN, string(b)); err != nil {
		return err
	}
	r.sub("Aurora PostgreSQL %v cluster → local PostgreSQL (%s) on 127.0.0.1:%d; the attached secret gets host 127.0.0.1 as RDS would write its endpoint", props["EngineVersion"], r.pgBin, port)

	bin := r.pgBin
	dir := filepath.Join(r.work, "postgres")
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	srv, err := r.ca.Server("127.0.0.1", "localhost")
	if err != nil {
		return err
	}
	pw := filepath.Join(dir, "pw")
	files := map[string][]byte{pw: []byte(password), filepath.Join(dir, "server.crt"): srv.CertPEM, filepath.Join(dir, "server.key"): srv.KeyPEM}
	for f, c := range files {
		if err := os.WriteFile(f, c, 0o600); err != nil {
			return err
		}
	}
	asPG, err := r.postgresUser(dir)
	if err != nil {
		return err
	}
	if err := r.chownPostgres(dir); err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, asPG[0], append(asPG[1:], filepath.Join(bin, "initdb"), "-D", data, "-U", username, "--pwfile", pw, "--auth", "scram-sha-256", "-E", "UTF8", "--no-sync")...).CombinedOutput()
	_ = os.Remove(pw)
	if err != nil {
		return fmt.Errorf("initdb: %v: %s", err, lastLines(string(out), 20))
	}
	hostType := "host"
	if forceSSL {
		hostType = "hostssl"
	}
	hba := fmt.Sprintf("local all all scram-sha-256\n%s all all 127.0.0.1/32 scram-sha-256\n", hostType)
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		return err
	}
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\nssl_min_protocol_version = 'TLSv1.2'\nfsync = off\n",
		port, dir, filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	if err := os.WriteFile(filepath.Join(data, "postgresql.auto.conf"), []byte(conf), 0o600); err != nil {
		return err
	}
	if err := r.chownPostgres(dir); err != nil {
		return err
	}
	if forceSSL {
		r.sub("rds.force_ssl=1 → pg_hba.conf accepts hostssl only")
	}
	if err := portFree("PostgreSQL", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		return err
	}
	p, err := r.start("postgres", nil, asPG[0], append(asPG[1:], filepath.Join(bin, "postgres"), "-D", data)...)
	if err != nil {
		return err
	}
	if err := waitTCP(ctx, p, fmt.Sprintf("127.0.0.1:%d", port), 30*time.Second); err != nil {
		return err
	}
	// The port opens before the server accepts connections ("the database
	// system is starting up"): wait until pg_isready says it accepts them.
	if err := waitPostgresReady(ctx, filepath.Join(bin, "pg_isready"), port, 30*time.Second); err != nil {
		return err
	}
	if dbName != "" {
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "createdb"), "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-U", username, dbName)
		cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGSSLMODE=require")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("createdb %s (DatabaseName): %v: %s", dbName, err, out)
		}
	}
	r.dbSummary = fmt.Sprintf("PostgreSQL 127.0.0.1:%d database %q user %q ssl=on force_ssl=%v", port, dbName, username, forceSSL)
	return nil
}

// postgresUser returns the command prefix that runs a program as the
// postgres user (PostgreSQL refuses to run as root).
func (r *run) postgresUser(dir string) ([]string, error) {
	if os.Geteuid() != 0 {
		return []string{"/usr/bin/env"}, nil
	}
	if _, err := user.Lookup("postgres"); err != nil {
		return nil, fmt.Errorf("running as root needs the user postgres (Debian's postgresql package creates it): %v", err)
	}
	// Every parent of the work dir must be traversable by postgres.
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o711); err != nil {
				return nil, err
			}
		}
	}
	return []string{"runuser", "-u", "postgres", "--"}, nil
}

func (r *run) chownPostgres(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func (r *run) redis(ctx context.Context) error {
	st, id, ok := r.a.Find("AWS::ElastiCache::ReplicationGroup")
	if !ok {
		r.note("no AWS::ElastiCache::ReplicationGroup in the assembly: no Redis started")
		return nil
	}
	props, err := r.evalProps(st.Name, st.Resources[id].Properties)
	if err != nil {
		return fmt.Errorf("%s/%s: %w", st.Name, id, err)
	}
	port := intProp(props["Port"], 6379)
	tlsOn, _ := props["TransitEncryptionEnabled"].(bool)
	dir := filepath.Join(r.work, "redis")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	conf := []string{"bind 127.0.0.1", "save \"\"", "appendonly no", "dir " + dir}
	if tlsOn {
		srv, err := r.ca.Server("127.0.0.1", "localhost")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "tls.crt"), srv.CertPEM, 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "tls.key"), srv.KeyPEM, 0o600); err != nil {
			return err
		}
		conf = append(conf, "port 0", fmt.Sprintf("tls-port %d", port), "tls-cert-file "+filepath.Join(dir, "tls.crt"), "tls-key-file "+filepath.Join(dir, "tls.key"), "tls-ca-cert-file "+r.caFile, "tls-auth-clients no")
	} else {
		conf = append(conf, fmt.Sprintf("port %d", port))
	}
	auth := ""
	if tok, ok := props["AuthToken"].(string); ok && tok != "" {
		auth, err = r.resolveDynamic(ctx, tok)
		if err != nil {
			return fmt.Errorf("AuthToken: %w", err)
		}
		conf = append(conf, "requirepass "+auth)
	}
	cf := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(cf, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	r.sub("ElastiCache Redis %v replication group → one local redis-server on 127.0.0.1:%d (TLS %v with a rehearsal-CA certificate, AUTH %v); its endpoint address → 127.0.0.1", props["EngineVersion"], port, tlsOn, auth != "")
	if err := portFree("Redis", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		return err
	}
	p, err := r.start("redis", nil, "redis-server", cf)
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var c net.Conn
		if tlsOn {
			c, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: r.ca.Pool(), ServerName: "127.0.0.1"})
		} else {
			c, err = net.Dial("tcp", addr)
		}
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) || p.exited() {
			return fmt.Errorf("redis-server is not reachable on %s: %v; its log:\n%s", addr, err, p.tail(20))
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.redisSummary = fmt.Sprintf("Redis %s TLS=%v AUTH=%v", addr, tlsOn, auth != "")
	return nil
}

// dynamicRef resolves a {{resolve:secretsmanager:ID:SecretString:key::}}
// dynamic reference, or returns s when it is none.
func (r *run) resolveDynamic(ctx context.Context, s string) (string, error) {
	const pre = "{{resolve:secretsmanager:"
	if !strings.HasPrefix(s, pre) || !strings.HasSuffix(s, "}}") {
		return s, nil
	}
	body := strings.TrimSuffix(strings.TrimPrefix(s, pre), "}}")
	// ID may be an ARN (with colons): the last four fields are
	// SecretString:json-key:version-stage:version-id.
	parts := strings.Split(body, ":")
	if len(parts) < 5 {
		return r.getSecret(ctx, body)
	}
	id := strings.Join(parts[:len(parts)-4], ":")
	key := parts[len(parts)-3]
	return r.secretValue(ctx, id, key)
}

func intProp(v any, def int) int {
	switch t := v.(type) {
	case float64:
		return int(t)
	case string:
		if n, err := strconv.Atoi(t); err == nil {
			return n
		}
	}
	return def
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// findPostgres returns the newest /usr/lib/postgresql/*/bin.
func findPostgres() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a > b
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL server in /usr/lib/postgresql/*/bin; install Debian's postgresql package")
}

// portFree fails when something already listens on addr: the server the
// rehearsal is about to start would not get the port, and the rehearsal's
// programs would talk to the other one (seen: PostgreSQL refusing the
// rehearsal's password, from another run's server).
func portFree(what, addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil
	}
	c.Close()
	return fmt.Errorf("%s is already in use by another process (another rehearsal, or a %s server of this machine); stop it and run the rehearsal again", addr, what)
}

// waitPostgresReady runs pg_isready until the server on port accepts
// connections (exit status 0), or fails after timeout with its last answer.
func waitPostgresReady(ctx context.Context, pgIsReady string, port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		out, err := exec.CommandContext(ctx, pgIsReady, "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-t", "1").CombinedOutput()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL on 127.0.0.1:%d does not accept connections after %s (pg_isready: %v: %s): see its log above", port, timeout, err, strings.TrimSpace(string(out)))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
