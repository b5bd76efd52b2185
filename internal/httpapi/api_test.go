package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssoflow/ssoflow/internal/httpapi"
	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/pkg/flows"
)

const hookSecret = "hook-secret"

func TestHookVerification(t *testing.T) {
	b := setup(t, httpapi.Config{HookSecret: hookSecret})
	auth := map[string]string{"Authorization": hookSecret}

	r := b.do(t, "GET", "/v1/hooks/okta", "", map[string]string{"Authorization": hookSecret, "X-Okta-Verification-Challenge": "chal-123"})
	if diff := cmp.Diff(map[string]any{"verification": "chal-123"}, r.body); r.code != http.StatusOK || diff != "" {
		t.Errorf("verification: %d, body (-want +got):\n%s", r.code, diff)
	}
	b.do(t, "GET", "/v1/hooks/okta", "", map[string]string{"X-Okta-Verification-Challenge": "chal-123"}).isError(t, http.StatusUnauthorized)
	b.do(t, "GET", "/v1/hooks/okta", "", map[string]string{"Authorization": "nope", "X-Okta-Verification-Challenge": "chal-123"}).isError(t, http.StatusUnauthorized)
	b.do(t, "GET", "/v1/hooks/okta", "", auth).isError(t, http.StatusBadRequest) // no challenge

	// Header names are case-insensitive on the wire.
	srv := httptest.NewServer(b.api)
	t.Cleanup(srv.Close)
	code, raw := rawRequest(t, srv, "GET", "/v1/hooks/okta", map[string]string{
		"authorization":                 hookSecret,
		"x-okta-verification-challenge": "lower-case",
	})
	if code != http.StatusOK || strings.TrimSpace(raw) != `{"verification":"lower-case"}` {
		t.Errorf("lower-case header names: %d %s", code, raw)
	}
}

func TestHookWithoutSecretConfigured(t *testing.T) {
	b := setup(t, httpapi.Config{})
	r := b.do(t, "GET", "/v1/hooks/okta", "", map[string]string{"X-Okta-Verification-Challenge": "c"})
	if r.code != http.StatusOK || r.body["verification"] != "c" {
		t.Errorf("verification with no secret set: %d %s", r.code, r.raw)
	}
	r = b.do(t, "POST", "/v1/hooks/okta", delivery(logEvent("e1", "user.lifecycle.create", "u1")), nil)
	if r.code != http.StatusOK || r.body["accepted"] != 1.0 {
		t.Errorf("delivery with no secret set: %d %s", r.code, r.raw)
	}
}

func TestHookSecretRequired(t *testing.T) {
	b := setup(t, httpapi.Config{HookSecret: hookSecret})
	body := delivery(logEvent("e1", "user.lifecycle.create", "u1"))
	for name, header := range map[string]map[string]string{
		"missing":     nil,
		"wrong":       {"Authorization": "hook-secreT"},
		"prefix":      {"Authorization": "hook-secret-and-more"},
		"as a bearer": {"Authorization": "Bearer " + hookSecret},
	} {
		t.Run(name, func(t *testing.T) {
			b.do(t, "POST", "/v1/hooks/okta", body, header).isError(t, http.StatusUnauthorized)
		})
	}
	if _, err := b.events.Get(b.ctx, "e1"); !errors.Is(err, store.ErrEventNotFound) {
		t.Errorf("an unauthorised delivery was stored: %v", err)
	}
	if q := b.queued(t); len(q) != 0 {
		t.Errorf("an unauthorised delivery was queued: %v", q)
	}
}

