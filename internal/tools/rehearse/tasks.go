package rehearse

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/lorawan-stack-aws/tts-ecs/internal/run/deployres"
)

// container is a container definition as ECS runs it.
type container struct {
	Name        string
	Image       any
	EntryPoint  []string
	Command     []string
	Environment []struct{ Name, Value string }
	Secrets     []struct {
		Name      string
		ValueFrom string
	}
	PortMappings []struct {
		ContainerPort float64
		Protocol      string
		Name          string
	}
	HealthCheck *struct {
		Command     []string
		StartPeriod float64
		Interval    float64
		Retries     float64
		Timeout     float64
	}
	DependsOn []struct{ ContainerName, Condition string }
	// LogConfiguration names the container's log group (awslogs-group).
	LogConfiguration *struct{ Options map[string]any }
	// masks are the patterns that the log group's data protection policy
	// masks, as CloudWatch Logs shows the lines.
	masks     []*regexp.Regexp
	Essential *bool
}

func (c container) essential() bool { return c.Essential == nil || *c.Essential }

// task is a task definition.
type task struct {
	stack, id  string
	containers []container
}

// service is an AWS::ECS::Service: the task it runs, its name (the log
// stream prefix of its essential container, else the Service Connect name)
// and the loopback address the rehearsal gives it.
type service struct {
	name, stack, id string
	task            task
	desired         string
	aliases         []string
	addr            string
	procs           []*proc
	containers      []container
	// stub: the process stopped at a stub of the shared build (stubAgent).
	stub bool
	// exec: the service has ECS Exec (EnableExecuteCommand).
	exec bool
}

// taskRun is a custom resource whose properties name a TaskDefinition and a
// Container: it runs the task once and requires the container's exit 0.
type taskRun struct {
	typ, stack, id string
	task           task
	container      string
}

func (r *run) loadTask(stack string, ref any) (task, error) {
	m, ok := ref.(map[string]any)
	id, _ := m["Ref"].(string)
	if !ok || id == "" {
		return task{}, fmt.Errorf("the task definition %v is not a Ref to a task definition of the same stack", ref)
	}
	res, ok := r.a.Stacks[stack].Resources[id]
	if !ok || res.Type != "AWS::ECS::TaskDefinition" {
		return task{}, fmt.Errorf("%s is not an AWS::ECS::TaskDefinition of %s", id, stack)
	}
	ev, err := r.evalProps(stack, res.Properties)
	if err != nil {
		return task{}, fmt.Errorf("%s/%s: %w", stack, id, err)
	}
	t := task{stack: stack, id: id}
	if err := remarshal(ev["ContainerDefinitions"], &t.containers); err != nil {
		return task{}, fmt.Errorf("%s/%s ContainerDefinitions: %w", stack, id, err)
	}
	for i := range t.containers {
		if lc := t.containers[i].LogConfiguration; lc != nil {
			if t.containers[i].masks, err = r.logMasks(lc.Options["awslogs-group"]); err != nil {
				return task{}, fmt.Errorf("%s/%s container %s: %w", stack, id, t.containers[i].Name, err)
			}
		}
	}
	return t, nil
}

// logMasks returns the regular expressions of the custom data identifiers
// that the data protection policy of the log group named group masks
// (a statement with Operation.Deidentify names them).
func (r *run) logMasks(group any) ([]*regexp.Regexp, error) {
	for _, sn := range r.a.Order {
		st := r.a.Stacks[sn]
		for _, id := range st.ResourcesOfType("AWS::Logs::LogGroup") {
			name, err := r.ev.Eval(sn, map[string]any{"Ref": id})
			if err != nil || fmt.Sprint(name) != fmt.Sprint(group) {
				continue
			}
			var policy struct {
				Configuration struct {
					CustomDataIdentifier []struct{ Name, Regex string }
				}
				Statement []struct {
					DataIdentifier []string
					Operation      map[string]any
				}
			}
			if err := remarshal(st.Resources[id].Properties["DataProtectionPolicy"], &policy); err != nil {
				return nil, fmt.Errorf("the data protection policy of %s/%s: %w", sn, id, err)
			}
			var out []*regexp.Regexp
			for _, ci := range policy.Configuration.CustomDataIdentifier {
				for _, stmt := range policy.Statement {
					if _, masks := stmt.Operation["Deidentify"]; masks && slices.Contains(stmt.DataIdentifier, ci.Name) {
						re, err := regexp.Compile(ci.Regex)
						if err != nil {
							return nil, fmt.Errorf("the data protection policy of %s/%s: identifier %s: %w", sn, id, ci.Name, err)
						}
						out = append(out, re)
						break
					}
				}
			}
			return out, nil
		}
	}
	return nil, nil
}

