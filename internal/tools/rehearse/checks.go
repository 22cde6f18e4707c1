package rehearse

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lorawan-stack-aws/tts-ecs/certbot/certsecret"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/rehearse/smoke"
)

// standIns starts the stand-in of Packet Broker's token issuer.
func (r *run) standIns() {
	addr := fmt.Sprintf("127.0.0.%d", r.nextAddr)
	r.nextAddr++
	cert, err := r.ca.Server(addr)
	if err == nil {
		var pb *smoke.PacketBrokerIssuer
		pb, err = smoke.NewPacketBrokerIssuer(addr+":443", cert.TLS)
		if err == nil {
			r.pb = pb
			r.pbURL = pb.URL()
			r.sub("Packet Broker token issuer → stand-in at %s", r.pbURL)
			return
		}
	}
	r.result("stand-in: Packet Broker token issuer", false, "%v (interop.packet-broker.token-issuer keeps its AWS value)", err)
}

// joinServers puts a stand-in behind every Join Server file of the deployed
// interop repository: fqdn and port → the stand-in, root-ca → the
// rehearsal CA.
func (r *run) joinServers() {
	if r.interopDir == "" {
		return
	}
	cfgRaw, err := os.ReadFile(filepath.Join(r.interopDir, "config.yml"))
	if err != nil {
		r.result("interop: Join Server stand-ins", false, "%v", err)
		return
	}
	var cfg struct {
		JoinServers []struct {
			File       string   `yaml:"file"`
			Components []string `yaml:"components"`
			JoinEUIs   []string `yaml:"join-euis"`
		} `yaml:"join-servers"`
	}
	if err := yaml.Unmarshal(cfgRaw, &cfg); err != nil {
		r.result("interop: Join Server stand-ins", false, "config.yml: %v", err)
		return
	}
	for _, e := range cfg.JoinServers {
		rel := filepath.ToSlash(filepath.Clean(e.File))
		p := filepath.Join(r.interopDir, filepath.FromSlash(rel))
		raw, err := os.ReadFile(p)
		if err != nil {
			r.result("interop: "+rel, false, "%v", err)
			continue
		}
		var js map[string]any
		if err := yaml.Unmarshal(raw, &js); err != nil {
			r.result("interop: "+rel, false, "%v", err)
			continue
		}
		addr := fmt.Sprintf("127.0.0.%d", r.nextAddr)
		r.nextAddr++
		port := 443
		if v, ok := js["port"].(int); ok {
			port = v
		}
		fqdn := fmt.Sprint(js["fqdn"])
		cert, err := r.ca.Server(addr)
		var srv *smoke.JoinServer
		if err == nil {
			srv, err = smoke.NewJoinServer(net.JoinHostPort(addr, strconv.Itoa(port)), cert.TLS, r.ca.Pool())
		}
		if err != nil {
			r.result("interop: stand-in for "+rel, false, "%v", err)
			continue
		}
		r.joinStandIns = append(r.joinStandIns, srv)
		js["fqdn"] = addr
		if t, ok := js["tls"].(map[string]any); ok {
			if rc, ok := t["root-ca"].(string); ok {
				if err := os.WriteFile(filepath.Join(filepath.Dir(p), rc), r.ca.PEM, 0o644); err != nil {
					r.result("interop: "+rel, false, "%v", err)
					continue
				}
				r.sub("interop %s: tls.root-ca → the rehearsal CA", rel)
			}
		}
		out, _ := yaml.Marshal(js)
		if err := os.WriteFile(p, out, 0o644); err != nil {
			r.result("interop: "+rel, false, "%v", err)
			continue
		}
		r.sub("interop %s: Join Server %s:%d → stand-in at %s:%d", rel, fqdn, port, addr, port)
		prefix := ""
		if len(e.JoinEUIs) > 0 {
			prefix = e.JoinEUIs[0]
		}
		r.joinCases = append(r.joinCases, smoke.JoinServerCase{File: rel, Data: out, RepositoryDir: r.interopDir, JoinEUIPrefix: prefix, Components: e.Components, Server: srv})
	}
}

