package rehearse

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// isProxy tells the nginx container: its script writes NGINX_CONF.
func (r *run) isProxy(c container) bool {
	for _, e := range c.Environment {
		if e.Name == "NGINX_CONF" {
			return true
		}
	}
	return false
}

var (
	userLine   = regexp.MustCompile(`(?m)^\s*user\s+[^;]*;\s*$`)
	pidLine    = regexp.MustCompile(`(?m)^(\s*)pid\s+[^;]*;`)
	listen6    = regexp.MustCompile(`(?m)^\s*listen\s+\[::\]:[^;]*;[ \t]*\n?`)
	listenLine = regexp.MustCompile(`(?m)^(\s*listen\s+)(\d+)\b`)
)

// proxyCommand runs the proxy's own script with its paths and addresses
// substituted: /etc/nginx → a work folder, nginx → Debian's nginx with that
// prefix, listeners bound to the proxy's loopback address, no user switch.
func (r *run) proxyCommand(name, prog string, args []string, env map[string]string, addr string) (string, []string, map[string]string, error) {
	etc := filepath.Join(r.work, "tasks", name, "etc-nginx")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		return "", nil, nil, err
	}
	rep := strings.NewReplacer("/etc/nginx", etc)
	for i := range args {
		args[i] = rep.Replace(args[i])
	}
	for k, v := range env {
		env[k] = rep.Replace(v)
	}
	conf := env["NGINX_CONF"]
	conf = userLine.ReplaceAllString(conf, "")
	conf = pidLine.ReplaceAllString(conf, "${1}pid "+filepath.Join(etc, "nginx.pid")+";")
	conf = listen6.ReplaceAllString(conf, "")
	conf = listenLine.ReplaceAllString(conf, "${1}"+addr+":${2}")
	env["NGINX_CONF"] = conf
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		nginx = "/usr/sbin/nginx"
	}
	if _, err := os.Stat(nginx); err != nil {
		return "", nil, nil, fmt.Errorf("nginx is not installed (Debian package nginx)")
	}
	wrapper := fmt.Sprintf("#!/bin/sh\nexec %s -p %s/ -c %s/nginx.conf -e stderr \"$@\"\n", nginx, etc, etc)
	if err := os.WriteFile(filepath.Join(r.binDir, "nginx"), []byte(wrapper), 0o755); err != nil {
		return "", nil, nil, err
	}
	r.sub("proxy: /etc/nginx → %s; nginx → %s with that prefix; no `user` switch; pid file in the prefix; listeners bound to %s (same ports)", etc, nginx, addr)
	return prog, args, env, nil
}