// discover reads every service and task-running custom resource.
func (r *run) discover() error {
	n := 2
	for _, sn := range r.a.Order {
		st := r.a.Stacks[sn]
		for _, id := range st.ResourcesOfType("AWS::ECS::Service") {
			p := st.Resources[id].Properties
			t, err := r.loadTask(sn, p["TaskDefinition"])
			if err != nil {
				return fmt.Errorf("%s/%s: %w", sn, id, err)
			}
			s := &service{stack: sn, id: id, task: t, desired: fmt.Sprint(p["DesiredCount"]), exec: p["EnableExecuteCommand"] == true}
			ev, err := r.evalProps(sn, p)
			if err != nil {
				return fmt.Errorf("%s/%s: %w", sn, id, err)
			}
			var sc struct {
				Services []struct{ ClientAliases []struct{ DnsName string } }
			}
			_ = remarshal(ev["ServiceConnectConfiguration"], &sc)
			for _, x := range sc.Services {
				for _, a := range x.ClientAliases {
					s.aliases = append(s.aliases, a.DnsName)
				}
			}
			for _, c := range t.containers {
				if c.essential() {
					var lc struct{ Options map[string]string }
					raw, _ := r.evalProps(sn, st.Resources[t.id].Properties)
					var defs []map[string]any
					_ = remarshal(raw["ContainerDefinitions"], &defs)
					for _, d := range defs {
						if d["Name"] == c.Name {
							_ = remarshal(d["LogConfiguration"], &lc)
						}
					}
					s.name = lc.Options["awslogs-stream-prefix"]
					break
				}
			}
			if s.name == "" && len(s.aliases) > 0 {
				s.name, _, _ = strings.Cut(s.aliases[0], ".")
			}
			if s.name == "" {
				s.name = strings.ToLower(id)
			}
			s.addr = fmt.Sprintf("127.0.0.%d", n)
			n++
			r.services = append(r.services, s)
			for _, a := range s.aliases {
				r.dns[a] = s.addr
			}
		}
		for id, res := range st.Resources {
			if !strings.HasPrefix(res.Type, "Custom::") {
				continue
			}
			td, hasTD := res.Properties["TaskDefinition"]
			cn, hasC := res.Properties["Container"]
			if !hasTD || !hasC {
				continue
			}
			t, err := r.loadTask(sn, td)
			if err != nil {
				return fmt.Errorf("%s %s/%s: %w", res.Type, sn, id, err)
			}
			name, err := r.ev.String(sn, cn)
			if err != nil {
				return err
			}
			r.taskRuns = append(r.taskRuns, taskRun{typ: res.Type, stack: sn, id: id, task: t, container: name})
		}
	}
	sort.SliceStable(r.taskRuns, func(i, j int) bool { return r.taskRuns[i].id < r.taskRuns[j].id })
	r.nextAddr = n
	aliases := make([]string, 0, len(r.dns))
	for a := range r.dns {
		aliases = append(aliases, a)
	}
	sort.Strings(aliases)
	for _, a := range aliases {
		r.sub("Service Connect name %s → %s (each service has its own loopback address and keeps its real ports)", a, r.dns[a])
	}
	for _, s := range r.services {
		if s.desired != "1" && s.desired != "<nil>" {
			r.sub("service %s: DesiredCount %s → one process", s.name, s.desired)
		}
	}
	return nil
}

// ttsDefaults reads every configuration key and default of the binary
// (`ttn-lw-stack config`), for the listeners and image folders.
func (r *run) ttsDefaults(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, r.tts, "config")
	cmd.Dir = r.work
	cmd.Env = []string{"HOME=" + r.work, "PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s config: %v: %s", r.tts, err, lastLines(string(out), 5))
	}
	re := regexp.MustCompile(`--([a-z0-9.-]+)="(.*)"\s*$`)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			r.defaults[m[1]] = m[2]
		}
	}
	if len(r.defaults) == 0 {
		return fmt.Errorf("%s config printed no keys", r.tts)
	}
	return nil
}