func TestMalformedJSON(t *testing.T) {
	truncated := "{\n  \"data\": {\n    \"events\": [\n      {\"uuid\": \"a\""
	cutLine := "{\"event_id\": \"a\", \"event_type\": \"user.lifecycle.create\"}\n" +
		"{\"event_id\": \"b\", \"event_type\": \n" +
		"{\"event_id\": \"c\", \"event_type\": \"user.lifecycle.create\"}\n"
	for _, tc := range []struct {
		path, body string
		line, col  float64
		valueLine  float64 // where the broken value starts, when not on line
	}{
		// The end of the input: just past the last byte of line 4.
		{"/v1/hooks/okta", truncated, 4, 19, 0},
		{"/v1/events", truncated, 4, 19, 0},
		{"/v1/events", "{\"event_id\": \"a\",\n \"event_type\": }", 2, 16, 0},
		// NDJSON with line 2 cut short: the parser only notices at the end,
		// the answer names line 2 as the one to fix.
		{"/v1/events", cutLine, 4, 1, 2},
	} {
		t.Run(tc.path, func(t *testing.T) {
			b := setup(t, httpapi.Config{HookSecret: hookSecret})
			r := b.do(t, "POST", tc.path, tc.body, map[string]string{"Authorization": hookSecret})
			r.isError(t, http.StatusBadRequest)
			msg, _ := r.body["error"].(string)
			if want := "line " + ftoa(tc.line) + ", column " + ftoa(tc.col); !strings.Contains(msg, want) {
				t.Errorf("error %q does not say %q", msg, want)
			}
			wantDetail := map[string]any{"line": tc.line, "column": tc.col, "offset": offsetOf(tc.body, int(tc.line), int(tc.col))}
			if tc.valueLine != 0 {
				wantDetail["value_line"] = tc.valueLine
				if want := "starts on line " + ftoa(tc.valueLine); !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if diff := cmp.Diff(wantDetail, r.body["detail"]); diff != "" {
				t.Errorf("detail (-want +got):\n%s", diff)
			}
		})
	}
}

func ftoa(f float64) string { return strconv.Itoa(int(f)) }

// offsetOf returns the byte offset of a 1-based line and column.
func offsetOf(s string, line, col int) float64 {
	off := 0
	for range line - 1 {
		off += strings.IndexByte(s[off:], '\n') + 1
	}
	return float64(off + col - 1)
}

func TestBodyTooLarge(t *testing.T) {
	b := setup(t, httpapi.Config{MaxBodyBytes: 1024})
	var evs []string
	for len(strings.Join(evs, ",")) <= 1024 {
		evs = append(evs, logEvent("e"+strings.Repeat("x", len(evs)), "user.lifecycle.create", "u1"))
	}
	for _, path := range []string{"/v1/hooks/okta", "/v1/events"} {
		r := b.do(t, "POST", path, delivery(evs...), nil)
		r.isError(t, http.StatusRequestEntityTooLarge)
		if msg, _ := r.body["error"].(string); !strings.Contains(msg, "1024") {
			t.Errorf("%s: error %q does not give the limit", path, msg)
		}
	}
	if q := b.queued(t); len(q) != 0 {
		t.Errorf("queued %v from bodies that were too large", q)
	}
	// At the limit is fine.
	small := delivery(logEvent("e1", "user.lifecycle.create", "u1"))
	if r := b.do(t, "POST", "/v1/hooks/okta", small, nil); r.code != http.StatusOK {
		t.Errorf("small delivery: %d %s", r.code, r.raw)
	}
}

func TestHookDeliveryWithInvalidEvent(t *testing.T) {
	b := setup(t, httpapi.Config{HookSecret: hookSecret})
	body := delivery(
		logEvent("e1", "user.lifecycle.create", "u1"),
		logEvent("", "user.lifecycle.create", "u2"), // no uuid
		logEvent("e3", "user.lifecycle.deactivate", "u3"),
	)
	r := b.do(t, "POST", "/v1/hooks/okta", body, map[string]string{"Authorization": hookSecret})
	want := map[string]any{
		"accepted":   2.0,
		"duplicates": 0.0,
		"rejected":   []any{map[string]any{"index": 2.0, "line": 3.0, "error": "uuid is required"}},
	}
	if diff := cmp.Diff(want, r.body); r.code != http.StatusOK || diff != "" {
		t.Errorf("status %d, body (-want +got):\n%s", r.code, diff)
	}
	if diff := cmp.Diff([]string{"event:e1", "event:e3"}, b.queued(t)); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}
	// Okta redelivers: the good events are duplicates now.
	r = b.do(t, "POST", "/v1/hooks/okta", body, map[string]string{"Authorization": hookSecret})
	if r.code != http.StatusOK || r.body["accepted"] != 0.0 || r.body["duplicates"] != 2.0 {
		t.Errorf("redelivery: %d %s", r.code, r.raw)
	}
}

