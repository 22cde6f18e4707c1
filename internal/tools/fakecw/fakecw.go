// Package fakecw is a minimal in-memory stand-in for CloudWatch PutMetricData,
// for tests. aws-sdk-go-v2 service/cloudwatch v1.75 sends the Smithy RPC v2
// CBOR protocol (POST /service/GraniteServiceVersion20100801/operation/
// PutMetricData, Content-Type application/cbor), which is what this fake
// accepts. Other operations answer an UnknownOperation error.
package fakecw

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

const maxBody = 1 << 20

// Datum is one received metric value.
type Datum struct {
	Namespace  string
	MetricName string
	Dimensions map[string]string
	Value      float64
	Unit       string
	Timestamp  time.Time
}

// Server records PutMetricData calls. Create it with New.
type Server struct {
	mu    sync.Mutex
	data  []Datum
	fault int // HTTP status to answer instead, 0 for none
}

// New returns an empty fake.
func New() *Server { return &Server{} }

// Data returns a copy of all received data.
func (s *Server) Data() []Datum {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Datum(nil), s.data...)
}

// Find returns the received values of one metric name, oldest first.
func (s *Server) Find(name string) []Datum {
	var out []Datum
	for _, d := range s.Data() {
		if d.MetricName == name {
			out = append(out, d)
		}
	}
	return out
}

// SetFault makes every request fail with the given HTTP status (0 to stop).
func (s *Server) SetFault(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = status
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	fault := s.fault
	s.mu.Unlock()
	if fault != 0 {
		writeErr(w, fault, "InternalServiceError", "injected fault")
		return
	}
	op := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/service/") || op != "PutMetricData" {
		writeErr(w, http.StatusBadRequest, "UnknownOperationException", "fakecw supports only rpc-v2-cbor PutMetricData, got "+r.Method+" "+r.URL.Path)
		return
	}
	var body io.Reader = io.LimitReader(r.Body, maxBody)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "SerializationException", "bad gzip body")
			return
		}
		body = io.LimitReader(zr, maxBody)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "SerializationException", "unreadable body")
		return
	}
	data, err := decodePut(raw)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "InvalidParameterValueException", err.Error())
		return
	}
	s.mu.Lock()
	s.data = append(s.data, data...)
	s.mu.Unlock()
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	_, _ = w.Write(cbor.Encode(cbor.Map{}))
}

func writeErr(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.WriteHeader(status)
	_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(typ), "message": cbor.String(msg)}))
}

func decodePut(raw []byte) ([]Datum, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("empty body")
	}
	v, err := cbor.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("decode CBOR: %v", err)
	}
	m, ok := v.(cbor.Map)
	if !ok {
		return nil, fmt.Errorf("body is %T, want a map", v)
	}
	ns, _ := m["Namespace"].(cbor.String)
	if ns == "" {
		return nil, fmt.Errorf("Namespace is required")
	}
	list, _ := m["MetricData"].(cbor.List)
	if len(list) == 0 {
		return nil, fmt.Errorf("MetricData is required")
	}
	var out []Datum
	for _, it := range list {
		dm, ok := it.(cbor.Map)
		if !ok {
			return nil, fmt.Errorf("MetricData member is %T", it)
		}
		d := Datum{Namespace: string(ns), Dimensions: map[string]string{}}
		name, _ := dm["MetricName"].(cbor.String)
		if name == "" {
			return nil, fmt.Errorf("MetricName is required")
		}
		d.MetricName = string(name)
		if u, ok := dm["Unit"].(cbor.String); ok {
			d.Unit = string(u)
		}
		if val, ok := dm["Value"]; ok {
			f, err := cbor.AsFloat64(val)
			if err != nil {
				return nil, fmt.Errorf("Value: %v", err)
			}
			d.Value = f
		}
		if ts, ok := dm["Timestamp"]; ok {
			t, err := cbor.AsTime(ts)
			if err != nil {
				return nil, fmt.Errorf("Timestamp: %v", err)
			}
			d.Timestamp = t
		}
		dims, _ := dm["Dimensions"].(cbor.List)
		for _, di := range dims {
			dd, _ := di.(cbor.Map)
			k, _ := dd["Name"].(cbor.String)
			val, _ := dd["Value"].(cbor.String)
			d.Dimensions[string(k)] = string(val)
		}
		out = append(out, d)
	}
	return out, nil
}