// runTaskResources runs the tasks of task-running custom resources (a
// database bootstrap): each must exit 0. Certbot is not run (no ACME here):
// the proxy certificate secret gets a rehearsal-CA certificate instead.
func (r *run) runTaskResources(ctx context.Context) bool {
	for _, t := range r.taskRuns {
		check := fmt.Sprintf("task %s (%s %s/%s) exited 0", t.container, t.typ, t.stack, t.id)
		if isCertbot(t) {
			if err := r.substituteCertbot(ctx, t); err != nil {
				r.result(check, false, "Certbot substitute: %v", err)
				return false
			}
			continue
		}
		code, p, err := r.runTask(ctx, "task-"+t.container, t.task, t.container, "127.0.0.1")
		if err != nil || code != 0 {
			tail := ""
			if p != nil {
				tail = "\n" + p.tail(20)
			}
			r.result(check, false, "exit %d %v%s", code, err, tail)
			return false
		}
		r.result(check, true, "exit 0")
	}
	return true
}

func (r *run) substituteCertbot(ctx context.Context, t taskRun) error {
	props, err := r.evalProps(t.stack, r.a.Stacks[t.stack].Resources[t.id].Properties)
	if err != nil {
		return err
	}
	domain, _ := props["Domain"].(string)
	var secretID string
	for _, c := range t.task.containers {
		for _, e := range c.Environment {
			// certbot-task reads the certificate secret from CERT_SECRET_ID.
			if n := strings.ToUpper(e.Name); strings.Contains(n, "CERT") && strings.Contains(n, "SECRET") && e.Value != "" {
				secretID = e.Value
			}
		}
	}
	if domain == "" || secretID == "" {
		return fmt.Errorf("cannot tell the domain (%q) or the certificate secret (%q) from the Certbot task", domain, secretID)
	}
	iss, err := r.ca.Server(domain)
	if err != nil {
		return err
	}
	s, err := certsecret.New(iss.CertPEM, r.ca.PEM, iss.KeyPEM)
	if err != nil {
		return err
	}
	b, err := s.Marshal()
	if err != nil {
		return err
	}
	if err := r.putSecret(ctx, secretID, string(b)); err != nil {
		return err
	}
	r.domainCert = true
	r.sub("Certbot (%s %s) not run (no ACME here): the proxy certificate secret holds a certificate for %s signed by the rehearsal CA, in certbot/certsecret form", t.typ, t.id, domain)
	return nil
}

// startServices runs, per service, the containers its essential containers
// depend on (to completion), then the essential containers.
func (r *run) startServices(ctx context.Context, services []*service) {
	for _, s := range services {
		ok := true
		for _, c := range s.task.containers {
			if !c.essential() {
				continue
			}
			for _, d := range c.DependsOn {
				name := s.name + "-" + d.ContainerName
				check := fmt.Sprintf("task %s: container %s exited 0", s.name, d.ContainerName)
				if d.Condition == "START" || d.Condition == "HEALTHY" {
					continue
				}
				code, p, err := r.runTask(ctx, name, s.task, d.ContainerName, s.addr)
				if err != nil || (d.Condition == "SUCCESS" && code != 0) {
					tail := ""
					if p != nil {
						tail = "\n" + p.tail(20)
					}
					r.result(check, false, "exit %d %v%s", code, err, tail)
					ok = false
					continue
				}
				r.result(check, true, "exit %d", code)
			}
		}
		if !ok {
			continue
		}
		for _, c := range s.task.containers {
			if !c.essential() {
				continue
			}
			p, err := r.startContainer(ctx, s.name, c, s.addr)
			if err != nil {
				r.result(s.name+": started", false, "%v", err)
				continue
			}
			s.procs = append(s.procs, p)
			s.containers = append(s.containers, c)
		}
	}
}

// checkServices checks every service in parallel: health check command,
// every mapped port, still running.
func (r *run) checkServices(ctx context.Context, services []*service) {
	var wg sync.WaitGroup
	for _, s := range services {
		for i, p := range s.procs {
			wg.Add(1)
			go func(s *service, c container, p *proc) {
				defer wg.Done()
				r.checkContainer(ctx, s, c, p)
			}(s, s.containers[i], p)
		}
	}
	wg.Wait()
}

