package smoke

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// scenario is the state that checks hand to later checks.
type scenario struct {
	t       Target
	web     *webClient
	token   string // OAuth access token of the administrator
	app     string // application the scenario registered
	gateway [8]byte
	gwOK    bool // gateway registered (and its UDP answers)
	results []Result
}

// Run runs every check of the scenario against t, in order, and returns one
// result per check.
func Run(ctx context.Context, t Target) []Result {
	if t.Timeout <= 0 {
		t.Timeout = 30 * time.Second
	}
	s := &scenario{t: t, web: newWebClient(t)}
	s.check(ctx, "HTTP: GET /api/v3/auth_info through the proxy", "", s.authInfo)
	s.check(ctx, "OAuth: wrong password refused", "", s.wrongPassword)
	s.check(ctx, "OAuth: Console login and code exchange", "", s.oauthLogin)
	s.check(ctx, "gRPC: EntityAccess/AuthInfo with the access token", s.need(s.token != "", "an access token"), s.grpcAuthInfo)
	s.check(ctx, "REST: create application", s.need(s.token != "", "an access token"), s.createApplication)
	s.check(ctx, "Device Repository: brands and models through the proxy", s.need(s.token != "" && s.t.DeviceBrand != "", "an access token and the rehearsal's device index"), s.deviceRepository)
	s.check(ctx, "Rate limiting: a burst of API calls through the proxy is refused (HTTP 429)", s.need(s.app != "" && s.t.DeviceBrand != "", "an application and the Device Repository"), s.rateLimitBurst)
	homeNS := s.need(s.app != "", "an application")
	s.check(ctx, "Interop: HomeNSReq with a Packet Broker token", homeNS, s.homeNSWithToken)
	s.check(ctx, "Interop: HomeNSReq without a token refused", "", s.homeNSWithoutToken)
	s.check(ctx, "Gateway: register, UDP PUSH_DATA/PULL_DATA acknowledged", s.need(s.token != "", "an access token"), s.gatewayUDP)
	s.check(ctx, "MQTT: CONNECT with an application API key; wrong key refused", homeNS, s.mqtt)
	for i, c := range t.JoinServers {
		name := fmt.Sprintf("Interop join: %s (%s)", c.File, c.JoinEUIPrefix)
		skip := s.need(s.app != "", "an application")
		if skip == "" {
			skip = s.need(s.gwOK, "a connected gateway")
		}
		s.check(ctx, name, skip, func(ctx context.Context) (string, error) { return s.interopJoin(ctx, i) })
	}
	s.check(ctx, "Join: a device of the deployment's Join Server joins through the UDP gateway; the join-accept reaches the gateway",
		s.need(s.app != "" && s.gwOK, "an application and a connected gateway"), s.localJoin)
	s.check(ctx, metricsCheckName, s.need(s.gwOK, "a connected gateway (the traffic series exist only after traffic)"), s.metrics)
	s.check(ctx, "E-mail: password reset through the proxy sends a mail to the SMTP stand-in over STARTTLS with the secret's credentials",
		s.need(t.Mail != nil, "EmailSender (the deployment sends no e-mail)"), s.passwordResetMail)
	if t.PBARequests != nil {
		s.check(ctx, "Packet Broker Agent: /api/v3/pba/ and the Pba gRPC service routed to it", s.need(s.token != "", "an access token"), s.pbaRoutes)
	}
	if t.PicturesURL != "" {
		s.check(ctx, "Pictures: upload a profile picture, read it at the advertised URL", s.need(s.token != "", "an access token"), s.pictures)
	}
	if t.Exec != nil {
		s.check(ctx, "Ops access: is-db create-user-api-key, is-db migrate and ns-db cleanup in the tasks' environment (make exec)",
			s.need(s.token != "", "an access token"), s.opsAccess)
	}
	s.check(ctx, "no secret in any log", "", s.noSecretInLogs)
	return s.results
}

// need is "" when ok, else the reason a check is skipped.
func (s *scenario) need(ok bool, what string) string {
	if ok {
		return ""
	}
	return "skipped: needs " + what
}

// check runs one check bounded by the timeout, unless skip says why not.
func (s *scenario) check(ctx context.Context, name, skip string, f func(context.Context) (string, error)) {
	if skip != "" {
		s.results = append(s.results, Result{Check: name, Detail: skip})
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.t.Timeout)
	defer cancel()
	detail, err := f(ctx)
	if err != nil {
		s.results = append(s.results, Result{Check: name, Detail: err.Error()})
		return
	}
	s.results = append(s.results, Result{Check: name, OK: true, Detail: detail})
}

func (s *scenario) authInfo(ctx context.Context) (string, error) {
	res, err := s.web.do(ctx, http.MethodGet, "/api/v3/auth_info", nil, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return "", err
	}
	if res.Status != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", res.Status, snippet(res.Body))
	}
	var v map[string]any
	if err := json.Unmarshal(res.Body, &v); err != nil {
		return "", fmt.Errorf("HTTP 200 but not JSON: %s", snippet(res.Body))
	}
	return "200 " + snippet(res.Body), nil
}

