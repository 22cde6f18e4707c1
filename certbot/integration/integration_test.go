package integration

import (
	"bufio"
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lorawan-stack-aws/tts-ecs/certbot/certsecret"
	"github.com/lorawan-stack-aws/tts-ecs/internal/run/certsync"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakecw"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakesm"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/testpki"
)

var printLoad = flag.Bool("print-load", false, "print the load-test numbers to stdout (also without -v)")

const (
	domain     = "tts.example.com"
	certSecret = "tts/proxy-certificate"
	acctSecret = "tts/acme-account"
	module     = "github.com/lorawan-stack-aws/tts-ecs"
)

// requireTool returns the tool's path, or skips (fails under CI=true) with
// the install command when it is missing.
func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("MISSING TOOL %q: this integration test needs it. Install with: %s", name, install)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: a missing tool is a failure)")
	}
	t.Skip(msg)
	return ""
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

func waitTCP(t *testing.T, addr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not accept connections within %s", addr, within)
}

// lineLog collects a process's output lines and lets the test wait for one.
type lineLog struct {
	t     *testing.T
	name  string
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) consume(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, sc.Text())
		l.mu.Unlock()
	}
}

func (l *lineLog) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, substr) {
			n++
		}
	}
	return n
}

func (l *lineLog) waitCount(substr string, n int, within time.Duration) {
	l.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if l.count(substr) >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	l.dump()
	l.t.Fatalf("%s: no %d log lines with %q within %s", l.name, n, substr, within)
}

func (l *lineLog) dump() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		l.t.Logf("%s: %s", l.name, s)
	}
}

func goBuild(t *testing.T, dir string, pkgs ...string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not found in PATH: %v", err)
	}
	for _, p := range pkgs {
		out := filepath.Join(dir, filepath.Base(p))
		cmd := exec.Command(goBin, "build", "-o", out, module+"/"+p)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", p, err, b)
		}
	}
}

type env struct {
	t        *testing.T
	dir      string
	bin      string
	smURL    string
	cwURL    string
	sm       *secretsmanager.Client
	cw       *fakecw.Server
	acmeDir  string
	caBundle string
	truePath string
	runs     int
}

// awsEnv is the environment that points the programs at the fakes.
func (e *env) awsEnv() []string {
	return []string{
		"AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + e.smURL, "AWS_ENDPOINT_URL_CLOUDWATCH=" + e.cwURL,
		"CERT_METRIC_DIMENSIONS=Stack=integration",
	}
}

// runCertbotTask runs cmd/certbot-task as a fresh ECS task would: empty
// certbot directories every time, so the ACME account comes from its secret.
func (e *env) runCertbotTask(force bool) (int, string) {
	e.t.Helper()
	e.runs++
	base := filepath.Join(e.dir, fmt.Sprintf("task%d", e.runs))
	cmd := exec.Command(filepath.Join(e.bin, "certbot-task"))
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + base}, e.awsEnv()...)
	cmd.Env = append(cmd.Env,
		"CERT_SECRET_ID="+certSecret, "ACME_ACCOUNT_SECRET_ID="+acctSecret,
		"CERT_DOMAIN="+domain, "ACME_EMAIL=ops@example.com", "ACME_SERVER="+e.acmeDir,
		"CERTBOT_CONFIG_DIR="+base+"/config", "CERTBOT_WORK_DIR="+base+"/work", "CERTBOT_LOGS_DIR="+base+"/logs",
		"CERTBOT_AUTH_ARGS=--manual --preferred-challenges dns --manual-auth-hook "+e.truePath,
		"DEPLOY_HOOK="+filepath.Join(e.bin, "deploy-hook"), "CERTBOT_TIMEOUT=60s",
		"REQUESTS_CA_BUNDLE="+e.caBundle, fmt.Sprintf("FORCE_RENEWAL=%v", force),
	)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("certbot-task: %v", err)
	}
	return code, string(out)
}

func (e *env) current() (*certsecret.Secret, string) {
	e.t.Helper()
	s, v, err := certsecret.Store{Client: e.sm, SecretID: certSecret}.Get(context.Background())
	if err != nil {
		e.t.Fatalf("read certificate secret: %v", err)
	}
	return s, v
}