func (r *run) checkContainer(ctx context.Context, s *service, c container, p *proc) {
	start := 90 * time.Second
	if c.HealthCheck != nil && c.HealthCheck.StartPeriod > 0 && time.Duration(c.HealthCheck.StartPeriod)*time.Second < start {
		start = time.Duration(c.HealthCheck.StartPeriod) * time.Second
	}
	deadline := time.Now().Add(start)
	if c.HealthCheck != nil && len(c.HealthCheck.Command) > 1 {
		cmdText := strings.Join(c.HealthCheck.Command[1:], " ")
		if c.HealthCheck.Command[0] == "CMD-SHELL" {
			cmdText = c.HealthCheck.Command[1]
		}
		// Inside the task, localhost and 127.0.0.1 are the task itself.
		cmdText = strings.NewReplacer("localhost", s.addr, "127.0.0.1", s.addr).Replace(cmdText)
		var out []byte
		var err error
		for {
			hc, cancel := context.WithTimeout(ctx, 5*time.Second)
			out, err = exec.CommandContext(hc, "/bin/sh", "-c", cmdText).CombinedOutput()
			cancel()
			if err == nil || p.exited() || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			time.Sleep(time.Second)
		}
		if err != nil && p.exited() && strings.Contains(p.tail(40), StubAgentMarker) {
			r.stubAgent(s, c)
			return
		}
		if err != nil {
			r.result(s.name+": health check", false, "`%s`: %v %s; log:\n%s", cmdText, err, strings.TrimSpace(string(out)), p.tail(20))
		} else {
			r.result(s.name+": health check", true, "`%s`", cmdText)
		}
	}
	var failed, okPorts []string
	for _, pm := range c.PortMappings {
		port := int(pm.ContainerPort)
		addr := net.JoinHostPort(s.addr, strconv.Itoa(port))
		var err error
		if strings.EqualFold(pm.Protocol, "udp") {
			err = waitUDP(port, s.addr, p, deadline)
		} else {
			err = waitTCP(ctx, p, addr, time.Until(deadline)+time.Second)
		}
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s/%s: %v", addr, pm.Protocol, firstLine(err.Error())))
		} else {
			okPorts = append(okPorts, fmt.Sprintf("%d/%s", port, pm.Protocol))
		}
	}
	if len(failed) > 0 {
		r.result(s.name+": listens on every mapped port", false, "%s; log:\n%s", strings.Join(failed, "; "), p.tail(20))
	} else {
		r.result(s.name+": listens on every mapped port", true, "%s on %s", strings.Join(okPorts, " "), s.addr)
	}
}

// waitUDP looks for a bound UDP socket on addr:port in /proc/net/udp.
func waitUDP(port int, addr string, p *proc, deadline time.Time) error {
	ip := net.ParseIP(addr).To4()
	want := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], port)
	for {
		b, _ := os.ReadFile("/proc/net/udp")
		if strings.Contains(string(b), want) {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("the process exited")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no UDP socket bound")
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// errorLine matches error-level lines: TTS console (" ERROR "), JSON
// levels, PostgreSQL (ERROR:/FATAL:/PANIC:), nginx ([error], [crit],
// [alert], [emerg]).
var errorLine = regexp.MustCompile(`(^|\s)(ERROR|FATAL|PANIC)(:|\s)|"level":"(error|fatal)"|level=(error|fatal)|\[(error|crit|alert|emerg)\]`)

// checkLogs: every service still runs; no error-level line; no secret.
func (r *run) checkLogs() {
	for _, s := range r.services {
		for _, p := range s.procs {
			if s.stub {
				continue
			}
			if p.exited() {
				code := -1
				if p.cmd.ProcessState != nil {
					code = p.cmd.ProcessState.ExitCode()
				}
				r.result(s.name+": still running at the end", false, "exited %d; log:\n%s", code, p.tail(20))
			} else {
				r.result(s.name+": still running at the end", true, "")
			}
		}
	}
	var errs, leaks []string
	secrets := append([]string(nil), r.secrets...)
	for _, l := range r.logs.All() {
		if errorLine.MatchString(l.Text) {
			errs = append(errs, l.Process+": "+l.Text)
		}
		for _, sec := range secrets {
			if strings.Contains(l.Text, sec) {
				leaks = append(leaks, fmt.Sprintf("%s: a secret value (%d characters) appears in a line", l.Process, len(sec)))
				break
			}
		}
	}
	if len(errs) > 20 {
		errs = append(errs[:20], fmt.Sprintf("... and %d more", len(errs)-20))
	}
	r.result("no error-level log line", len(errs) == 0, "%s", strings.Join(errs, "\n"))
	r.result("no secret value in any log", len(leaks) == 0, "%d secret values checked; %s", len(secrets), strings.Join(leaks, "\n"))
}
