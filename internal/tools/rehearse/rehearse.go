package rehearse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/fakeiam"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/rehearse/smoke"
)

// Options of a rehearsal.
type Options struct {
	// Assembly is the cloud assembly folder (cdk.out).
	Assembly string
	// TTS is the ttn-lw-stack binary.
	TTS string
	// FrequencyPlans is the folder the image has in
	// /srv/ttn-lorawan/lorawan-frequency-plans.
	FrequencyPlans string
	// Keep leaves the work folder (logs, data) in place.
	Keep bool
	// Verbose echoes every process line to Out.
	Verbose bool
	// Out receives progress and, with Verbose, the process output.
	Out io.Writer
	// OutsideSecrets are secrets the operator creates outside the stacks
	// (PacketBrokerApiKeySecret), by name: the rehearsal puts them in the
	// Secrets Manager stand-in before any task starts.
	OutsideSecrets map[string]string
	// Smoke runs the scenario; nil means smoke.Run.
	Smoke func(context.Context, smoke.Target) []smoke.Result
}

// Report is the outcome of a rehearsal.
type Report struct {
	Results       []smoke.Result
	Substitutions []string
	Duration      time.Duration
	WorkDir       string
}

// OK tells whether every check passed.
func (rp *Report) OK() bool {
	for _, r := range rp.Results {
		if !r.OK {
			return false
		}
	}
	return len(rp.Results) > 0
}

type run struct {
	a       *Assembly
	v       *Values
	ev      *Evaluator
	ca      *CA
	caFile  string
	work    string
	binDir  string
	blobDir string
	tts     string
	fp      string
	pgBin   string
	out     io.Writer
	verbose bool

	smServer *httptest.Server
	cwServer *httptest.Server
	// cdn stands in for the CloudFront distribution of the pictures.
	cdn *httptest.Server
	// stubServers stand in for a stub agent; stubAgents records what they got.
	stubServers []*http.Server
	stubAgents  *stubListener
	// outside are Options.OutsideSecrets.
	outside map[string]string
	// assetBins are the programs built for container assets, by asset hash
	// and path in the image.
	assetBins map[string]map[string]string
	sm        *secretsmanager.Client
	iam       *fakeiam.IAM
	// smtpResources are the Custom::SMTPCredentials the handler made.
	smtpResources []smtpResource
	// smtp stands in for Amazon SES's SMTP endpoint when the deployment
	// sends e-mail.
	smtp *smoke.SMTPServer

	mu       sync.Mutex
	procs    []*proc
	logs     *logBook
	secrets  []string
	subs     []string
	results  []smoke.Result
	ssm      map[string]string
	defaults map[string]string
	dns      map[string]string
	buckets  []string

	services     []*service
	taskRuns     []taskRun
	nextAddr     int
	handled      []string
	interopDir   string
	pbURL        string
	pb           *smoke.PacketBrokerIssuer
	joinStandIns []*smoke.JoinServer
	joinCases    []smoke.JoinServerCase
	domainCert   bool
	// deviceIndexBuilt: the Device Repository's index is in
	// <work>/srv/lorawan-devices-index (deviceIndex).
	deviceIndexBuilt bool

	dbSummary, redisSummary string
}

func (r *run) sub(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.subs {
		if x == s {
			return
		}
	}
	r.subs = append(r.subs, s)
}

func (r *run) note(format string, args ...any) { r.sub(format, args...) }

func (r *run) result(check string, ok bool, format string, args ...any) {
	r.mu.Lock()
	r.results = append(r.results, smoke.Result{Check: check, OK: ok, Detail: fmt.Sprintf(format, args...)})
	r.mu.Unlock()
	if r.out != nil {
		st := "PASS"
		if !ok {
			st = "FAIL"
		}
		fmt.Fprintf(r.out, "[%s] %s\n", st, check)
	}
}

