package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/ssoflow/ssoflow/internal/httpapi"
	"github.com/ssoflow/ssoflow/internal/ingest"
	"github.com/ssoflow/ssoflow/internal/metrics"
	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/internal/tasks"
	"github.com/ssoflow/ssoflow/internal/testutil"
	"github.com/ssoflow/ssoflow/pkg/flows"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// bundle is the API on miniredis, built as internal/app builds it.
type bundle struct {
	ctx    context.Context
	mr     *miniredis.Miniredis
	rdb    *redis.Client
	events *store.Events
	execs  *store.Executions
	insp   *asynq.Inspector
	api    *httpapi.Server
}

func setup(t *testing.T, cfg httpapi.Config) *bundle {
	t.Helper()
	b := &bundle{ctx: t.Context(), mr: miniredis.RunT(t)}
	// No retries: a test that stops Redis wants the 503 at once.
	b.rdb = redis.NewClient(&redis.Options{Addr: b.mr.Addr(), MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = b.rdb.Close() })
	b.events = store.NewEvents(b.rdb, "", time.Hour)
	b.execs = store.NewExecutions(b.rdb, "")
	b.insp = asynq.NewInspectorFromRedisClient(b.rdb)
	queue := asynq.NewClientFromRedisClient(b.rdb)
	reg := prometheus.NewRegistry()
	now := func() time.Time { return t0 }
	b.api = httpapi.New(cfg, httpapi.Deps{
		Ingester:   ingest.New(b.events, queue, now, zerolog.Nop()),
		Events:     b.events,
		Executions: b.execs,
		Registry:   flows.MockRegistry(),
		Ready:      func(ctx context.Context) error { return b.rdb.Ping(ctx).Err() },
		Metrics:    metrics.New(reg),
		Gatherer:   reg,
		Log:        zerolog.Nop(),
	})
	return b
}

// response is an answer of the API.
type response struct {
	code   int
	header http.Header
	raw    string
	body   map[string]any
}

func (b *bundle) do(t *testing.T, method, path, body string, header map[string]string) response {
	t.Helper()
	req := httptest.NewRequestWithContext(b.ctx, method, path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	b.api.ServeHTTP(rec, req)
	r := response{code: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &r.body); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, rec.Body.String())
		}
	}
	return r
}

// isError checks an error answer: the status, a JSON body with an error
// message, and Retry-After when the status asks for a retry.
func (r response) isError(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Errorf("status %d, want %d; body %s", r.code, code, r.raw)
	}
	if msg, _ := r.body["error"].(string); msg == "" {
		t.Errorf("error answer without a JSON error message: %s", r.raw)
	}
	if code == http.StatusServiceUnavailable && r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}

// logEvent is an Okta LogEvent about a user; an empty uuid makes it invalid.
func logEvent(uuid, eventType, user string) string {
	return fmt.Sprintf(`{"uuid":%q,"published":"2026-03-01T08:59:00.000Z","eventType":%q,"severity":"INFO",`+
		`"actor":{"id":"00uadmin","type":"User","alternateId":"admin@acme.test"},`+
		`"outcome":{"result":"SUCCESS"},`+
		`"target":[{"id":%q,"type":"User","alternateId":"%s@acme.test"}]}`, uuid, eventType, user, user)
}

// delivery is an Okta event hook delivery, one event a line: event i
// (1-based) is on line i+1.
func delivery(evs ...string) string {
	return `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1",` +
		`"eventId":"delivery-1","contentType":"application/json","data":{"events":[` + "\n" +
		strings.Join(evs, ",\n") + "\n]}}"
}

// ssoEvents is NDJSON of SSOEvents.
func ssoEvents(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func ssoEvent(id, typ, user string) string {
	return fmt.Sprintf(`{"event_id":%q,"event_type":%q,"user_id":%q,"timestamp":"2026-03-01T08:59:00Z"}`, id, typ, user)
}

// queued returns the ids of the pending event:process tasks.
func (b *bundle) queued(t *testing.T) []string {
	t.Helper()
	return testutil.PendingTaskIDs(t, b.insp, tasks.QueueEvents, tasks.TypeEventProcess)
}

// rawRequest sends a request over a real connection with header names
// written exactly as given (not canonicalised).
func rawRequest(t *testing.T, srv *httptest.Server, method, path string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = []string{v}
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}