func (e *env) put(s *certsecret.Secret) string {
	e.t.Helper()
	data, _ := s.Marshal()
	out, err := e.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(certSecret), SecretString: aws.String(string(data)),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.VersionId)
}

// startPebble starts pebble on loopback with its own TLS certificate from
// testpki and returns the ACME directory URL, the CA bundle for certbot and
// the management address.
func startPebble(t *testing.T, pebble, dir string) (string, string, string) {
	ca := testpki.New(t)
	leaf := ca.IssueDays(t, []string{"127.0.0.1", "localhost"}, 2)
	certFile, keyFile, bundle := filepath.Join(dir, "pebble-cert.pem"), filepath.Join(dir, "pebble-key.pem"), filepath.Join(dir, "pebble-ca.pem")
	must(t, os.WriteFile(certFile, append(leaf.CertPEM, ca.InterPEM...), 0o600))
	must(t, os.WriteFile(keyFile, leaf.KeyPEM, 0o600))
	must(t, os.WriteFile(bundle, ca.RootPEM, 0o600))
	acme, mgmt := fmt.Sprintf("127.0.0.1:%d", freePort(t)), fmt.Sprintf("127.0.0.1:%d", freePort(t))
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress": acme, "managementListenAddress": mgmt,
		"certificate": certFile, "privateKey": keyFile,
		"httpPort": freePort(t), "tlsPort": freePort(t), "ocspResponderURL": "", "externalAccountBindingRequired": false,
	}}
	b, _ := json.Marshal(conf)
	confFile := filepath.Join(dir, "pebble.json")
	must(t, os.WriteFile(confFile, b, 0o600))
	cmd := exec.Command(pebble, "-config", confFile)
	// VA_ALWAYS_VALID: no challenge is checked (no DNS here), certbot uses
	// --manual with a no-op hook. NONCEREJECT=0 avoids random badNonce.
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_VA_ALWAYS_VALID=1", "PEBBLE_WFE_NONCEREJECT=0")
	logs := &lineLog{t: t, name: "pebble"}
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	must(t, cmd.Start())
	go logs.consume(stdout)
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitTCP(t, acme, 10*time.Second)
	return "https://" + acme + "/dir", bundle, mgmt
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// pebbleRoots returns pebble's issuing root (fetched from its management
// interface) so the load clients verify the served chain for real.
func pebbleRoots(t *testing.T, mgmt, bundle string) *x509.CertPool {
	caPEM, err := os.ReadFile(bundle)
	must(t, err)
	trust := x509.NewCertPool()
	trust.AppendCertsFromPEM(caPEM)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: trust}}}
	resp, err := c.Get("https://" + mgmt + "/roots/0")
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	pool := x509.NewCertPool()
	if resp.StatusCode != 200 || !pool.AppendCertsFromPEM(b) {
		t.Fatalf("pebble root: HTTP %d %q", resp.StatusCode, b)
	}
	return pool
}

func writeNginxConf(t *testing.T, prefix, tlsDir string, port int) (conf string, testCmd []string, argv []string) {
	for _, d := range []string{"logs", "tmp", "conf"} {
		must(t, os.MkdirAll(filepath.Join(prefix, d), 0o755))
	}
	conf = filepath.Join(prefix, "conf", "nginx.conf")
	text := fmt.Sprintf(`daemon off;
worker_processes 2;
pid %[1]s/logs/nginx.pid;
error_log %[1]s/logs/error.log notice;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    keepalive_requests 100000;
    keepalive_timeout 30s;
    server {
        listen 127.0.0.1:%[3]d ssl;
        server_name %[4]s;
        ssl_certificate %[2]s/fullchain.pem;
        ssl_certificate_key %[2]s/privkey.pem;
        location / { return 200 "ok\n"; }
    }
}
`, prefix, tlsDir, port, domain)
	must(t, os.WriteFile(conf, []byte(text), 0o644))
	errLog := filepath.Join(prefix, "logs", "error.log")
	base := []string{"-p", prefix, "-c", conf, "-e", errLog}
	return conf, append([]string{"nginx", "-t", "-q"}, base...), append([]string{"nginx"}, base...)
}

type loadStats struct {
	requests, failures, newConns atomic.Int64
	maxLatency                   atomic.Int64 // ns
	mu                           sync.Mutex
	errors                       []string
	samples                      []sample
}