func TestPostEvents(t *testing.T) {
	b := setup(t, httpapi.Config{})
	good := ssoEvents(
		ssoEvent("a", "user.lifecycle.create", "u1"),
		ssoEvent("b", "USER_DEACTIVATED", "u2"),
	)
	r := b.do(t, "POST", "/v1/events", good, nil)
	if diff := cmp.Diff(map[string]any{"accepted": 2.0, "duplicates": 0.0}, r.body); r.code != http.StatusAccepted || diff != "" {
		t.Errorf("status %d, body (-want +got):\n%s", r.code, diff)
	}
	r = b.do(t, "POST", "/v1/events", good, nil)
	if diff := cmp.Diff(map[string]any{"accepted": 0.0, "duplicates": 2.0}, r.body); r.code != http.StatusAccepted || diff != "" {
		t.Errorf("again: status %d, body (-want +got):\n%s", r.code, diff)
	}
	rec, err := b.events.Get(b.ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Event.EventType != "user.lifecycle.deactivate" || rec.Event.UserID != "u2" {
		t.Errorf("stored event b: %+v, want the Okta type behind USER_DEACTIVATED", rec.Event)
	}

	// A JSON array works as well.
	r = b.do(t, "POST", "/v1/events", "["+ssoEvent("c", "user.session.start", "u3")+"]", nil)
	if r.code != http.StatusAccepted || r.body["accepted"] != 1.0 {
		t.Errorf("array: %d %s", r.code, r.raw)
	}

	// The event list shows them, newest first by their time.
	r = b.do(t, "GET", "/v1/events?user_id=u2", "", nil)
	list, _ := r.body["events"].([]any)
	if r.code != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["event_id"] != "b" || list[0].(map[string]any)["state"] != "received" {
		t.Errorf("GET /v1/events?user_id=u2: %d %s", r.code, r.raw)
	}
	b.do(t, "GET", "/v1/events?limit=none", "", nil).isError(t, http.StatusBadRequest)

	r = b.do(t, "GET", "/metrics", "", nil)
	if !strings.Contains(r.raw, `ssoflow_events_total{result="accepted",source="api"} 3`) ||
		!strings.Contains(r.raw, `ssoflow_events_total{result="duplicate",source="api"} 2`) {
		t.Errorf("metrics do not count the events:\n%s", grepLines(r.raw, "ssoflow_events_total"))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestPostEventsWithInvalidEvent(t *testing.T) {
	b := setup(t, httpapi.Config{})
	body := ssoEvents(
		ssoEvent("a", "user.lifecycle.create", "u1"),
		`{"event_type":"user.lifecycle.create","user_id":"u2"}`,
		ssoEvent("c", "user.lifecycle.create", "u3"),
	)
	r := b.do(t, "POST", "/v1/events", body, nil)
	r.isError(t, http.StatusBadRequest)
	want := []any{map[string]any{"index": 2.0, "line": 2.0, "error": "event_id is required"}}
	if diff := cmp.Diff(want, r.body["detail"]); diff != "" {
		t.Errorf("detail (-want +got):\n%s", diff)
	}
	if msg := r.body["error"]; msg != "1 of 3 events are invalid; none were accepted" {
		t.Errorf("error %q", msg)
	}
	for _, id := range []string{"a", "c"} {
		if _, err := b.events.Get(b.ctx, id); !errors.Is(err, store.ErrEventNotFound) {
			t.Errorf("event %s of a refused body was stored: %v", id, err)
		}
	}
	if q := b.queued(t); len(q) != 0 {
		t.Errorf("events of a refused body were queued: %v", q)
	}
	b.do(t, "POST", "/v1/events", "", nil).isError(t, http.StatusBadRequest)
}

func TestAPIToken(t *testing.T) {
	b := setup(t, httpapi.Config{APIToken: "tok-123", HookSecret: hookSecret})
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong token", map[string]string{"Authorization": "Bearer tok-124"}, http.StatusUnauthorized},
		{"no scheme", map[string]string{"Authorization": "tok-123"}, http.StatusUnauthorized},
		{"empty bearer", map[string]string{"Authorization": "Bearer "}, http.StatusUnauthorized},
		{"right token", map[string]string{"Authorization": "Bearer tok-123"}, http.StatusOK},
		{"scheme in any case", map[string]string{"Authorization": "bearer tok-123"}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/v1/flows", "/v1/executions", "/v1/events"} {
				r := b.do(t, "GET", path, "", tc.header)
				if tc.want != http.StatusOK {
					r.isError(t, tc.want)
					if r.header.Get("WWW-Authenticate") == "" {
						t.Errorf("%s: 401 without WWW-Authenticate", path)
					}
				} else if r.code != tc.want {
					t.Errorf("%s: %d %s, want %d", path, r.code, r.raw, tc.want)
				}
			}
		})
	}
	// POST /v1/events needs the token too.
	b.do(t, "POST", "/v1/events", ssoEvent("a", "user.lifecycle.create", "u1"), nil).isError(t, http.StatusUnauthorized)

	// The hook answers to its secret, not to the token.
	r := b.do(t, "POST", "/v1/hooks/okta", delivery(logEvent("e1", "user.lifecycle.create", "u1")), map[string]string{"Authorization": hookSecret})
	if r.code != http.StatusOK || r.body["accepted"] != 1.0 {
		t.Errorf("hook with its secret and no token: %d %s", r.code, r.raw)
	}
	// Health and readiness are open.
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := b.do(t, "GET", path, "", nil); r.code != http.StatusOK {
			t.Errorf("%s without a token: %d", path, r.code)
		}
	}
}

