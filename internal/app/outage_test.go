package app

import (
	"net/http"
	"testing"

	"github.com/ssoflow/ssoflow/internal/testutil/redistest"
)

// TestRedisOutage: with Redis down, the hook answers 503 (so Okta retries)
// and acknowledges nothing; once Redis is back, Okta's retry is accepted and
// every execution happens once.
func TestRedisOutage(t *testing.T) {
	r := redistest.Start(t)
	env := testEnv(t, map[string]string{"REDIS_URL": r.URL()})
	_, base := startCommand(t, Ingest, env, true)
	startCommand(t, Worker, env, false)
	c := newClient(t, base)
	d := readDeliveries(t)
	hdr := map[string]string{"Authorization": testHookSecret}

	r.Stop()
	code, body := c.do("POST", "/v1/hooks/okta", d[0], hdr)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("delivery with Redis down: %d %v, want 503", code, body)
	}
	if body["error"] == "" {
		t.Errorf("503 without an error message: %v", body)
	}
	if code, _ := c.do("GET", "/readyz", nil, nil); code != http.StatusServiceUnavailable {
		t.Errorf("readyz with Redis down: %d, want 503", code)
	}

	r.Restart()
	if code, _ := c.do("GET", "/readyz", nil, nil); code != http.StatusOK {
		t.Errorf("readyz with Redis back: %d, want 200", code)
	}
	for i, want := range []float64{4, 5} {
		code, body := c.do("POST", "/v1/hooks/okta", d[i], hdr)
		if code != http.StatusOK || body["accepted"] != want {
			t.Fatalf("delivery %d after the outage: %d %v, want 200 with %v accepted", i, code, body, want)
		}
	}
	waitForExecutions(t, c, wantFromDeliveries)
}