type sample struct {
	at        time.Time
	d         time.Duration
	keepAlive bool
}

// summary returns the median, the 99th percentile and the slowest samples.
func (s *loadStats) summary(n int) (p50, p99 time.Duration, slowest []sample) {
	s.mu.Lock()
	all := slices.Clone(s.samples)
	s.mu.Unlock()
	if len(all) == 0 {
		return 0, 0, nil
	}
	slices.SortFunc(all, func(a, b sample) int { return cmp.Compare(a.d, b.d) })
	p50, p99 = all[len(all)/2].d, all[len(all)*99/100].d
	for i := len(all) - 1; i >= 0 && len(slowest) < n; i-- {
		slowest = append(slowest, all[i])
	}
	return p50, p99, slowest
}

func (s *loadStats) observe(start time.Time, keepAlive bool, err error) {
	d := time.Since(start)
	s.mu.Lock()
	s.samples = append(s.samples, sample{start, d, keepAlive})
	s.mu.Unlock()
	s.requests.Add(1)
	for {
		old := s.maxLatency.Load()
		if int64(d) <= old || s.maxLatency.CompareAndSwap(old, int64(d)) {
			break
		}
	}
	if err != nil {
		s.failures.Add(1)
		s.mu.Lock()
		if len(s.errors) < 20 {
			s.errors = append(s.errors, err.Error())
		}
		s.mu.Unlock()
	}
}

// runLoad sends GET requests until stop is closed, at most maxRequests in
// total: half the workers reuse keep-alive connections, half open a new TLS
// connection per request.
func runLoad(stop <-chan struct{}, url string, roots *x509.CertPool, workers int, pause time.Duration, maxRequests int64) (*loadStats, *sync.WaitGroup) {
	st := &loadStats{}
	var wg sync.WaitGroup
	for i := range workers {
		keepAlive := i%2 == 0
		tr := &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: roots, ServerName: domain},
			DisableKeepAlives:   !keepAlive,
			MaxIdleConnsPerHost: 1,
		}
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer tr.CloseIdleConnections()
			for st.requests.Load() < maxRequests {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				resp, err := c.Get(url)
				if err == nil {
					body, rerr := io.ReadAll(resp.Body)
					resp.Body.Close()
					if rerr != nil {
						err = rerr
					} else if resp.StatusCode != 200 || string(body) != "ok\n" {
						err = fmt.Errorf("HTTP %d %q", resp.StatusCode, body)
					}
				}
				st.observe(start, keepAlive, err)
				if !keepAlive {
					st.newConns.Add(1)
				}
				time.Sleep(pause)
			}
		}()
	}
	return st, &wg
}