// Run rehearses the deployment of opts.Assembly. The returned report lists
// every check; an error means the rehearsal itself could not run (a missing
// tool, an unreadable assembly), which is also a failure.
func Run(ctx context.Context, opts Options) (*Report, error) {
	begin := time.Now()
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	a, err := LoadAssembly(opts.Assembly)
	if err != nil {
		return nil, err
	}
	if opts.TTS == "" {
		return nil, errors.New("no ttn-lw-stack binary: pass -tts, set TTS_BINARY or put it in PATH (see README: Rehearse before you deploy)")
	}
	if _, err := os.Stat(opts.TTS); err != nil {
		return nil, fmt.Errorf("the ttn-lw-stack binary: %v", err)
	}
	pgBin, err := findPostgres()
	if err != nil {
		return nil, err
	}
	for _, tool := range []string{"redis-server", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s is required (Debian package %s)", tool, map[string]string{"redis-server": "redis-server", "curl": "curl"}[tool])
		}
	}
	unlock, err := lockMachine(ctx, out)
	if err != nil {
		return nil, err
	}
	defer unlock()
	work, err := os.MkdirTemp("", "rehearse-")
	if err != nil {
		return nil, err
	}
	tts, _ := filepath.Abs(opts.TTS)
	r := &run{
		a: a, v: NewValues(), work: work, tts: tts, fp: opts.FrequencyPlans, pgBin: pgBin,
		out: out, verbose: opts.Verbose, logs: &logBook{},
		iam: fakeiam.New(), ssm: map[string]string{}, assetBins: map[string]map[string]string{}, defaults: map[string]string{}, dns: map[string]string{},
		binDir: filepath.Join(work, "bin"), blobDir: filepath.Join(work, "blob"), outside: opts.OutsideSecrets,
	}
	r.ev = &Evaluator{A: a, V: r.v}
	defer func() {
		r.stopAll()
		if r.pb != nil {
			_ = r.pb.Close()
		}
		for _, j := range r.joinStandIns {
			_ = j.Close()
		}
		if r.smtp != nil {
			_ = r.smtp.Close()
		}
		if r.smServer != nil {
			r.smServer.Close()
		}
		if r.cwServer != nil {
			r.cwServer.Close()
		}
		if r.cdn != nil {
			r.cdn.Close()
		}
		for _, srv := range r.stubServers {
			_ = srv.Close()
		}
		if !opts.Keep {
			_ = os.RemoveAll(work)
		}
	}()
	scenario := opts.Smoke
	if scenario == nil {
		scenario = smoke.Run
	}
	if err := r.rehearse(ctx, scenario); err != nil {
		r.result("rehearsal", false, "%v", err)
	}
	rp := &Report{Results: r.results, Substitutions: r.subs, Duration: time.Since(begin)}
	if opts.Keep {
		rp.WorkDir = work
	}
	return rp, nil
}

func (r *run) rehearse(ctx context.Context, scenario func(context.Context, smoke.Target) []smoke.Result) error {
	for _, d := range []string{r.binDir, r.blobDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(r.work, 0o755); err != nil {
		return err
	}
	var err error
	if r.ca, err = NewCA(); err != nil {
		return err
	}
	r.caFile = filepath.Join(r.work, "rehearsal-ca.pem")
	if err := os.WriteFile(r.caFile, r.ca.PEM, 0o644); err != nil {
		return err
	}
	r.sub("TLS trust: every process gets SSL_CERT_FILE=%s (the rehearsal CA) instead of the public CAs", r.caFile)
	if err := os.Symlink(r.tts, filepath.Join(r.binDir, "ttn-lw-stack")); err != nil {
		return err
	}
	r.sub("image thethingsnetwork/lorawan-stack → the binary %s", r.tts)
	if err := r.ttsDefaults(ctx); err != nil {
		return err
	}
	r.secretsManager()
	if err := r.resources(ctx); err != nil {
		r.result("data tier", false, "%v", err)
		return nil
	}
	if err := r.dataTier(ctx); err != nil {
		r.result("data tier", false, "%v", err)
		return nil
	}
	r.result("data tier", true, "%s; %s", r.dbSummary, r.redisSummary)
	if err := r.discover(); err != nil {
		r.result("task definitions", false, "%v", err)
		return nil
	}
	r.standIns()
	if err := r.deployHandlers(ctx); err != nil {
		r.result("deploy-time handlers", false, "%v", err)
		return nil
	}
	r.result("deploy-time handlers", true, "%s", strings.Join(r.handled, "; "))
	r.smtpStandIn(ctx)
	r.joinServers()
	if !r.runTaskResources(ctx) {
		return nil
	}
	// CloudFormation deploys the stacks one after another, and an ECS
	// service is created only when its tasks run and pass their health
	// checks: the services of a stack start together, after those of the
	// stacks before it are up.
	for _, stack := range r.a.Order {
		var services []*service
		for _, s := range r.services {
			if s.stack == stack {
				services = append(services, s)
			}
		}
		r.startServices(ctx, services)
		r.checkServices(ctx, services)
	}
	target := r.target()
	if target.Logs == nil {
		return nil
	}
	for _, res := range scenario(ctx, target) {
		r.result(res.Check, res.OK, "%s", res.Detail)
	}
	r.checkLogs()
	return nil
}

func jsonMarshal(v any) ([]byte, error)   { return json.Marshal(v) }
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