// authorizePath is the Console's authorization request.
func (s *scenario) authorizePath(state string) string {
	return query("/oauth/authorize", "client_id", s.t.ConsoleClientID, "redirect_uri", s.t.ConsoleRedirectURI,
		"response_type", "code", "state", state)
}

// login starts the Console's OAuth flow on a fresh client and logs in:
// it returns the client (with its session) and the CSRF token.
func (s *scenario) login(ctx context.Context, password string) (*webClient, string, *response, error) {
	web := newWebClient(s.t)
	res, err := web.do(ctx, http.MethodGet, s.authorizePath("smoke"), nil, nil)
	if err != nil {
		return nil, "", nil, err
	}
	if res.Status != http.StatusFound || !strings.Contains(res.Location, "/login") {
		return nil, "", nil, fmt.Errorf("authorize without a session: HTTP %d to %q, want a redirect to the login page", res.Status, res.Location)
	}
	if !strings.HasPrefix(res.Location, "/") {
		return nil, "", nil, fmt.Errorf("login page %q is not on the deployment (%s)", res.Location, s.t.PublicBaseURL)
	}
	page, err := web.do(ctx, http.MethodGet, res.Location, nil, http.Header{"Accept": {"text/html"}})
	if err != nil {
		return nil, "", nil, err
	}
	if page.Status != http.StatusOK {
		return nil, "", nil, fmt.Errorf("login page %s: HTTP %d", res.Location, page.Status)
	}
	csrf, err := csrfToken(page.Body)
	if err != nil {
		return nil, "", nil, fmt.Errorf("login page %s: %w", res.Location, err)
	}
	body, _ := json.Marshal(map[string]string{"user_id": s.t.AdminUserID, "password": password})
	pub := strings.TrimSuffix(s.t.PublicBaseURL, "/")
	login, err := web.do(ctx, http.MethodPost, "/oauth/api/auth/login", body, http.Header{
		"Content-Type": {"application/json"}, "Accept": {"application/json"},
		"X-Csrf-Token": {csrf}, "Origin": {pub}, "Referer": {pub + res.Location},
	})
	if err != nil {
		return nil, "", nil, err
	}
	return web, csrf, login, nil
}

func (s *scenario) wrongPassword(ctx context.Context) (string, error) {
	_, _, login, err := s.login(ctx, s.t.AdminPassword+"-wrong")
	if err != nil {
		return "", err
	}
	if login.Status/100 == 2 {
		return "", fmt.Errorf("login with a wrong password: HTTP %d", login.Status)
	}
	if !bytes.Contains(login.Body, []byte("no_user_id_password_match")) {
		return "", fmt.Errorf("login refused, but not for its password: HTTP %d: %s", login.Status, snippet(login.Body))
	}
	return fmt.Sprintf("HTTP %d no_user_id_password_match", login.Status), nil
}

func (s *scenario) oauthLogin(ctx context.Context) (string, error) {
	web, csrf, login, err := s.login(ctx, s.t.AdminPassword)
	if err != nil {
		return "", err
	}
	if login.Status/100 != 2 {
		return "", fmt.Errorf("login: HTTP %d: %s", login.Status, snippet(login.Body))
	}
	state := randomHex(8)
	res, err := web.do(ctx, http.MethodGet, s.authorizePath(state), nil, http.Header{"Accept": {"text/html"}})
	if err != nil {
		return "", err
	}
	if res.Status == http.StatusOK {
		// The client is not pre-authorized: authorize it as the user would.
		if tok, err := csrfToken(res.Body); err == nil {
			csrf = tok
		}
		form := fmt.Sprintf("authorize=true&_csrf=%s", urlQueryEscape(csrf))
		pub := strings.TrimSuffix(s.t.PublicBaseURL, "/")
		res, err = web.do(ctx, http.MethodPost, s.authorizePath(state), []byte(form), http.Header{
			"Content-Type": {"application/x-www-form-urlencoded"}, "X-Csrf-Token": {csrf},
			"Origin": {pub}, "Referer": {pub + s.authorizePath(state)},
		})
		if err != nil {
			return "", err
		}
	}
	if res.Status != http.StatusFound {
		return "", fmt.Errorf("authorize with a session: HTTP %d: %s", res.Status, snippet(res.Body))
	}
	loc, err := parseURL(res.Location)
	if err != nil {
		return "", err
	}
	redirect, _ := parseURL(s.web.local(s.t.ConsoleRedirectURI))
	if loc.Path != redirect.Path {
		return "", fmt.Errorf("authorize redirected to %q, want the redirect URI %q", res.Location, s.t.ConsoleRedirectURI)
	}
	if got := loc.Query().Get("state"); got != state {
		return "", fmt.Errorf("authorize returned state %q, want %q", got, state)
	}
	code := loc.Query().Get("code")
	if code == "" {
		return "", fmt.Errorf("authorize redirected without a code: %s", loc.Query().Get("error"))
	}
	form := fmt.Sprintf("grant_type=authorization_code&code=%s&redirect_uri=%s&client_id=%s",
		urlQueryEscape(code), urlQueryEscape(s.t.ConsoleRedirectURI), urlQueryEscape(s.t.ConsoleClientID))
	tokRes, err := web.do(ctx, http.MethodPost, "/oauth/token", []byte(form), http.Header{
		"Content-Type":  {"application/x-www-form-urlencoded"},
		"Accept":        {"application/json"},
		"Authorization": {"Basic " + basicAuth(s.t.ConsoleClientID, s.t.ConsoleClientSecret)},
	})
	if err != nil {
		return "", err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if tokRes.Status != http.StatusOK || json.Unmarshal(tokRes.Body, &tok) != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token exchange: HTTP %d: %s", tokRes.Status, snippet(tokRes.Body))
	}
	s.token = tok.AccessToken
	return fmt.Sprintf("login, code at %s, %s access token", loc.Path, tok.TokenType), nil
}

