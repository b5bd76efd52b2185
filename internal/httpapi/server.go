// Package httpapi serves ssoflow's HTTP API: the Okta event hook, the event
// and execution API, health and metrics. Its contract is docs/api.md.
package httpapi

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/ssoflow/ssoflow/internal/ingest"
	"github.com/ssoflow/ssoflow/internal/metrics"
	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/pkg/flows"
)

// Defaults of Config.
const (
	DefaultMaxBodyBytes   = 10 << 20
	DefaultHookTimeout    = 2500 * time.Millisecond
	DefaultRequestTimeout = 30 * time.Second
)

// Config configures the API.
type Config struct {
	// HookSecret, when set, is the exact Authorization header value Okta
	// must send to the event hook (SSOFLOW_HOOK_SECRET). Empty: no check.
	HookSecret string
	// APIToken, when set, is the bearer token the /v1 API other than the
	// hook requires (SSOFLOW_API_TOKEN). Empty: no check.
	APIToken string
	// MaxBodyBytes bounds a request body; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// HookTimeout bounds the handling of an event hook delivery (default
	// 2.5 s): Okta gives up after 3 s, and must get its 503 before then to
	// retry.
	HookTimeout time.Duration
	// RequestTimeout bounds every other request (default 30 s).
	RequestTimeout time.Duration
}

// Deps are what the API serves from.
type Deps struct {
	Ingester   *ingest.Ingester
	Events     *store.Events
	Executions *store.Executions
	Registry   *flows.Registry
	// Ready reports whether the service can do its work (Redis reachable).
	Ready    func(context.Context) error
	Metrics  *metrics.Metrics
	Gatherer prometheus.Gatherer
	Log      zerolog.Logger
}

// Server is the API's http.Handler.
type Server struct {
	cfg  Config
	deps Deps
	mux  *http.ServeMux
}

// New builds the API.
func New(cfg Config, deps Deps) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.HookTimeout <= 0 {
		cfg.HookTimeout = DefaultHookTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	s := &Server{cfg: cfg, deps: deps, mux: http.NewServeMux()}
	s.routes()
	return s
}

func (s *Server) routes() {
	admin := s.requireToken
	s.handle("GET /v1/hooks/okta", s.requireHookSecret(s.verifyHook))
	s.handle("POST /v1/hooks/okta", s.requireHookSecret(withTimeout(s.cfg.HookTimeout, s.receiveHook)))
	s.handle("POST /v1/events", admin(s.postEvents))
	s.handle("GET /v1/events", admin(s.listEvents))
	s.handle("GET /v1/events/{id}", admin(s.getEvent))
	s.handle("GET /v1/executions", admin(s.listExecutions))
	s.handle("GET /v1/executions/{id}", admin(s.getExecution))
	s.handle("GET /v1/flows", admin(s.listFlows))
	s.handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.handle("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.deps.Gatherer, promhttp.HandlerOpts{}))
}

// methods are those the API routes use, for 405 answers.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete}

// handle registers a route with panic recovery, request metrics and logs.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	_, route, _ := strings.Cut(pattern, " ")
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				s.deps.Log.Error().Interface("panic", v).Str("route", route).Msg("handler panicked")
				writeError(rec, http.StatusInternalServerError, "internal error", nil)
			}
			s.deps.Metrics.HTTPRequests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
			lvl := zerolog.DebugLevel
			if rec.status >= 500 {
				lvl = zerolog.WarnLevel
			}
			s.deps.Log.WithLevel(lvl).Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.status).
				Float64("took_ms", float64(time.Since(start).Microseconds())/1000).Msg("request")
		}()
		r.Body = http.MaxBytesReader(rec, r.Body, s.cfg.MaxBodyBytes)
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		h(rec, r.WithContext(ctx))
	})
}

// withTimeout bounds a handler's context more tightly than RequestTimeout.
func withTimeout(d time.Duration, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h(w, r.WithContext(ctx))
	}
}

// ServeHTTP implements http.Handler. A path the API does not have is a 404,
// a method it does not take there a 405 naming the ones it does, both JSON.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	var allowed []string
	for _, m := range methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) == 0 {
		writeError(w, http.StatusNotFound, "no such endpoint", r.Method+" "+r.URL.Path)
		return
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s does not take %s", r.URL.Path, r.Method), map[string]any{"allowed": allowed})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// secretsEqual compares in constant time, whatever the lengths.
func secretsEqual(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

func (s *Server) requireHookSecret(h http.HandlerFunc) http.HandlerFunc {
	if s.cfg.HookSecret == "" {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if !secretsEqual(r.Header.Get("Authorization"), s.cfg.HookSecret) {
			writeError(w, http.StatusUnauthorized, "the Authorization header does not match the event hook's secret", nil)
			return
		}
		h(w, r)
	}
}

func (s *Server) requireToken(h http.HandlerFunc) http.HandlerFunc {
	if s.cfg.APIToken == "" {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || !secretsEqual(strings.TrimSpace(token), s.cfg.APIToken) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ssoflow"`)
			writeError(w, http.StatusUnauthorized, "a valid bearer token is required", nil)
			return
		}
		h(w, r)
	}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	// Under a second, so that a probe with the usual 1 s timeout gets the
	// answer rather than a timeout.
	ctx, cancel := context.WithTimeout(r.Context(), 900*time.Millisecond)
	defer cancel()
	if err := s.deps.Ready(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "not ready: Redis is unreachable", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// errorBody is every error response.
type errorBody struct {
	Error  string `json:"error"`
	Detail any    `json:"detail,omitempty"`
}

func writeError(w http.ResponseWriter, status int, msg string, detail any) {
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, errorBody{Error: msg, Detail: detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// readBody reads a request body, gzip-compressed or not, answering 413,
// 415 or 400 itself when it cannot.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	var src io.Reader = r.Body
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			writeError(w, http.StatusBadRequest, "the body is not gzip data", err.Error())
			return nil, false
		}
		defer gz.Close()
		// Bound what it inflates to, as well as what arrives.
		src = http.MaxBytesReader(w, io.NopCloser(gz), s.cfg.MaxBodyBytes)
	default:
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %q is not supported: send the body plain or gzip", enc), nil)
		return nil, false
	}
	body, err := io.ReadAll(src)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit), nil)
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "could not read the request body", err.Error())
		return nil, false
	}
	return body, true
}

// queryLimit parses the limit parameter.
func queryLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("limit must be a positive integer, got %q", v)
	}
	return n, nil
}