func TestRedisDown(t *testing.T) {
	b := setup(t, httpapi.Config{})
	if r := b.do(t, "GET", "/readyz", "", nil); r.code != http.StatusOK || r.body["status"] != "ready" {
		t.Fatalf("readyz with Redis up: %d %s", r.code, r.raw)
	}
	b.mr.Close()

	b.do(t, "POST", "/v1/events", ssoEvent("a", "user.lifecycle.create", "u1"), nil).isError(t, http.StatusServiceUnavailable)
	b.do(t, "POST", "/v1/hooks/okta", delivery(logEvent("e1", "user.lifecycle.create", "u1")), nil).isError(t, http.StatusServiceUnavailable)
	b.do(t, "GET", "/readyz", "", nil).isError(t, http.StatusServiceUnavailable)
	b.do(t, "GET", "/v1/executions", "", nil).isError(t, http.StatusServiceUnavailable)
	b.do(t, "GET", "/v1/events", "", nil).isError(t, http.StatusServiceUnavailable)
	if r := b.do(t, "GET", "/healthz", "", nil); r.code != http.StatusOK {
		t.Errorf("healthz with Redis down: %d, want 200 (the process lives)", r.code)
	}
}

func TestListExecutions(t *testing.T) {
	b := setup(t, httpapi.Config{})
	for i, e := range []*flows.ExecutionResult{
		{ExecutionID: "ex1", FlowID: flows.FlowOffboarding, Status: flows.StatusSuccess},
		{ExecutionID: "ex2", FlowID: flows.FlowOffboarding, Status: flows.StatusPending},
		{ExecutionID: "ex3", FlowID: flows.FlowMFARemediation, Status: flows.StatusSuccess},
	} {
		e.CreatedAt = t0.Add(time.Duration(i) * time.Second)
		if _, err := b.execs.Create(b.ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"ex3", "ex2", "ex1"}},
		{"?status=success", []string{"ex3", "ex1"}},
		{"?flow_id=flow_offboarding&status=success", []string{"ex1"}},
		{"?flow_id=flow_offboarding&limit=1", []string{"ex2"}},
		{"?status=cancelled", []string{}},
	} {
		r := b.do(t, "GET", "/v1/executions"+tc.query, "", nil)
		var got []string
		list, ok := r.body["executions"].([]any)
		if !ok {
			t.Errorf("GET /v1/executions%s: no executions array: %s", tc.query, r.raw)
		}
		got = []string{}
		for _, x := range list {
			got = append(got, x.(map[string]any)["execution_id"].(string))
		}
		if diff := cmp.Diff(tc.want, got); r.code != http.StatusOK || diff != "" {
			t.Errorf("GET /v1/executions%s: %d (-want +got):\n%s", tc.query, r.code, diff)
		}
	}
	for _, q := range []string{"?status=done", "?status=SUCCESS", "?limit=0", "?limit=-3", "?limit=ten", "?limit=1.5"} {
		b.do(t, "GET", "/v1/executions"+q, "", nil).isError(t, http.StatusBadRequest)
	}

	r := b.do(t, "GET", "/v1/executions/ex2", "", nil)
	if r.code != http.StatusOK || r.body["execution_id"] != "ex2" || r.body["status"] != "pending" {
		t.Errorf("GET /v1/executions/ex2: %d %s", r.code, r.raw)
	}
	b.do(t, "GET", "/v1/executions/nope", "", nil).isError(t, http.StatusNotFound)
}

func TestUnknownRoute(t *testing.T) {
	b := setup(t, httpapi.Config{})
	for _, path := range []string{"/v2/events", "/v1/nothing", "/"} {
		r := b.do(t, "GET", path, "", nil)
		r.isError(t, http.StatusNotFound)
		if r.body["detail"] != "GET "+path {
			t.Errorf("404 detail %v, want the method and path", r.body["detail"])
		}
	}
}