// grpcCall makes a unary gRPC call with an empty request through the
// proxy's gRPC port (HTTP/2 without TLS, as the load balancer forwards it),
// authenticated with the scenario's token. It returns the response, whose
// trailers are read, and its body (at most 1 MiB).
func (s *scenario) grpcCall(ctx context.Context, method string) (*http.Response, []byte, error) {
	tr := &http.Transport{}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.t.GRPCAddr+method, bytes.NewReader(grpcFrame(nil)))
	if err != nil {
		return nil, nil, err
	}
	req.Host = s.t.Domain
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	req.Header.Set("Authorization", "Bearer "+s.token)
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res, body, err
}

func (s *scenario) grpcAuthInfo(ctx context.Context) (string, error) {
	res, body, err := s.grpcCall(ctx, "/ttn.lorawan.v3.EntityAccess/AuthInfo")
	if err != nil {
		return "", err
	}
	status := res.Trailer.Get("Grpc-Status")
	if status == "" {
		status = res.Header.Get("Grpc-Status")
	}
	if res.StatusCode != http.StatusOK || status != "0" {
		return "", fmt.Errorf("HTTP %d, grpc-status %q: %s", res.StatusCode, status,
			res.Trailer.Get("Grpc-Message")+res.Header.Get("Grpc-Message"))
	}
	msg, err := grpcMessage(body)
	if err != nil {
		return "", err
	}
	// AuthInfoResponse.oauth_access_token (2) .user_ids (1) .user_id (1)
	user, ok := protoPath(msg, 2, 1, 1)
	if !ok || string(user) != s.t.AdminUserID {
		return "", fmt.Errorf("AuthInfo names user %q, want %q", user, s.t.AdminUserID)
	}
	return fmt.Sprintf("grpc-status 0, OAuth token of %s, is_admin=%v", user, protoBool(msg, 4)), nil
}

func (s *scenario) createApplication(ctx context.Context) (string, error) {
	app := "smoke-" + randomHex(4)
	err := s.web.api(ctx, http.MethodPost, "/api/v3/users/"+s.t.AdminUserID+"/applications", s.token,
		map[string]any{"application": map[string]any{"ids": map[string]string{"application_id": app}}}, nil)
	if err != nil {
		return "", err
	}
	s.app = app
	return app, nil
}

// createDevice registers an end device in the Identity Server and, when
// ns is set, in the Network Server.
func (s *scenario) createDevice(ctx context.Context, joinEUI, devEUI uint64, ns *nsDevice) (string, error) {
	dev := "dev-" + randomHex(4)
	ids := map[string]any{
		"device_id":       dev,
		"application_ids": map[string]string{"application_id": s.app},
		"join_eui":        fmt.Sprintf("%016X", joinEUI),
		"dev_eui":         fmt.Sprintf("%016X", devEUI),
	}
	isDev := map[string]any{"ids": ids}
	paths := []string{}
	if ns != nil {
		isDev["network_server_address"] = s.t.Domain
		isDev["frequency_plan_id"] = s.t.FrequencyPlanID
		paths = append(paths, "network_server_address")
	}
	if err := s.web.api(ctx, http.MethodPost, "/api/v3/applications/"+s.app+"/devices", s.token,
		map[string]any{"end_device": isDev, "field_mask": map[string]any{"paths": paths}}, nil); err != nil {
		return "", err
	}
	if ns == nil {
		return dev, nil
	}
	nsDev := map[string]any{
		"ids":                 ids,
		"frequency_plan_id":   s.t.FrequencyPlanID,
		"lorawan_version":     ns.macVersion,
		"lorawan_phy_version": ns.phyVersion,
		"supports_join":       true,
	}
	return dev, s.web.api(ctx, http.MethodPut, "/api/v3/ns/applications/"+s.app+"/devices/"+dev, s.token,
		map[string]any{"end_device": nsDev, "field_mask": map[string]any{"paths": []string{
			"frequency_plan_id", "lorawan_version", "lorawan_phy_version", "supports_join",
		}}}, nil)
}