func envName(key string) string {
	return "TTN_LW_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

// containerEnv is the container's environment as ECS gives it, with the
// rehearsal's substitutions.
func (r *run) containerEnv(ctx context.Context, c container, addr string) (map[string]string, error) {
	env := map[string]string{}
	for _, e := range c.Environment {
		env[e.Name] = e.Value
	}
	for _, s := range c.Secrets {
		v, err := r.valueFrom(ctx, s.ValueFrom)
		if err != nil {
			return nil, fmt.Errorf("container %s secret %s: %w", c.Name, s.Name, err)
		}
		env[s.Name] = v
	}
	for k, v := range env {
		env[k] = r.substitute(v)
	}
	if r.isTTS(c) {
		r.ttsEnv(env, addr)
	}
	return env, nil
}

// substitute replaces Service Connect names by loopback addresses.
func (r *run) substitute(v string) string {
	for name, a := range r.dns {
		v = strings.ReplaceAll(v, name, a)
	}
	return v
}

func (r *run) isTTS(c container) bool {
	return strings.Contains(strings.Join(append(append([]string{}, c.EntryPoint...), c.Command...), " "), "ttn-lw-stack")
}

var listenKey = regexp.MustCompile(`(^|\.)(listen|listen-tls|listeners)$`)

func (r *run) ttsEnv(env map[string]string, addr string) {
	keys := make([]string, 0, len(r.defaults))
	for k := range r.defaults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := envName(k)
		v, set := env[n]
		if !set {
			v = r.defaults[k]
		}
		switch {
		case listenKey.MatchString(k) && strings.HasPrefix(v, ":"):
			env[n] = addr + v
		case strings.HasPrefix(v, "/srv/ttn-lorawan/"):
			env[n] = r.imageFolder(v)
		}
	}
	if env["TTN_LW_BLOB_PROVIDER"] == "aws" {
		env["TTN_LW_BLOB_PROVIDER"] = "local"
		env["TTN_LW_BLOB_LOCAL_DIRECTORY"] = r.blobDir
		r.sub("blob.provider aws → local, blob.local.directory %s (the folder the S3 stand-in writes)", r.blobDir)
	}
	if a, ok := env["TTN_LW_IS_EMAIL_SMTP_ADDRESS"]; ok && a != "" && r.smtp != nil {
		env["TTN_LW_IS_EMAIL_SMTP_ADDRESS"] = r.smtp.Addr()
		r.sub("is.email.smtp.address %s (Amazon SES) → the SMTP stand-in at %s (STARTTLS with a rehearsal-CA certificate for that address)", a, r.smtp.Addr())
	}
	if _, ok := env["TTN_LW_INTEROP_PACKET_BROKER_TOKEN_ISSUER"]; ok && r.pbURL != "" {
		env["TTN_LW_INTEROP_PACKET_BROKER_TOKEN_ISSUER"] = r.pbURL
	}
}

// imageFolder maps a folder of the image to this host.
func (r *run) imageFolder(p string) string {
	if strings.HasPrefix(p, "/srv/ttn-lorawan/lorawan-frequency-plans") && r.fp != "" {
		r.sub("image folder /srv/ttn-lorawan/lorawan-frequency-plans → %s", r.fp)
		return r.fp + strings.TrimPrefix(p, "/srv/ttn-lorawan/lorawan-frequency-plans")
	}
	if strings.HasPrefix(p, imageDeviceIndex) {
		dir, err := r.deviceIndex()
		if err == nil {
			return dir + strings.TrimPrefix(p, imageDeviceIndex)
		}
		r.sub("image folder %s → empty: building the rehearsal's index failed: %v", p, err)
	}
	local := filepath.Join(r.work, "srv", strings.TrimPrefix(p, "/srv/ttn-lorawan/"))
	_ = os.MkdirAll(local, 0o755)
	r.sub("image folder %s → empty %s (not in the shared build of the binary)", p, local)
	return local
}

