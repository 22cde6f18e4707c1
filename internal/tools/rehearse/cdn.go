package rehearse

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// distributions stands in for the CloudFront distribution of the pictures:
// an HTTPS server on loopback (certificate of the rehearsal CA) whose
// address is the distribution's domain name. Like CloudFront reading its S3
// origin through origin access control, it serves GET and HEAD of the
// objects of the origin bucket's folder (where The Things Stack's local blob
// provider writes them) whose key the bucket policy lets
// cloudfront.amazonaws.com read, and answers 403 for any other key, as S3
// does then.
func (r *run) distributions() error {
	for _, sn := range r.a.Order {
		st := r.a.Stacks[sn]
		for _, id := range st.ResourcesOfType("AWS::CloudFront::Distribution") {
			if r.cdn != nil {
				return fmt.Errorf("%s/%s: the rehearsal stands in for one distribution only", sn, id)
			}
			var cfg struct {
				DistributionConfig struct{ Origins []struct{ DomainName any } }
			}
			if err := remarshal(st.Resources[id].Properties, &cfg); err != nil || len(cfg.DistributionConfig.Origins) != 1 {
				return fmt.Errorf("%s/%s: want one origin (%v)", sn, id, err)
			}
			domain, err := r.ev.String(sn, cfg.DistributionConfig.Origins[0].DomainName)
			if err != nil {
				return fmt.Errorf("%s/%s origin: %w", sn, id, err)
			}
			bucket, _, ok := strings.Cut(domain, ".s3.")
			if !ok {
				return fmt.Errorf("%s/%s: origin %s is not an S3 bucket", sn, id, domain)
			}
			patterns, err := r.cloudFrontReads(sn, bucket)
			if err != nil {
				return err
			}
			cert, err := r.ca.Server("127.0.0.1")
			if err != nil {
				return err
			}
			dir := filepath.Join(r.blobDir, bucket)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				key := strings.TrimPrefix(req.URL.Path, "/")
				if req.Method != http.MethodGet && req.Method != http.MethodHead {
					http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
					return
				}
				allowed := false
				for _, p := range patterns {
					allowed = allowed || p.MatchString(key)
				}
				if !allowed || strings.Contains(key, "..") {
					http.Error(w, "AccessDenied", http.StatusForbidden)
					return
				}
				f := filepath.Join(dir, filepath.FromSlash(key))
				if fi, err := os.Stat(f); err != nil || fi.IsDir() {
					// S3 answers 403 to a reader without s3:ListBucket.
					http.Error(w, "AccessDenied", http.StatusForbidden)
					return
				}
				http.ServeFile(w, req, f)
			}))
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}, MinVersion: tls.VersionTLS12}
			srv.StartTLS()
			r.cdn = srv
			host := strings.TrimPrefix(srv.URL, "https://")
			r.v.SetAttr(sn, id, "DomainName", host)
			r.v.SetAttr(sn, id, "Id", "E0REHEARSAL")
			r.v.SetRef(sn, id, "E0REHEARSAL")
			r.sub("CloudFront distribution %s → HTTPS stand-in at %s serving the keys of folder %s that the bucket policy lets CloudFront read (%s)", id, host, dir, strings.Join(r.patternText(patterns), ", "))
		}
	}
	return nil
}

// cloudFrontReads returns the object patterns of bucket that a bucket policy
// of stack lets the service principal cloudfront.amazonaws.com GetObject.
func (r *run) cloudFrontReads(stack, bucket string) ([]*regexp.Regexp, error) {
	st := r.a.Stacks[stack]
	var out []*regexp.Regexp
	for _, pid := range st.ResourcesOfType("AWS::S3::BucketPolicy") {
		p := st.Resources[pid].Properties
		name, err := r.ev.String(stack, p["Bucket"])
		if err != nil || name != bucket {
			continue
		}
		var doc struct {
			Statement []struct {
				Effect    string
				Principal struct{ Service any }
				Action    any
				Resource  any
			}
		}
		if err := remarshal(p["PolicyDocument"], &doc); err != nil {
			return nil, err
		}
		for _, s := range doc.Statement {
			if s.Effect != "Allow" || fmt.Sprint(s.Principal.Service) != "cloudfront.amazonaws.com" || !strings.Contains(fmt.Sprint(s.Action), "s3:GetObject") {
				continue
			}
			res, err := r.ev.Eval(stack, s.Resource)
			if err != nil {
				return nil, fmt.Errorf("%s/%s: %w", stack, pid, err)
			}
			list, ok := res.([]any)
			if !ok {
				list = []any{res}
			}
			for _, x := range list {
				arn := fmt.Sprint(x)
				prefix := "arn:aws:s3:::" + bucket + "/"
				if !strings.HasPrefix(arn, prefix) {
					continue
				}
				pat := regexp.QuoteMeta(strings.TrimPrefix(arn, prefix))
				pat = strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(pat)
				out = append(out, regexp.MustCompile("^"+pat+"$"))
			}
		}
	}
	return out, nil
}

func (r *run) patternText(ps []*regexp.Regexp) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}
