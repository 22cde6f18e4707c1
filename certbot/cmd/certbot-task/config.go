package main

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lorawan-stack-aws/tts-ecs/certbot/certmetrics"
)

// ACME directories.
const (
	LetsEncryptProduction = "https://acme-v02.api.letsencrypt.org/directory"
	LetsEncryptStaging    = "https://acme-staging-v02.api.letsencrypt.org/directory"
)

// Exit codes of the task.
const (
	exitOK         = 0 // certificate valid and not due, or renewed and verified
	exitRenewFail  = 1 // renewal needed but certbot or the deploy hook failed
	exitConfig     = 2 // configuration error, nothing attempted
	exitSecretRead = 3 // cannot read the secret (other than "not found"): no issuance attempted
)

type config struct {
	SecretID        string
	AccountSecretID string
	Domain          string
	Domains         []string // passed to certbot with -d, primary first
	Email           string
	Server          string
	RenewBeforeDays float64
	ForceRenewal    bool
	CertbotBin      string
	ConfigDir       string
	WorkDir         string
	LogsDir         string
	AuthArgs        []string
	ExtraArgs       []string
	DeployHook      string
	CertbotTimeout  time.Duration
	lookup          func(string) (string, bool)
}

func parseConfig(lookup func(string) (string, bool)) (*config, error) {
	var errs []error
	get := func(k, def string) string {
		if v, ok := lookup(k); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	req := func(k, what string) string {
		v := get(k, "")
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required: %s", k, what))
		}
		return v
	}
	c := &config{lookup: lookup}
	c.SecretID = req("CERT_SECRET_ID", "name or ARN of the certificate secret")
	c.Domain = strings.ToLower(strings.TrimSuffix(req("CERT_DOMAIN", "the domain to certify, e.g. tts.example.com"), "."))
	c.Email = req("ACME_EMAIL", "the ACME account e-mail for expiry notices")
	if c.Email != "" {
		if _, err := mail.ParseAddress(c.Email); err != nil {
			errs = append(errs, fmt.Errorf("ACME_EMAIL %q is not an e-mail address", c.Email))
		}
	}
	if strings.HasPrefix(c.Domain, "*.") || strings.ContainsAny(c.Domain, " /:") {
		errs = append(errs, fmt.Errorf("CERT_DOMAIN %q must be a plain host name; the wildcard is added by CERT_WILDCARD", c.Domain))
	}
	c.Domains = []string{c.Domain}
	wild, err := strconv.ParseBool(get("CERT_WILDCARD", "true"))
	if err != nil {
		errs = append(errs, fmt.Errorf("CERT_WILDCARD must be true or false"))
	}
	if wild && c.Domain != "" {
		c.Domains = append(c.Domains, "*."+c.Domain)
	}
	for _, d := range strings.FieldsFunc(get("CERT_EXTRA_DOMAINS", ""), func(r rune) bool { return r == ',' || r == ' ' }) {
		c.Domains = append(c.Domains, strings.ToLower(d))
	}

	switch s := get("ACME_SERVER", "production"); s {
	case "production":
		c.Server = LetsEncryptProduction
	case "staging":
		c.Server = LetsEncryptStaging
	default:
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, fmt.Errorf("ACME_SERVER %q must be production, staging or an https:// ACME directory URL", s))
		}
		c.Server = s
	}
	c.AccountSecretID = get("ACME_ACCOUNT_SECRET_ID", "")
	c.RenewBeforeDays, err = strconv.ParseFloat(get("RENEW_BEFORE_DAYS", "30"), 64)
	if err != nil || c.RenewBeforeDays < 0 {
		errs = append(errs, fmt.Errorf("RENEW_BEFORE_DAYS must be a non-negative number of days"))
	}
	c.ForceRenewal, err = strconv.ParseBool(get("FORCE_RENEWAL", "false"))
	if err != nil {
		errs = append(errs, fmt.Errorf("FORCE_RENEWAL must be true or false"))
	}
	c.CertbotBin = get("CERTBOT_BIN", "certbot")
	c.ConfigDir = get("CERTBOT_CONFIG_DIR", "/etc/letsencrypt")
	c.WorkDir = get("CERTBOT_WORK_DIR", "/var/lib/letsencrypt")
	c.LogsDir = get("CERTBOT_LOGS_DIR", "/var/log/letsencrypt")
	c.AuthArgs = strings.Fields(get("CERTBOT_AUTH_ARGS", "--dns-route53"))
	c.ExtraArgs = strings.Fields(get("CERTBOT_EXTRA_ARGS", ""))
	c.DeployHook = get("DEPLOY_HOOK", "/usr/local/bin/deploy-hook")
	c.CertbotTimeout, err = time.ParseDuration(get("CERTBOT_TIMEOUT", "20m"))
	if err != nil || c.CertbotTimeout <= 0 {
		errs = append(errs, fmt.Errorf("CERTBOT_TIMEOUT must be a positive Go duration such as 20m"))
	}
	if _, err := certmetrics.ParseDimensions(get(certmetrics.EnvDimensions, "")); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", certmetrics.EnvDimensions, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// certbotArgs returns the certbot command line (without the binary).
func (c *config) certbotArgs() []string {
	args := []string{
		"certonly", "--non-interactive", "--agree-tos", "--no-eff-email",
		"--email", c.Email,
		"--server", c.Server,
		"--config-dir", c.ConfigDir, "--work-dir", c.WorkDir, "--logs-dir", c.LogsDir,
		"--cert-name", c.Domain,
		// The task decided that a new certificate is needed (the secret is
		// the source of truth), so certbot must not keep a local lineage.
		"--force-renewal",
		"--deploy-hook", c.DeployHook,
	}
	args = append(args, c.AuthArgs...)
	for _, d := range c.Domains {
		args = append(args, "-d", d)
	}
	return append(args, c.ExtraArgs...)
}
