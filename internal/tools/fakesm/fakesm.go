// Package fakesm is a small in-memory stand-in for the AWS Secrets Manager API
// (AWS JSON 1.1 protocol) for tests. Serve it with httptest and point the SDK
// at it, e.g. with AWS_ENDPOINT_URL_SECRETS_MANAGER or the client's
// BaseEndpoint option.
//
// Supported operations: CreateSecret, PutSecretValue, GetSecretValue,
// DescribeSecret, ListSecretVersionIds, UpdateSecretVersionStage and
// DeleteSecret (immediate deletion). Staging labels follow the service:
// a new version gets AWSCURRENT by default, the version that had it gets
// AWSPREVIOUS, and versions left without labels stay listed as deprecated.
// Requests are not signature-checked.
package fakesm

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	// StageCurrent and StagePrevious are the service-managed staging labels.
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"

	targetPrefix = "secretsmanager."
	maxBody      = 1 << 20
)

// APIError is an error answer in the service's shape.
type APIError struct {
	Status  int    // HTTP status, 400 when zero
	Type    string // e.g. ResourceNotFoundException
	Message string
}

func (e *APIError) Error() string { return e.Type + ": " + e.Message }

// Server is the fake. The zero value is not usable; call New.
type Server struct {
	region  string
	account string
	now     func() time.Time

	mu      sync.Mutex
	secrets map[string]*secret // by name
	calls   map[string]int
	fault   func(op string, body []byte) *APIError
}

type secret struct {
	arn, name, description, kmsKeyID string
	created, changed                 time.Time
	versions                         map[string]*version
	order                            []string // version IDs in creation order
}

type version struct {
	id      string
	str     *string
	bin     []byte
	stages  []string
	created time.Time
}

// Option configures a Server.
type Option func(*Server)

// WithRegion sets the region used in ARNs (default eu-west-1).
func WithRegion(r string) Option { return func(s *Server) { s.region = r } }

// WithAccount sets the account used in ARNs (default 123456789012).
func WithAccount(a string) Option { return func(s *Server) { s.account = a } }