// valueFrom resolves a container secret: an SSM parameter ARN or a Secrets
// Manager ARN, optionally with :json-key:version-stage:version-id.
func (r *run) valueFrom(ctx context.Context, ref string) (string, error) {
	parts := strings.Split(ref, ":")
	if len(parts) >= 6 && parts[2] == "ssm" {
		name := strings.TrimPrefix(strings.Join(parts[5:], ":"), "parameter")
		v, ok := r.ssm[name]
		if !ok {
			return "", fmt.Errorf("no AWS::SSM::Parameter named %s in the assembly", name)
		}
		return v, nil
	}
	if len(parts) >= 7 && parts[2] == "secretsmanager" {
		id := strings.Join(parts[:7], ":")
		key := ""
		if len(parts) > 7 {
			key = parts[7]
		}
		return r.secretValue(ctx, id, key)
	}
	if v, ok := r.ssm[ref]; ok {
		return v, nil
	}
	return r.getSecret(ctx, ref)
}

// command is the container's program and arguments on this host.
func (r *run) command(c container) (string, []string) {
	argv := append(append([]string{}, c.EntryPoint...), c.Command...)
	if len(argv) == 0 {
		return "", nil
	}
	return argv[0], argv[1:]
}

// startContainer starts a container as a process named name.
func (r *run) startContainer(ctx context.Context, name string, c container, addr string) (*proc, error) {
	env, err := r.containerEnv(ctx, c, addr)
	if err != nil {
		return nil, err
	}
	prog, args := r.command(c)
	if prog == "" {
		return nil, fmt.Errorf("container %s has neither EntryPoint nor Command", c.Name)
	}
	dir := filepath.Join(r.work, "tasks", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if len(c.masks) > 0 {
		r.logs.mask(name, c.masks)
		r.sub("CloudWatch Logs data protection: the lines of %s are checked as CloudWatch shows them, with the %d pattern(s) of its log group's policy masked", name, len(c.masks))
	}
	progs, err := r.assetPrograms(ctx, fmt.Sprint(c.Image))
	if err != nil {
		return nil, err
	}
	if progs != nil {
		for path, local := range progs {
			rep := strings.NewReplacer(path, local)
			prog = rep.Replace(prog)
			for i := range args {
				args[i] = rep.Replace(args[i])
			}
		}
		r.awsEnv(env)
	}
	if r.isProxy(c) {
		prog, args, env, err = r.proxyCommand(name, prog, args, env, addr)
		if err != nil {
			return nil, err
		}
	}
	return r.startCmd(name, r.taskCmd(context.Background(), dir, env, prog, args...))
}

// taskCmd is prog with args as a task's container runs it here: in dir,
// with the container's environment env (in a stable order) over the
// rehearsal's PATH, HOME and CA bundle, and ttn-lw-stack being the binary
// under rehearsal.
func (r *run) taskCmd(ctx context.Context, dir string, env map[string]string, prog string, args ...string) *exec.Cmd {
	list := []string{"PATH=" + r.binDir + ":/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir, "SSL_CERT_FILE=" + r.caFile}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		list = append(list, k+"="+env[k])
	}
	cmd := exec.CommandContext(ctx, prog, args...)
	if filepath.Base(prog) == "ttn-lw-stack" {
		cmd.Path, cmd.Err = r.tts, nil
	}
	cmd.Dir, cmd.Env = dir, list
	return cmd
}

// runTaskToCompletion runs the containers of t in DependsOn order and
// returns the exit code of container want.
func (r *run) runTask(ctx context.Context, name string, t task, want, addr string) (int, *proc, error) {
	byName := map[string]container{}
	for _, c := range t.containers {
		byName[c.Name] = c
	}
	c, ok := byName[want]
	if !ok {
		return -1, nil, fmt.Errorf("task %s/%s has no container %s", t.stack, t.id, want)
	}
	for _, d := range c.DependsOn {
		code, p, err := r.runTask(ctx, name+"-"+d.ContainerName, t, d.ContainerName, addr)
		if err != nil {
			return code, p, err
		}
		if d.Condition == "SUCCESS" && code != 0 {
			return code, p, fmt.Errorf("container %s exited %d (condition SUCCESS)", d.ContainerName, code)
		}
	}
	p, err := r.startContainer(ctx, name, c, addr)
	if err != nil {
		return -1, nil, err
	}
	code, err := p.wait(ctx)
	return code, p, err
}

func remarshal(in, out any) error {
	b, err := jsonMarshal(in)
	if err != nil {
		return err
	}
	return jsonUnmarshal(b, out)
}

func isCertbot(t taskRun) bool { return t.typ == deployres.CertbotRunType }
