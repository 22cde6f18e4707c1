package rehearse

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// StubAgentMarker is what the shared build's Packet Broker Agent says when
// it stops: its package is a stub (../shared/tts/README.md). It says so in
// packetbrokeragent.New, after the binary loaded and parsed its whole
// configuration (environment, Parameter Store values, secrets) and set up
// the component.
const StubAgentMarker = "packetbrokeragent: not built in this rig"

// stubAgent handles an agent that stopped at the stub: it records what was
// proven, and puts a recording stand-in on the agent's ports, so that the
// proxy's routes to it can be checked.
func (r *run) stubAgent(s *service, c container) {
	s.stub = true
	r.result(s.name+": configuration loaded (stub agent)", true,
		"ttn-lw-stack loaded and parsed the task's configuration and reached the Packet Broker Agent's set-up, where the shared build's stub stops (%q); "+
			"nothing of the agent itself ran", StubAgentMarker)
	st := &stubListener{}
	var started []string
	for _, pm := range c.PortMappings {
		addr := net.JoinHostPort(s.addr, fmt.Sprint(pm.ContainerPort))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			r.result(s.name+": stand-in listens", false, "%v", err)
			continue
		}
		port := fmt.Sprint(pm.ContainerPort)
		srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Protocols: new(http.Protocols), Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			st.record(port, req.Method+" "+req.URL.Path)
			w.Header().Set("Content-Type", "application/json")
			if strings.HasPrefix(req.Header.Get("Content-Type"), "application/grpc") {
				w.Header().Set("Content-Type", "application/grpc")
				if strings.HasPrefix(req.URL.Path, "/ttn.lorawan.v3.GsPba/") || strings.HasPrefix(req.URL.Path, "/ttn.lorawan.v3.NsPba/") {
					// The cluster's calls (the Gateway Server's Packet
					// Broker upstream, the Network Server's downlinks):
					// accepted with an empty answer (google.protobuf.Empty).
					_, _ = io.Copy(io.Discard, req.Body)
					w.WriteHeader(http.StatusOK)
					_, _ = w.Write([]byte{0, 0, 0, 0, 0})
					w.Header().Set(http.TrailerPrefix+"Grpc-Status", "0")
					return
				}
				w.Header().Set("Grpc-Status", "12")
				w.Header().Set("Grpc-Message", "rehearsal stand-in of the Packet Broker Agent")
				return
			}
			w.WriteHeader(http.StatusTeapot)
			_, _ = w.Write([]byte(`{"message":"rehearsal stand-in of the Packet Broker Agent"}`))
		})}
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
		go func() { _ = srv.Serve(ln) }()
		r.mu.Lock()
		r.stubServers = append(r.stubServers, srv)
		r.mu.Unlock()
		started = append(started, addr)
	}
	r.mu.Lock()
	r.stubAgents = st
	r.mu.Unlock()
	r.sub("%s: the shared build's Packet Broker Agent is a stub that exits at set-up → a stand-in on %s that records each request and accepts the cluster's GsPba and NsPba calls with an empty answer (proves that the proxy's routes and the other components reach the agent's address, nothing more)",
		s.name, strings.Join(started, ", "))
}

// stubListener records the requests a stand-in received.
type stubListener struct {
	mu   sync.Mutex
	seen []string
}

func (l *stubListener) record(port, what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, port+" "+what)
}

// Requests returns "port METHOD path" of every request so far.
func (l *stubListener) Requests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen...)
}