type nsDevice struct{ macVersion, phyVersion string }

// homeNSReq POSTs a HomeNSReq (BI 1.1) for the device to the interop URL.
func (s *scenario) homeNSReq(ctx context.Context, joinEUI, devEUI uint64, bearer string) (map[string]any, error) {
	body, _ := json.Marshal(map[string]any{
		"ProtocolVersion": "1.1",
		"TransactionID":   binary.BigEndian.Uint32([]byte(randomBytes(4))),
		"MessageType":     "HomeNSReq",
		"SenderID":        "000000",
		"SenderNSID":      "0000000000000001",
		"ReceiverID":      fmt.Sprintf("%016X", joinEUI),
		"DevEUI":          fmt.Sprintf("%016X", devEUI),
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.t.InteropURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := s.web.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	var ans map[string]any
	if err := json.Unmarshal(b, &ans); err != nil {
		return nil, fmt.Errorf("HTTP %d, not JSON: %s", res.StatusCode, snippet(b))
	}
	ans["httpStatus"] = res.StatusCode
	return ans, nil
}

func resultCode(ans map[string]any) string {
	r, _ := ans["Result"].(map[string]any)
	code, _ := r["ResultCode"].(string)
	if d, _ := r["Description"].(string); d != "" && code != "Success" {
		return code + " (" + d + ")"
	}
	return code
}

func (s *scenario) homeNSWithToken(ctx context.Context) (string, error) {
	if s.t.InteropURL == "" {
		return "interop off", nil
	}
	if s.t.PacketBroker == nil {
		return "no Packet Broker: token case not applicable", nil
	}
	joinEUI, devEUI := randomEUI(), randomEUI()
	if _, err := s.createDevice(ctx, joinEUI, devEUI, nil); err != nil {
		return "", err
	}
	tok, err := s.t.PacketBroker.Token(s.t.InteropAudience)
	if err != nil {
		return "", err
	}
	ans, err := s.homeNSReq(ctx, joinEUI, devEUI, tok)
	if err != nil {
		return "", err
	}
	var problems []string
	if ans["MessageType"] != "HomeNSAns" || !strings.HasPrefix(resultCode(ans), "Success") {
		problems = append(problems, fmt.Sprintf("%v with Result %s", ans["MessageType"], resultCode(ans)))
	}
	if got, _ := ans["HNetID"].(string); !strings.EqualFold(got, s.t.NetID) {
		problems = append(problems, fmt.Sprintf("HNetID %q, want %q", got, s.t.NetID))
	}
	if s.t.NSID != "" {
		if got, _ := ans["HNSID"].(string); !strings.EqualFold(got, s.t.NSID) {
			problems = append(problems, fmt.Sprintf("HNSID %q, want %q", got, s.t.NSID))
		}
	}
	vs, _ := ans["VSExtension"].(map[string]any)
	obj, _ := vs["Object"].(map[string]any)
	tts, _ := obj["TTSV3"].(map[string]any)
	tenant, _ := tts["HTenantID"].(string)
	if s.t.TenantID != "" && tenant != s.t.TenantID {
		problems = append(problems, fmt.Sprintf("HTenantID %q, want %q", tenant, s.t.TenantID))
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; "))
	}
	return fmt.Sprintf("HomeNSAns Success, HNetID %v, HNSID %v, HTenantID %q", ans["HNetID"], ans["HNSID"], tenant), nil
}

func (s *scenario) homeNSWithoutToken(ctx context.Context) (string, error) {
	if s.t.InteropURL == "" {
		return "interop off", nil
	}
	ans, err := s.homeNSReq(ctx, randomEUI(), randomEUI(), "")
	if err != nil {
		return "", err
	}
	code := resultCode(ans)
	if strings.HasPrefix(code, "Success") || ans["HNetID"] != nil {
		return "", fmt.Errorf("answered without authentication: %s, HNetID %v", code, ans["HNetID"])
	}
	return fmt.Sprintf("HTTP %v, %v Result %s", ans["httpStatus"], ans["MessageType"], code), nil
}

func (s *scenario) gatewayUDP(ctx context.Context) (string, error) {
	eui := euiBytes(randomEUI())
	gw := "gw-" + randomHex(4)
	err := s.web.api(ctx, http.MethodPost, "/api/v3/users/"+s.t.AdminUserID+"/gateways", s.token,
		map[string]any{"gateway": map[string]any{
			"ids":                    map[string]string{"gateway_id": gw, "eui": fmt.Sprintf("%016X", eui)},
			"frequency_plan_id":      s.t.FrequencyPlanID,
			"gateway_server_address": s.t.Domain,
			"enforce_duty_cycle":     true,
		}}, nil)
	if err != nil {
		return "", err
	}
	if err := udpExchange(ctx, s.t.GatewayUDPAddr, udpPacket(udpPushData, 0, eui, statJSON()), udpPushAck); err != nil {
		return "", fmt.Errorf("PUSH_DATA: %w", err)
	}
	if err := udpExchange(ctx, s.t.GatewayUDPAddr, udpPacket(udpPullData, 0, eui, nil), udpPullAck); err != nil {
		return "", fmt.Errorf("PULL_DATA: %w", err)
	}
	s.gateway, s.gwOK = eui, true
	return fmt.Sprintf("gateway %s (EUI %X): PUSH_ACK and PULL_ACK", gw, eui), nil
}

// udpExchange sends pkt (its token replaced by a random one) from a new
// socket and waits for the acknowledgement want with the same token.
func udpExchange(ctx context.Context, addr string, pkt []byte, want byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	token := binary.BigEndian.Uint16([]byte(randomBytes(2)))
	pkt = append([]byte(nil), pkt...)
	binary.BigEndian.PutUint16(pkt[1:3], token)
	buf := make([]byte, 2048)
	for attempt := 0; attempt < 5; attempt++ {
		if _, err := conn.Write(pkt); err != nil {
			return err
		}
		wait := time.Now().Add(2 * time.Second)
		if !deadline.IsZero() && deadline.Before(wait) {
			wait = deadline
		}
		_ = conn.SetReadDeadline(wait)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				break
			}
			ident, tok, err := udpAck(buf[:n])
			if err == nil && ident == want && tok == token {
				return nil
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("no acknowledgement 0x%02x with token %04x from %s", want, token, addr)
}

func (s *scenario) mqtt(ctx context.Context) (string, error) {
	var key struct {
		Key string `json:"key"`
	}
	err := s.web.api(ctx, http.MethodPost, "/api/v3/applications/"+s.app+"/api-keys", s.token, map[string]any{
		"name":   "smoke",
		"rights": []string{"RIGHT_APPLICATION_INFO", "RIGHT_APPLICATION_TRAFFIC_READ"},
	}, &key)
	if err != nil {
		return "", err
	}
	if key.Key == "" {
		return "", errors.New("API key creation answered no key")
	}
	// The Things Stack (open source) takes the application ID as the
	// username; "<id>@<tenant>" is The Things Stack Cloud's form.
	if rc, err := mqttTry(ctx, s.t.AppMQTTAddr, s.app, key.Key); err != nil || rc != 0 {
		return "", fmt.Errorf("CONNECT as %s with the API key: return code %d, %v", s.app, rc, err)
	}
	rc, err := mqttTry(ctx, s.t.AppMQTTAddr, s.app, key.Key+"x")
	if err == nil && rc == 0 {
		return "", errors.New("CONNECT with a wrong key was accepted")
	}
	refusal := fmt.Sprintf("return code %d", rc)
	if err != nil {
		refusal = "connection closed"
	}
	return fmt.Sprintf("CONNACK 0 for %s; wrong key: %s", s.app, refusal), nil
}

// mqttTry connects and returns CONNACK's return code, or an error when the
// server closed the connection without one.
func mqttTry(ctx context.Context, addr, user, pass string) (byte, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write(mqttConnect("smoke-"+randomHex(4), user, pass)); err != nil {
		return 0, err
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return 0, fmt.Errorf("no CONNACK: %w", err)
	}
	rc, err := mqttConnack(buf)
	if err == nil && rc == 0 {
		_, _ = conn.Write(mqttDisconnect())
	}
	return rc, err
}

// jsFile is what the scenario reads of a Join Server file.
type jsFile struct {
	Protocol string `yaml:"protocol"`
	Paths    struct {
		Join string `yaml:"join"`
	} `yaml:"paths"`
	SenderNSID string            `yaml:"sender-ns-id"`
	Headers    map[string]string `yaml:"headers"`
	BasicAuth  struct {
		Username string `yaml:"username"`
		Password string `yaml:"password"`
	} `yaml:"basic-auth"`
	TLS struct {
		Certificate string `yaml:"certificate"`
	} `yaml:"tls"`
}

func (s *scenario) interopJoin(ctx context.Context, i int) (string, error) {
	c := s.t.JoinServers[i]
	if len(c.Components) > 0 && !slices.Contains(c.Components, "ns") {
		// Only the Application Server uses this Join Server, for session
		// keys (AppSKeyReq) after a join that a real Join Server accepted;
		// the stand-in accepts none, so there is nothing to send it.
		return "not exercised: only " + strings.Join(c.Components, ",") + " uses this file (AppSKeyReq after an accepted join); JoinReq comes from ns", nil
	}
	if c.Server == nil {
		return "", fmt.Errorf("%s has no stand-in", c.File)
	}
	var f jsFile
	if err := yaml.Unmarshal(c.Data, &f); err != nil {
		return "", fmt.Errorf("%s: %w", c.File, err)
	}
	wantSubject := ""
	if f.TLS.Certificate != "" {
		p := filepath.Join(c.RepositoryDir, filepath.Dir(c.File), f.TLS.Certificate)
		subject, err := certificateSubject(p)
		if err != nil {
			return "", fmt.Errorf("%s: tls.certificate: %w", c.File, err)
		}
		wantSubject = subject
	}
	joinEUI, err := s.joinEUIFor(i)
	if err != nil {
		return "", err
	}
	version := nsDevice{"MAC_V1_0_3", "PHY_V1_0_3_REV_A"}
	if f.Protocol == "BI1.1" {
		version = nsDevice{"MAC_V1_1", "PHY_V1_1_REV_B"}
	}
	devEUI := randomEUI()
	if _, err := s.createDevice(ctx, joinEUI, devEUI, &version); err != nil {
		return "", err
	}
	// A device that hears no join-accept tries again with a new DevNonce;
	// so does this check, every joinRetry, as the first uplinks after a
	// deployment may meet a Gateway Server still connecting to the Network
	// Server.
	freq, datr := uplinkChannel(s.t.FrequencyPlanID)
	wantDevEUI := fmt.Sprintf("%016X", devEUI)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var next time.Time
	attempts := 0
	for {
		if time.Now().After(next) {
			var mic [4]byte
			copy(mic[:], randomBytes(4))
			phy := joinRequest(euiBytes(joinEUI), euiBytes(devEUI), binary.BigEndian.Uint16([]byte(randomBytes(2))), mic)
			tmst := binary.BigEndian.Uint32([]byte(randomBytes(4)))
			push := udpPacket(udpPushData, 0, s.gateway, rxpkJSON(freq, datr, tmst, phy))
			if err := udpExchange(ctx, s.t.GatewayUDPAddr, push, udpPushAck); err != nil {
				return "", fmt.Errorf("join-request uplink: %w", err)
			}
			attempts++
			next = time.Now().Add(joinRetry)
		}
		for _, r := range c.Server.Requests() {
			if r.Message.MessageType == "JoinReq" && strings.EqualFold(r.Message.DevEUI, wantDevEUI) {
				detail, err := s.joinReqMatches(r, f, wantSubject)
				if attempts > 1 {
					detail += fmt.Sprintf(" (join-request sent %d times)", attempts)
				}
				return detail, err
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no JoinReq for DevEUI %s at the stand-in %s within %s after %d join-requests (%d other requests)",
				wantDevEUI, c.Server.Addr(), s.t.Timeout, attempts, len(c.Server.Requests()))
		case <-tick.C:
		}
	}
}

// joinRetry is how long a join-request waits for its JoinReq at the stand-in
// before the device tries again.
const joinRetry = 5 * time.Second

// joinReqMatches compares a received JoinReq with the Join Server file.
func (s *scenario) joinReqMatches(r JoinServerRequest, f jsFile, wantSubject string) (string, error) {
	var problems []string
	wantPath := "/" + f.Paths.Join
	if r.Method != http.MethodPost || r.Path != wantPath {
		problems = append(problems, fmt.Sprintf("%s %s, want POST %s", r.Method, r.Path, wantPath))
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		problems = append(problems, fmt.Sprintf("Content-Type %q", ct))
	}
	for k, v := range f.Headers {
		if got := r.Header.Get(k); got != v {
			problems = append(problems, fmt.Sprintf("header %s is %d bytes, not the file's value", k, len(got)))
		}
	}
	if f.BasicAuth.Username != "" {
		if !r.BasicAuth || r.Username != f.BasicAuth.Username || r.Password != f.BasicAuth.Password {
			problems = append(problems, fmt.Sprintf("basic auth user %q (password matches: %v), want %q",
				r.Username, r.Password == f.BasicAuth.Password, f.BasicAuth.Username))
		}
	}
	if wantSubject != "" && r.ClientSubject != wantSubject {
		problems = append(problems, fmt.Sprintf("client certificate %q, want %q", r.ClientSubject, wantSubject))
	}
	wantVersion := map[string]string{"BI1.0": "1.0", "BI1.1": "1.1"}[f.Protocol]
	if r.Message.ProtocolVersion != wantVersion {
		problems = append(problems, fmt.Sprintf("ProtocolVersion %q, want %q", r.Message.ProtocolVersion, wantVersion))
	}
	if !strings.EqualFold(r.Message.SenderID, s.t.NetID) {
		problems = append(problems, fmt.Sprintf("SenderID %q, want NetID %q", r.Message.SenderID, s.t.NetID))
	}
	if f.SenderNSID != "" && !strings.EqualFold(r.Message.SenderNSID, f.SenderNSID) {
		problems = append(problems, fmt.Sprintf("SenderNSID %q, want %q", r.Message.SenderNSID, f.SenderNSID))
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; "))
	}
	detail := fmt.Sprintf("JoinReq %s %s, BI %s, SenderID %s", r.Method, r.Path, r.Message.ProtocolVersion, r.Message.SenderID)
	if r.Message.SenderNSID != "" {
		detail += ", SenderNSID " + r.Message.SenderNSID
	}
	if len(f.Headers) > 0 {
		detail += fmt.Sprintf(", %d header(s)", len(f.Headers))
	}
	if f.BasicAuth.Username != "" {
		detail += ", basic auth"
	}
	if wantSubject != "" {
		detail += ", client certificate " + r.ClientSubject
	}
	return detail, nil
}

// joinEUIFor picks a JoinEUI in case i's prefix that no more specific
// prefix of another case claims.
func (s *scenario) joinEUIFor(i int) (uint64, error) {
	prefix, bits, err := eui64Prefix(s.t.JoinServers[i].JoinEUIPrefix)
	if err != nil {
		return 0, err
	}
	for range 100 {
		eui := randomEUI()
		if bits > 0 {
			mask := ^uint64(0) << (64 - bits)
			eui = prefix&mask | eui&^mask
		}
		taken := false
		for j, o := range s.t.JoinServers {
			if j == i {
				continue
			}
			op, ob, err := eui64Prefix(o.JoinEUIPrefix)
			if err == nil && ob > bits && inPrefix(eui, op, ob) {
				taken = true
			}
		}
		if !taken {
			return eui, nil
		}
	}
	return 0, fmt.Errorf("no JoinEUI in %s outside the more specific prefixes", s.t.JoinServers[i].JoinEUIPrefix)
}

func certificateSubject(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return "", fmt.Errorf("%s holds no PEM block", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return cert.Subject.String(), nil
}

func (s *scenario) noSecretInLogs(context.Context) (string, error) {
	if s.t.Logs == nil {
		return "", errors.New("no logs to check")
	}
	lines := s.t.Logs()
	var leaks []string
	for _, l := range lines {
		for i, secret := range s.t.Secrets {
			if secret != "" && strings.Contains(l.Text, secret) {
				leaks = append(leaks, fmt.Sprintf("secret #%d in a line of %s", i, l.Process))
			}
		}
	}
	if len(leaks) > 0 {
		slices.Sort(leaks)
		return "", errors.New(strings.Join(slices.Compact(leaks), "; "))
	}
	return fmt.Sprintf("%d lines, %d secrets", len(lines), len(s.t.Secrets)), nil
}

func randomBytes(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return string(b)
}

// randomEUI is a random EUI-64 that is not all zero.
func randomEUI() uint64 {
	return binary.BigEndian.Uint64([]byte(randomBytes(8))) | 1
}

// deviceRepository lists the brands and the models of the rehearsal's brand
// as the Console does (its SDK sends /dr/ requests to the Identity Server's
// base URL, /api/v3), through the proxy to the Device Repository's service,
// which reads the index at the image's path.
func (s *scenario) deviceRepository(ctx context.Context) (string, error) {
	var brands struct {
		Brands []struct {
			BrandID string `json:"brand_id"`
			Name    string `json:"name"`
		} `json:"brands"`
	}
	if err := s.web.api(ctx, http.MethodGet, "/api/v3/dr/applications/"+s.app+"/brands?field_mask=name", s.token, nil, &brands); err != nil {
		return "", err
	}
	found := false
	for _, b := range brands.Brands {
		found = found || b.BrandID == s.t.DeviceBrand
	}
	if !found {
		return "", fmt.Errorf("GET /api/v3/dr/applications/%s/brands lists %+v, not the brand %s of the index", s.app, brands.Brands, s.t.DeviceBrand)
	}
	var models struct {
		Models []struct {
			ModelID string `json:"model_id"`
			Name    string `json:"name"`
		} `json:"models"`
	}
	if err := s.web.api(ctx, http.MethodGet, "/api/v3/dr/applications/"+s.app+"/brands/"+s.t.DeviceBrand+"/models?field_mask=name", s.token, nil, &models); err != nil {
		return "", err
	}
	if len(models.Models) == 0 {
		return "", fmt.Errorf("brand %s has no models", s.t.DeviceBrand)
	}
	return fmt.Sprintf("%d brand(s), %s has %s (%s)", len(brands.Brands), s.t.DeviceBrand, models.Models[0].ModelID, models.Models[0].Name), nil
}

// rateLimitBurst lists the Device Repository's brands in a burst with one
// token. The default profiles allow 60 calls per minute of one gRPC method
// for one entity and token (class grpc:method; the HTTP API is the gRPC
// gateway of the same method), counted in Redis. The burst must be refused
// with HTTP 429 and the rate limiting headers, after requests were let
// through.
func (s *scenario) rateLimitBurst(ctx context.Context) (string, error) {
	path := "/api/v3/dr/applications/" + s.app + "/brands?field_mask=name"
	h := http.Header{"Authorization": {"Bearer " + s.token}, "Accept": {"application/json"}}
	ok := 0
	for i := 0; i < 200; i++ {
		res, err := s.web.do(ctx, http.MethodGet, path, nil, h)
		if err != nil {
			return "", err
		}
		switch {
		case res.Status == http.StatusOK:
			ok++
		case res.Status == http.StatusTooManyRequests:
			if ok == 0 {
				return "", fmt.Errorf("the first request was already refused: %s", snippet(res.Body))
			}
			if res.Header.Get("X-Rate-Limit-Limit") == "" {
				return "", fmt.Errorf("HTTP 429 without X-Rate-Limit-Limit: %s", snippet(res.Body))
			}
			return fmt.Sprintf("GET %s: %d answered, request %d refused with HTTP 429 (X-Rate-Limit-Limit %s, X-Rate-Limit-Retry %s)",
				path, ok, i+1, res.Header.Get("X-Rate-Limit-Limit"), res.Header.Get("X-Rate-Limit-Retry")), nil
		default:
			return "", fmt.Errorf("request %d: HTTP %d: %s", i+1, res.Status, snippet(res.Body))
		}
	}
	return "", fmt.Errorf("200 requests of GET %s in a burst, none refused", path)
}

// passwordResetMail asks for a temporary password of the administrator, as
// the login page's "forgot password" does (no authentication), and waits
// for the Identity Server's mail at the SMTP stand-in, which accepts only
// the credentials of the deployment's secret, after STARTTLS.
func (s *scenario) passwordResetMail(ctx context.Context) (string, error) {
	if s.t.AdminUserID == "" || s.t.AdminEmail == "" {
		return "", errors.New("the bootstrap names no administrator user id and e-mail")
	}
	before := len(s.t.Mail.Messages())
	path := "/api/v3/users/" + s.t.AdminUserID + "/temporary_password"
	res, err := s.web.do(ctx, http.MethodPost, path, []byte("{}"), http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}})
	if err != nil {
		return "", err
	}
	if res.Status != http.StatusOK {
		return "", fmt.Errorf("POST %s: HTTP %d: %s", path, res.Status, snippet(res.Body))
	}
	for {
		for _, m := range s.t.Mail.Messages()[before:] {
			if !slices.Contains(m.To, s.t.AdminEmail) {
				continue
			}
			data := string(m.Data)
			switch {
			case m.From != s.t.MailSender:
				return "", fmt.Errorf("the mail is from %q, want the configured sender %q", m.From, s.t.MailSender)
			case m.TLSVersion < tls.VersionTLS12:
				return "", fmt.Errorf("the session used TLS version %#x", m.TLSVersion)
			case !strings.Contains(data, "temporary password"):
				return "", fmt.Errorf("the mail is not the temporary password mail: %s", snippet(m.Data))
			}
			// The Identity Server also logs the temporary password (at
			// INFO, in the field temporary_password): the check of the logs
			// that follows must find it masked.
			pw, err := temporaryPassword(m.Data)
			if err != nil {
				return "", err
			}
			s.t.Secrets = append(s.t.Secrets, pw)
			return fmt.Sprintf("POST %s → 200; mail to %s from %s accepted after STARTTLS (%s) and AUTH %s with the credentials of the secret",
				path, s.t.AdminEmail, m.From, tls.VersionName(m.TLSVersion), m.Mechanism), nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("POST %s → 200, but no mail to %s reached the stand-in (refused sessions: %v)", path, s.t.AdminEmail, s.t.Mail.Refused())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// temporaryPassword reads the temporary password out of the Identity
// Server's mail (its text part says: use the temporary password "..."
// directly), decoding the MIME parts and their transfer encoding.
func temporaryPassword(raw []byte) (string, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", fmt.Errorf("the temporary password mail does not parse: %w", err)
	}
	var texts []string
	var walk func(header textproto.MIMEHeader, body io.Reader) error
	walk = func(header textproto.MIMEHeader, body io.Reader) error {
		media, params, err := mime.ParseMediaType(header.Get("Content-Type"))
		if err != nil {
			media = "text/plain"
		}
		if strings.HasPrefix(media, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				part, err := mr.NextPart()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				if err := walk(part.Header, part); err != nil {
					return err
				}
			}
		}
		if strings.EqualFold(header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		text, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		texts = append(texts, string(text))
		return nil
	}
	if err := walk(textproto.MIMEHeader(msg.Header), msg.Body); err != nil {
		return "", fmt.Errorf("the temporary password mail does not parse: %w", err)
	}
	re := regexp.MustCompile(`temporary password "([^"]+)"`)
	for _, t := range texts {
		if m := re.FindStringSubmatch(t); m != nil {
			return m[1], nil
		}
	}
	return "", errors.New(`the temporary password mail does not say: the temporary password "..."`)
}