// New returns an empty fake.
func New(opts ...Option) *Server {
	s := &Server{
		region:  "eu-west-1",
		account: "123456789012",
		now:     time.Now,
		secrets: map[string]*secret{},
		calls:   map[string]int{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// SetFault installs a function consulted before each operation; when it
// returns an error, that error is answered instead. Pass nil to remove it.
func (s *Server) SetFault(f func(op string, body []byte) *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// Calls returns how many times an operation was called (failed calls included).
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-Requestid", newID())
	if r.Method != http.MethodPost {
		writeErr(w, &APIError{Status: http.StatusMethodNotAllowed, Type: "InvalidRequestException", Message: "only POST is supported"})
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix)
	if !ok {
		writeErr(w, &APIError{Type: "UnknownOperationException", Message: fmt.Sprintf("unknown X-Amz-Target %q", target)})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeErr(w, &APIError{Type: "SerializationException", Message: "request body unreadable or larger than 1 MiB"})
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	if s.fault != nil {
		if e := s.fault(op, body); e != nil {
			writeErr(w, e)
			return
		}
	}
	var out any
	var aerr *APIError
	switch op {
	case "CreateSecret":
		out, aerr = s.createSecret(body)
	case "PutSecretValue":
		out, aerr = s.putSecretValue(body)
	case "GetSecretValue":
		out, aerr = s.getSecretValue(body)
	case "DescribeSecret":
		out, aerr = s.describeSecret(body)
	case "ListSecretVersionIds":
		out, aerr = s.listSecretVersionIDs(body)
	case "UpdateSecretVersionStage":
		out, aerr = s.updateSecretVersionStage(body)
	case "DeleteSecret":
		out, aerr = s.deleteSecret(body)
	default:
		aerr = &APIError{Type: "UnknownOperationException", Message: "operation " + op + " is not supported by the fake"}
	}
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func writeErr(w http.ResponseWriter, e *APIError) {
	st := e.Status
	if st == 0 {
		st = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", e.Type)
	w.WriteHeader(st)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Type, "message": e.Message})
}

func decode(body []byte, v any) *APIError {
	if err := json.Unmarshal(body, v); err != nil {
		return &APIError{Type: "SerializationException", Message: "cannot decode request: " + err.Error()}
	}
	return nil
}

func notFound() *APIError {
	return &APIError{Type: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret."}
}

func invalidParam(msg string) *APIError {
	return &APIError{Type: "InvalidParameterException", Message: msg}
}

// lookup resolves a SecretId: a name, a full ARN, or a partial ARN (the ARN
// without the six random characters).
func (s *Server) lookup(id string) (*secret, *APIError) {
	if id == "" {
		return nil, invalidParam("SecretId is required")
	}
	if sec, ok := s.secrets[id]; ok {
		return sec, nil
	}
	for _, sec := range s.secrets {
		if sec.arn == id || strings.TrimSuffix(sec.arn, sec.arn[len(sec.arn)-7:]) == id {
			return sec, nil
		}
	}
	return nil, notFound()
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

type valueInput struct {
	ClientRequestToken string
	SecretString       *string
	SecretBinary       []byte // base64 in JSON, decoded by encoding/json
}

func (v valueInput) check() *APIError {
	if v.SecretString != nil && v.SecretBinary != nil {
		return invalidParam("You can't specify both a binary secret value and a string secret value in the same secret.")
	}
	if t := v.ClientRequestToken; t != "" && (len(t) < 32 || len(t) > 64) {
		return invalidParam("ClientRequestToken must be 32 to 64 characters long")
	}
	return nil
}

func (v valueInput) hasValue() bool { return v.SecretString != nil || v.SecretBinary != nil }

func sameValue(ver *version, in valueInput) bool {
	if (ver.str == nil) != (in.SecretString == nil) {
		return false
	}
	if ver.str != nil && *ver.str != *in.SecretString {
		return false
	}
	return string(ver.bin) == string(in.SecretBinary)
}

// addVersion adds a version with the given stages (AWSCURRENT by default).
// It implements the service's idempotency rule for ClientRequestToken.
func (s *Server) addVersion(sec *secret, in valueInput, stages []string) (*version, *APIError) {
	id := in.ClientRequestToken
	if id == "" {
		id = newID()
	}
	if old, ok := sec.versions[id]; ok {
		if sameValue(old, in) {
			return old, nil
		}
		return nil, &APIError{Type: "ResourceExistsException", Message: "A resource with the ID you requested already exists."}
	}
	if len(stages) == 0 {
		stages = []string{StageCurrent}
	}
	now := s.now()
	v := &version{id: id, str: in.SecretString, bin: in.SecretBinary, created: now}
	sec.versions[id] = v
	sec.order = append(sec.order, id)
	for _, st := range stages {
		s.moveStage(sec, st, v)
	}
	sec.changed = now
	return v, nil
}

// moveStage attaches stage to v, removing it from the version that had it.
// Moving AWSCURRENT moves AWSPREVIOUS to the version that had AWSCURRENT.
func (s *Server) moveStage(sec *secret, stage string, v *version) {
	var had *version
	for _, o := range sec.versions {
		if i := slices.Index(o.stages, stage); i >= 0 {
			had = o
			if o != v {
				o.stages = slices.Delete(o.stages, i, i+1)
			}
		}
	}
	if !slices.Contains(v.stages, stage) {
		v.stages = append(v.stages, stage)
	}
	if stage == StageCurrent && had != nil && had != v {
		s.moveStage(sec, StagePrevious, had)
	}
}

func (s *Server) createSecret(body []byte) (any, *APIError) {
	var in struct {
		valueInput
		Name        string
		Description string
		KmsKeyId    string
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := in.check(); e != nil {
		return nil, e
	}
	if in.Name == "" {
		return nil, invalidParam("Name is required")
	}
	if _, ok := s.secrets[in.Name]; ok {
		return nil, &APIError{Type: "ResourceExistsException", Message: fmt.Sprintf("The operation failed because the secret %s already exists.", in.Name)}
	}
	now := s.now()
	suffix := newID()[:6]
	sec := &secret{
		arn:         fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", s.region, s.account, in.Name, suffix),
		name:        in.Name,
		description: in.Description,
		kmsKeyID:    in.KmsKeyId,
		created:     now,
		changed:     now,
		versions:    map[string]*version{},
	}
	s.secrets[in.Name] = sec
	out := map[string]any{"ARN": sec.arn, "Name": sec.name}
	if in.hasValue() {
		v, e := s.addVersion(sec, in.valueInput, nil)
		if e != nil {
			return nil, e
		}
		out["VersionId"] = v.id
	}
	return out, nil
}

func (s *Server) putSecretValue(body []byte) (any, *APIError) {
	var in struct {
		valueInput
		SecretId      string
		VersionStages []string
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := in.check(); e != nil {
		return nil, e
	}
	if !in.hasValue() {
		return nil, invalidParam("You must provide either SecretString or SecretBinary.")
	}
	sec, e := s.lookup(in.SecretId)
	if e != nil {
		return nil, e
	}
	v, e := s.addVersion(sec, in.valueInput, in.VersionStages)
	if e != nil {
		return nil, e
	}
	return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": v.id, "VersionStages": v.stages}, nil
}

func (s *Server) getSecretValue(body []byte) (any, *APIError) {
	var in struct{ SecretId, VersionId, VersionStage string }
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	sec, e := s.lookup(in.SecretId)
	if e != nil {
		return nil, e
	}
	var v *version
	switch {
	case in.VersionId != "":
		v = sec.versions[in.VersionId]
		if v != nil && in.VersionStage != "" && !slices.Contains(v.stages, in.VersionStage) {
			return nil, invalidParam("The VersionId and VersionStage you specified do not refer to the same version.")
		}
		if v == nil {
			return nil, &APIError{Type: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret value for VersionId: " + in.VersionId}
		}
	default:
		stage := in.VersionStage
		if stage == "" {
			stage = StageCurrent
		}
		for _, o := range sec.versions {
			if slices.Contains(o.stages, stage) {
				v = o
			}
		}
		if v == nil {
			return nil, &APIError{Type: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret value for staging label: " + stage}
		}
	}
	out := map[string]any{
		"ARN": sec.arn, "Name": sec.name, "VersionId": v.id,
		"VersionStages": v.stages, "CreatedDate": epoch(v.created),
	}
	if v.str != nil {
		out["SecretString"] = *v.str
	} else {
		out["SecretBinary"] = v.bin // base64 by encoding/json
	}
	return out, nil
}

func (s *Server) describeSecret(body []byte) (any, *APIError) {
	var in struct{ SecretId string }
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	sec, e := s.lookup(in.SecretId)
	if e != nil {
		return nil, e
	}
	stages := map[string][]string{}
	for id, v := range sec.versions {
		if len(v.stages) > 0 {
			stages[id] = v.stages
		}
	}
	out := map[string]any{
		"ARN": sec.arn, "Name": sec.name, "CreatedDate": epoch(sec.created),
		"LastChangedDate": epoch(sec.changed), "VersionIdsToStages": stages,
	}
	if sec.description != "" {
		out["Description"] = sec.description
	}
	if sec.kmsKeyID != "" {
		out["KmsKeyId"] = sec.kmsKeyID
	}
	return out, nil
}

func (s *Server) listSecretVersionIDs(body []byte) (any, *APIError) {
	var in struct {
		SecretId          string
		MaxResults        int
		NextToken         string
		IncludeDeprecated bool
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	sec, e := s.lookup(in.SecretId)
	if e != nil {
		return nil, e
	}
	if in.MaxResults == 0 {
		in.MaxResults = 100
	}
	if in.MaxResults < 1 || in.MaxResults > 100 {
		return nil, invalidParam("MaxResults must be between 1 and 100")
	}
	var ids []string
	for i := len(sec.order) - 1; i >= 0; i-- { // newest first
		v := sec.versions[sec.order[i]]
		if len(v.stages) > 0 || in.IncludeDeprecated {
			ids = append(ids, v.id)
		}
	}
	start := 0
	if in.NextToken != "" {
		start = slices.Index(ids, in.NextToken)
		if start < 0 {
			return nil, &APIError{Type: "InvalidNextTokenException", Message: "The NextToken value is invalid."}
		}
	}
	end := min(start+in.MaxResults, len(ids))
	list := []map[string]any{}
	for _, id := range ids[start:end] {
		v := sec.versions[id]
		list = append(list, map[string]any{"VersionId": v.id, "VersionStages": v.stages, "CreatedDate": epoch(v.created)})
	}
	out := map[string]any{"ARN": sec.arn, "Name": sec.name, "Versions": list}
	if end < len(ids) {
		out["NextToken"] = ids[end]
	}
	return out, nil
}

func (s *Server) updateSecretVersionStage(body []byte) (any, *APIError) {
	var in struct{ SecretId, VersionStage, MoveToVersionId, RemoveFromVersionId string }
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	sec, e := s.lookup(in.SecretId)
	if e != nil {
		return nil, e
	}
	if in.VersionStage == "" {
		return nil, invalidParam("VersionStage is required")
	}
	var holder *version
	for _, v := range sec.versions {
		if slices.Contains(v.stages, in.VersionStage) {
			holder = v
		}
	}
	if holder != nil && in.MoveToVersionId != "" && holder.id != in.MoveToVersionId && holder.id != in.RemoveFromVersionId {
		return nil, invalidParam(fmt.Sprintf("The staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", in.VersionStage, holder.id))
	}
	if in.RemoveFromVersionId != "" {
		v, ok := sec.versions[in.RemoveFromVersionId]
		if !ok {
			return nil, notFound()
		}
		if in.VersionStage == StageCurrent && in.MoveToVersionId == "" {
			return nil, invalidParam("You can only remove AWSCURRENT by moving it to another version.")
		}
		if i := slices.Index(v.stages, in.VersionStage); i >= 0 {
			v.stages = slices.Delete(v.stages, i, i+1)
		}
	}
	if in.MoveToVersionId != "" {
		v, ok := sec.versions[in.MoveToVersionId]
		if !ok {
			return nil, notFound()
		}
		if holder != nil && in.VersionStage == StageCurrent && holder != v {
			// Put the label back so moveStage sees the old holder and sets AWSPREVIOUS.
			if !slices.Contains(holder.stages, StageCurrent) {
				holder.stages = append(holder.stages, StageCurrent)
			}
		}
		s.moveStage(sec, in.VersionStage, v)
	}
	sec.changed = s.now()
	return map[string]any{"ARN": sec.arn, "Name": sec.name}, nil
}

func (s *Server) deleteSecret(body []byte) (any, *APIError) {
	var in struct{ SecretId string }
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	sec, e := s.lookup(in.SecretId)
	if e != nil {
		return nil, e
	}
	delete(s.secrets, sec.name)
	return map[string]any{"ARN": sec.arn, "Name": sec.name, "DeletionDate": epoch(s.now())}, nil
}
