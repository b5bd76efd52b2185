package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssoflow/ssoflow/config"
	"github.com/ssoflow/ssoflow/internal/testutil/redistest"
)

const testHookSecret = "e2e-hook-secret"

// lockAlertRule is added to the default rules in these tests so that one
// execution ends failed: the mock fails any input with simulate_failure.
const lockAlertRule = `
  - id: lock-alert
    event_types: [user.account.lock]
    flow_id: flow_mfa_remediation
    input:
      user_id: user_id
      simulate_failure: "true"
`

// wantExecution is what a test asserts of one execution.
type wantExecution struct {
	FlowID string
	UserID string
	Input  map[string]any
	Status string
}

// wantFromDeliveries lists the executions that testdata/deliveries.ndjson
// must produce under the default rules plus lockAlertRule.
var wantFromDeliveries = []wantExecution{
	{"flow_new_hire_onboarding", "00unew000001", map[string]any{"user_id": "00unew000001", "user_email": "nina.new@acme.test"}, "success"},
	{"flow_mfa_remediation", "00ubob000001", map[string]any{"user_id": "00ubob000001", "reason": "INVALID_CREDENTIALS"}, "success"},
	{"flow_access_request", "00ucarol0001", map[string]any{"user_id": "00ucarol0001", "app": map[string]any{
		"id": "0oaslack0001", "type": "AppInstance", "alternateId": "Slack", "displayName": "Slack", "detailEntry": nil}}, "success"},
	{"flow_offboarding", "00udave00001", map[string]any{"user_id": "00udave00001", "user_email": "dave.ng@acme.test"}, "success"},
	{"flow_password_expiry", "00uerin00001", map[string]any{"user_id": "00uerin00001"}, "success"},
	{"flow_mfa_remediation", "00ufrank0001", map[string]any{"user_id": "00ufrank0001", "reason": ""}, "success"},
	{"flow_mfa_remediation", "00ugus000001", map[string]any{"user_id": "00ugus000001", "simulate_failure": true}, "failed"},
}

// deliveryEventCount is the number of distinct events in the deliveries.
const deliveryEventCount = 9

// testEnv writes the test's rules file and returns the environment the
// processes run with.
func testEnv(t *testing.T, extra map[string]string) map[string]string {
	t.Helper()
	rulesPath := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rulesPath, append(bytes.Clone(config.Rules), lockAlertRule...), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SSOFLOW_HOOK_SECRET": testHookSecret,
		"SSOFLOW_RULES":       rulesPath,
		"SSOFLOW_ADDR":        "127.0.0.1:0",
		"LOG_LEVEL":           "info",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func getenvFrom(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// proc is a command running in this process.
type proc struct {
	cancel context.CancelFunc
	done   chan int
}

// startCommand runs cmd in a goroutine and returns its HTTP address, if it
// serves one, once it listens.
func startCommand(t *testing.T, cmd Command, env map[string]string, serves bool) (*proc, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	p := &proc{cancel: cancel, done: make(chan int, 1)}
	go func() {
		p.done <- Main(ctx, cmd, nil, getenvFrom(env), t.Output(), func(a string) { addrc <- a })
	}()
	t.Cleanup(p.stop)
	if !serves {
		return p, ""
	}
	select {
	case a := <-addrc:
		return p, "http://" + a
	case code := <-p.done:
		t.Fatalf("%s exited with %d before serving", cmd.Name, code)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not serve within 30s", cmd.Name)
	}
	return nil, ""
}

func (p *proc) stop() {
	p.cancel()
	<-p.done
	p.done <- 0 // let a second stop return
}

// client talks to the API.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	c := &client{t: t, base: base, http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}}
	t.Cleanup(c.http.CloseIdleConnections)
	return c
}

func (c *client) do(method, path string, body []byte, header map[string]string) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

func readDeliveries(t *testing.T) [][]byte {
	t.Helper()
	f, err := os.Open("testdata/deliveries.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	return out
}

// postDeliveries sends the test deliveries, the first one twice, and checks
// the counts the hook answers with.
func postDeliveries(t *testing.T, c *client) {
	t.Helper()
	d := readDeliveries(t)
	hdr := map[string]string{"Authorization": testHookSecret, "Content-Type": "application/json"}
	for i, tc := range []struct {
		body            []byte
		accepted, dupes float64
	}{
		{d[0], 4, 0},
		{d[0], 0, 4}, // Okta redelivers
		{d[1], 5, 0},
	} {
		code, body := c.do("POST", "/v1/hooks/okta", tc.body, hdr)
		if code != http.StatusOK || body["accepted"] != tc.accepted || body["duplicates"] != tc.dupes {
			t.Fatalf("delivery %d: got %d %v, want 200 with accepted %v and duplicates %v", i, code, body, tc.accepted, tc.dupes)
		}
	}
}

// waitForExecutions waits until every event is processed and every
// execution terminal, then asserts the executions exactly.
func waitForExecutions(t *testing.T, c *client, want []wantExecution) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		done, got, why := settled(t, c)
		if done {
			if diff := cmp.Diff(sortedWant(want), got); diff != "" {
				t.Fatalf("executions differ (-want +got):\n%s", diff)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not settled within 60s: %s", why)
		}
		time.Sleep(100 * time.Millisecond) // polling the API for a condition, with a deadline
	}
}

func settled(t *testing.T, c *client) (bool, []wantExecution, string) {
	code, evs := c.do("GET", "/v1/events?limit=1000", nil, nil)
	if code != http.StatusOK {
		return false, nil, fmt.Sprintf("GET /v1/events: %d", code)
	}
	list, _ := evs["events"].([]any)
	processed := 0
	for _, e := range list {
		if e.(map[string]any)["state"] == "processed" {
			processed++
		}
	}
	if len(list) != deliveryEventCount || processed != deliveryEventCount {
		return false, nil, fmt.Sprintf("%d events, %d processed, want %d", len(list), processed, deliveryEventCount)
	}
	code, body := c.do("GET", "/v1/executions?limit=1000", nil, nil)
	if code != http.StatusOK {
		return false, nil, fmt.Sprintf("GET /v1/executions: %d", code)
	}
	var got []wantExecution
	execs, _ := body["executions"].([]any)
	for _, x := range execs {
		e := x.(map[string]any)
		st := e["status"].(string)
		if st == "pending" || st == "running" {
			return false, nil, fmt.Sprintf("execution %s is %s", e["execution_id"], st)
		}
		in, _ := e["input_data"].(map[string]any)
		uid, _ := in["user_id"].(string)
		got = append(got, wantExecution{FlowID: e["flow_id"].(string), UserID: uid, Input: in, Status: st})
	}
	return true, sortedWant(got), ""
}

func sortedWant(w []wantExecution) []wantExecution {
	out := append([]wantExecution(nil), w...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].FlowID != out[j].FlowID {
			return out[i].FlowID < out[j].FlowID
		}
		return out[i].UserID < out[j].UserID
	})
	return out
}