func TestListFlows(t *testing.T) {
	b := setup(t, httpapi.Config{})
	r := b.do(t, "GET", "/v1/flows?type=lifecycle", "", nil)
	if r.code != http.StatusOK {
		t.Fatalf("%d %s", r.code, r.raw)
	}
	var got []map[string]any
	for _, f := range r.body["flows"].([]any) {
		m := f.(map[string]any)
		got = append(got, map[string]any{"id": m["id"], "type": m["type"], "timeout_seconds": m["timeout_seconds"], "poll_interval_seconds": m["poll_interval_seconds"]})
	}
	want := []map[string]any{
		{"id": flows.FlowNewHireOnboarding, "type": "lifecycle", "timeout_seconds": 60.0, "poll_interval_seconds": 1.0},
		{"id": flows.FlowOffboarding, "type": "lifecycle", "timeout_seconds": 60.0, "poll_interval_seconds": 1.0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	r = b.do(t, "GET", "/v1/flows", "", nil)
	if n := len(r.body["flows"].([]any)); n != 5 {
		t.Errorf("GET /v1/flows: %d flows, want the 5 mock flows", n)
	}
}

// TestListFlowsNoMatch: every other list of the API answers an empty array
// when nothing matches.
func TestListFlowsNoMatch(t *testing.T) {
	b := setup(t, httpapi.Config{})
	r := b.do(t, "GET", "/v1/flows?type=none", "", nil)
	if r.code != http.StatusOK || strings.TrimSpace(r.raw) != `{"flows":[]}` {
		t.Errorf("GET /v1/flows?type=none: %d %s, want an empty list", r.code, r.raw)
	}
}

func TestGetEvent(t *testing.T) {
	b := setup(t, httpapi.Config{})
	if r := b.do(t, "POST", "/v1/events", ssoEvent("a", "user.lifecycle.create", "u1"), nil); r.code != http.StatusAccepted {
		t.Fatalf("POST: %d %s", r.code, r.raw)
	}
	if _, err := b.execs.Create(b.ctx, &flows.ExecutionResult{ExecutionID: "ex1", FlowID: flows.FlowNewHireOnboarding, Status: flows.StatusPending, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := b.events.MarkProcessed(b.ctx, "a", []string{"ex1", "ex_gone"}); err != nil {
		t.Fatal(err)
	}
	r := b.do(t, "GET", "/v1/events/a", "", nil)
	execs, _ := r.body["executions"].([]any)
	if r.code != http.StatusOK || r.body["state"] != "processed" || len(execs) != 1 || execs[0].(map[string]any)["execution_id"] != "ex1" {
		t.Errorf("GET /v1/events/a: %d %s", r.code, r.raw)
	}
	b.do(t, "GET", "/v1/events/nope", "", nil).isError(t, http.StatusNotFound)
}

// TestWrongMethod: a path the API has, with a method it does not take
// there, is a JSON 405 that names the methods it takes.
func TestWrongMethod(t *testing.T) {
	b := setup(t, httpapi.Config{})
	for path, allow := range map[string]string{
		"/v1/events":     "GET, POST",
		"/v1/hooks/okta": "GET, POST",
		"/v1/executions": "GET",
	} {
		r := b.do(t, "DELETE", path, "", nil)
		r.isError(t, http.StatusMethodNotAllowed)
		if got := r.header.Get("Allow"); got != allow {
			t.Errorf("DELETE %s: Allow %q, want %q", path, got, allow)
		}
	}
}

// TestContentEncoding: a gzip body is read (and bounded once inflated);
// another encoding is refused rather than parsed as garbage.
func TestContentEncoding(t *testing.T) {
	b := setup(t, httpapi.Config{HookSecret: hookSecret, MaxBodyBytes: 4096})
	zip := func(s string) string {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write([]byte(s))
		_ = zw.Close()
		return buf.String()
	}
	hdr := map[string]string{"Authorization": hookSecret, "Content-Encoding": "gzip"}
	r := b.do(t, "POST", "/v1/hooks/okta", zip(delivery(logEvent("gz-1", "user.lifecycle.create", "00u1"))), hdr)
	if r.code != http.StatusOK || r.body["accepted"] != float64(1) {
		t.Errorf("gzip delivery: %d %s", r.code, r.raw)
	}
	big := zip(strings.Repeat(" ", 1<<20) + delivery(logEvent("gz-2", "user.lifecycle.create", "00u1")))
	b.do(t, "POST", "/v1/hooks/okta", big, hdr).isError(t, http.StatusRequestEntityTooLarge)
	b.do(t, "POST", "/v1/hooks/okta", "not gzip", hdr).isError(t, http.StatusBadRequest)
	b.do(t, "POST", "/v1/hooks/okta", "x", map[string]string{"Authorization": hookSecret, "Content-Encoding": "br"}).
		isError(t, http.StatusUnsupportedMediaType)
}