func waitServed(t *testing.T, addr, serial string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var got string
	var err error
	for ctx.Err() == nil {
		got, err = certsync.ServedSerial(ctx, addr, domain)
		if err == nil && got == serial {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nginx at %s serves serial %q, want %q within %s (last error %v)", addr, got, serial, within, err)
}

func keyPEM(t *testing.T) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	must(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestRenewalUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs pebble, certbot and nginx (about 30 s)")
	}
	const install = "apt-get install -y nginx certbot python3-certbot-dns-route53 pebble"
	pebble := requireTool(t, "pebble", install)
	requireTool(t, "certbot", install)
	requireTool(t, "nginx", install)
	truePath := requireTool(t, "true", "apt-get install -y coreutils")
	testStart := time.Now()

	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	must(t, os.MkdirAll(bin, 0o755))
	goBuild(t, bin, "certbot/cmd/certbot-task", "certbot/cmd/deploy-hook", "internal/run/cmd/certsync")
	t.Logf("built binaries in %s", time.Since(testStart).Round(time.Millisecond))

	smFake := fakesm.New()
	smSrv := httptest.NewServer(smFake)
	defer smSrv.Close()
	cw := fakecw.New()
	cwSrv := httptest.NewServer(cw)
	defer cwSrv.Close()
	smc := secretsmanager.New(secretsmanager.Options{Region: "eu-west-1", BaseEndpoint: aws.String(smSrv.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	for _, n := range []string{certSecret, acctSecret} { // created by the Data stack in AWS
		_, err := smc.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(n)})
		must(t, err)
	}

	acmeDir, bundle, mgmt := startPebble(t, pebble, dir)
	e := &env{t: t, dir: dir, bin: bin, smURL: smSrv.URL, cwURL: cwSrv.URL, sm: smc, cw: cw, acmeDir: acmeDir, caBundle: bundle, truePath: truePath}

	// 1. First issuance: the secret is empty, so the task runs certbot.
	t0 := time.Now()
	if code, out := e.runCertbotTask(false); code != 0 {
		t.Fatalf("first issuance: exit %d\n%s", code, out)
	}
	t.Logf("first issuance took %s", time.Since(t0).Round(time.Millisecond))
	first, _ := e.current()
	if _, err := first.Validate(certsecret.Checks{Domains: []string{domain, "*." + domain}}); err != nil {
		t.Fatalf("stored certificate is invalid: %v", err)
	}
	// 2. Nothing to do: the stored certificate has years left (pebble).
	if code, out := e.runCertbotTask(false); code != 0 || !strings.Contains(out, "nothing to do") {
		t.Fatalf("second run: exit %d, want 0 with nothing to do\n%s", code, out)
	}
	if got, _ := e.current(); got.Serial != first.Serial {
		t.Fatal("the task renewed although the certificate was not due")
	}

	// 3. nginx supervised by the certsync binary.
	prefix := filepath.Join(dir, "nginx")
	tlsDir := filepath.Join(dir, "tls")
	must(t, os.MkdirAll(tlsDir, 0o755))
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	_, testCmd, nginxArgv := writeNginxConf(t, prefix, tlsDir, port)
	syncCmd := exec.Command(filepath.Join(bin, "certsync"), append([]string{"--"}, nginxArgv...)...)
	syncCmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, e.awsEnv()...)
	syncCmd.Env = append(syncCmd.Env, "CERT_SECRET_ID="+certSecret, "CERT_DOMAIN="+domain, "CERTSYNC_DIR="+tlsDir,
		"CERTSYNC_POLL_INTERVAL=200ms", "CERTSYNC_STARTUP_TIMEOUT=20s", "CERTSYNC_VERIFY_ADDR="+addr,
		"NGINX_TEST_CMD="+strings.Join(testCmd, " "))
	syncCmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs := &lineLog{t: t, name: "certsync"}
	stderr, _ := syncCmd.StderrPipe()
	stdout, _ := syncCmd.StdoutPipe()
	must(t, syncCmd.Start())
	go logs.consume(stderr)
	go logs.consume(stdout)
	exited := make(chan error, 1)
	go func() { exited <- syncCmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-syncCmd.Process.Pid, syscall.SIGKILL) // certsync and its nginx, if still running
	})
	waitTCP(t, addr, 20*time.Second)
	waitServed(t, addr, first.Serial, 10*time.Second)
	if st, err := os.Stat(filepath.Join(tlsDir, "privkey.pem")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("privkey.pem: %v mode %v, want 0600", err, st.Mode().Perm())
	}

	// 4. Load during three renewals and two bad versions.
	roots := pebbleRoots(t, mgmt, bundle)
	stop := make(chan struct{})
	loadStart := time.Now()
	stats, wg := runLoad(stop, "https://"+addr+"/", roots, 4, 2*time.Millisecond, 200000)
	time.Sleep(500 * time.Millisecond)

	serials := []string{first.Serial}
	type event struct {
		at   time.Time
		what string
	}
	var events []event
	renew := func(i int) {
		t0 := time.Now()
		events = append(events, event{t0, fmt.Sprintf("renewal %d: certbot-task starts", i)})
		code, out := e.runCertbotTask(true)
		events = append(events, event{time.Now(), fmt.Sprintf("renewal %d: certbot-task done", i)})
		if code != 0 {
			t.Fatalf("renewal %d: exit %d\n%s", i, code, out)
		}
		s, _ := e.current()
		if s.Serial == serials[len(serials)-1] {
			t.Fatalf("renewal %d stored the same serial %s", i, s.Serial)
		}
		serials = append(serials, s.Serial)
		waitServed(t, addr, s.Serial, 10*time.Second)
		events = append(events, event{time.Now(), fmt.Sprintf("renewal %d: new serial served", i)})
		t.Logf("renewal %d: serial %s served %s after the task started", i, s.Serial, time.Since(t0).Round(time.Millisecond))
	}
	renew(1)
	renew(2)

	// Bad versions: they must never replace the served certificate.
	good, _ := e.current()
	mismatch := *good
	mismatch.PrivateKey = keyPEM(t)
	ca := testpki.New(t)
	exp := ca.Issue(t, []string{domain, "*." + domain}, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour))
	expired, err := certsecret.New(exp.CertPEM, ca.InterPEM, exp.KeyPEM)
	must(t, err)
	for i, bad := range []*certsecret.Secret{&mismatch, expired} {
		before := logs.count("CERTIFICATE REJECTED")
		v := e.put(bad)
		logs.waitCount("CERTIFICATE REJECTED", before+1, 5*time.Second)
		if logs.count(v) == 0 {
			t.Errorf("bad version %d (%s) rejected but not named in the log", i, v)
		}
		time.Sleep(300 * time.Millisecond) // a few more polls
		if got, err := certsync.ServedSerial(context.Background(), addr, domain); err != nil || got != good.Serial {
			t.Fatalf("after bad version %d nginx serves %q (%v), want the good serial %s", i, got, err, good.Serial)
		}
		b, err := os.ReadFile(filepath.Join(tlsDir, "fullchain.pem"))
		if err != nil || string(b) != good.FullChain {
			t.Fatalf("after bad version %d fullchain.pem changed", i)
		}
	}
	var failMetric float64
	for _, d := range cw.Find("CertSyncFailure") {
		failMetric = max(failMetric, d.Value)
	}
	if failMetric != 1 {
		t.Errorf("no CertSyncFailure=1 metric after bad versions")
	}

	renew(3)
	time.Sleep(time.Second) // load while the old workers of the last reload drain
	close(stop)
	wg.Wait()
	loadDur := time.Since(loadStart)

	n, f, mx := stats.requests.Load(), stats.failures.Load(), time.Duration(stats.maxLatency.Load())
	report := fmt.Sprintf("load: %d requests (%d on new connections) in %s = %.0f req/s, %d failed, longest request %s, 3 renewals + 2 rejected bad versions",
		n, stats.newConns.Load(), loadDur.Round(time.Millisecond), float64(n)/loadDur.Seconds(), f, mx.Round(time.Microsecond))
	t.Log(report)
	p50, p99, slow := stats.summary(5)
	t.Logf("latency: median %s, p99 %s", p50.Round(time.Microsecond), p99.Round(time.Microsecond))
	for _, sm := range slow {
		t.Logf("slow request: started at +%s, took %s, keep-alive=%v", sm.at.Sub(loadStart).Round(time.Millisecond), sm.d.Round(time.Millisecond), sm.keepAlive)
	}
	for _, ev := range events {
		t.Logf("event at +%s: %s", ev.at.Sub(loadStart).Round(time.Millisecond), ev.what)
	}
	if *printLoad {
		fmt.Println(report)
	}
	if f != 0 {
		t.Errorf("%d requests failed, want 0; first errors: %q", f, stats.errors)
	}
	if n < 1000 {
		t.Errorf("only %d requests were sent; the load test did not load", n)
	}

	// The account was registered once and reused by the later fresh tasks.
	versions, err := smc.ListSecretVersionIds(context.Background(), &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(acctSecret), IncludeDeprecated: aws.Bool(true)})
	must(t, err)
	if len(versions.Versions) != 1 {
		t.Errorf("ACME account secret has %d versions, want 1 (one registration, reused)", len(versions.Versions))
	}
	if d := cw.Find("DaysToExpiry"); len(d) == 0 || d[len(d)-1].Dimensions["Stack"] != "integration" {
		t.Errorf("DaysToExpiry metric missing or without the configured dimension: %+v", d)
	}

	// Graceful stop: SIGTERM to certsync stops nginx with SIGQUIT, exit 0.
	must(t, syncCmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		if err != nil {
			logs.dump()
			t.Fatalf("certsync exit: %v, want 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("certsync did not stop within 30 s of SIGTERM")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("nginx still listens after certsync stopped")
	}
	t.Logf("whole test took %s", time.Since(testStart).Round(time.Millisecond))
}