// TestPipelineRealRedis runs ingest, two workers and two schedulers as
// separate components on a real Redis and checks the exact executions.
func TestPipelineRealRedis(t *testing.T) {
	r := redistest.Start(t)
	env := testEnv(t, map[string]string{"REDIS_URL": r.URL()})
	_, base := startCommand(t, Ingest, env, true)
	for range 2 {
		startCommand(t, Worker, env, false)
		startCommand(t, Scheduler, env, false)
	}
	c := newClient(t, base)
	postDeliveries(t, c)
	waitForExecutions(t, c, wantFromDeliveries)
	checkEventLinks(t, c)
}

// TestPipelineDev runs the same through `ssoflow dev` on its embedded Redis.
func TestPipelineDev(t *testing.T) {
	env := testEnv(t, nil)
	_, base := startCommand(t, Dev, env, true)
	c := newClient(t, base)
	postDeliveries(t, c)
	waitForExecutions(t, c, wantFromDeliveries)
}

// checkEventLinks checks GET /v1/events/{id}: an event with the executions
// it triggered, and one that triggered none.
func checkEventLinks(t *testing.T, c *client) {
	t.Helper()
	code, body := c.do("GET", "/v1/events/e2e00000-0000-4000-8000-000000000001", nil, nil)
	execs, _ := body["executions"].([]any)
	if code != http.StatusOK || len(execs) != 1 || execs[0].(map[string]any)["flow_id"] != "flow_new_hire_onboarding" {
		t.Errorf("GET event 1: %d %v, want it with its onboarding execution", code, body)
	}
	if body["user_id"] != "00unew000001" || body["event_type"] != "user.lifecycle.create" {
		t.Errorf("GET event 1: user_id %v event_type %v", body["user_id"], body["event_type"])
	}
	code, body = c.do("GET", "/v1/events/e2e00000-0000-4000-8000-000000000002", nil, nil)
	if execs, _ := body["executions"].([]any); code != http.StatusOK || len(execs) != 0 {
		t.Errorf("GET event 2: %d %v, want it with no executions", code, body)
	}
	if code, _ := c.do("GET", "/v1/events/no-such-event", nil, nil); code != http.StatusNotFound {
		t.Errorf("GET unknown event: %d, want 404", code)
	}
}
