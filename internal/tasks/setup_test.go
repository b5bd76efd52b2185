package tasks_test

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/internal/tasks"
	"github.com/ssoflow/ssoflow/internal/testutil"
	"github.com/ssoflow/ssoflow/pkg/events"
	"github.com/ssoflow/ssoflow/pkg/flows"
	"github.com/ssoflow/ssoflow/pkg/rules"
)

// t0 is where the fake clock starts: whole milliseconds, UTC.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// connector is the mock connector with hooks: a test can replace Invoke or
// Status, and counts the calls.
type connector struct {
	flows.Connector
	invoke   func(context.Context, flows.InvokeRequest) (*flows.Invocation, error)
	status   func(context.Context, *flows.ExecutionResult) (*flows.Invocation, error)
	invokes  atomic.Int32
	statuses atomic.Int32
}

func (c *connector) Invoke(ctx context.Context, req flows.InvokeRequest) (*flows.Invocation, error) {
	c.invokes.Add(1)
	if c.invoke != nil {
		return c.invoke(ctx, req)
	}
	return c.Connector.Invoke(ctx, req)
}

func (c *connector) Status(ctx context.Context, e *flows.ExecutionResult) (*flows.Invocation, error) {
	c.statuses.Add(1)
	if c.status != nil {
		return c.status(ctx, e)
	}
	return c.Connector.Status(ctx, e)
}

// testRules are the rules of the task tests.
const testRules = `
rules:
  - id: onboard
    event_types: [user.lifecycle.create]
    flow_id: flow_new_hire_onboarding
    input:
      user_id: user_id
      user_email: user_email
  - id: remind
    event_types: [USER_CREATED]
    flow_id: flow_password_expiry
    version: 3
    input:
      user_id: user_id
  - id: not-now
    event_types: [user.lifecycle.create]
    flow_id: flow_access_request
    enabled: false
  - id: offboard
    event_types: [user.lifecycle.deactivate]
    flow_id: flow_offboarding
    input:
      user_id: user_id
  - id: broken-input
    event_types: [user.account.lock]
    flow_id: flow_mfa_remediation
    input:
      user_id: user_id
      attempts: int(user_email)
  - id: broken-condition
    event_types: [user.account.lock]
    condition: metadata.missing.field == "x"
    flow_id: flow_mfa_remediation
`

// bundle is what a task test works with.
type bundle struct {
	ctx    context.Context
	mr     *miniredis.Miniredis
	rdb    *redis.Client
	clock  *testutil.Clock
	events *store.Events
	execs  *store.Executions
	queue  *asynq.Client
	insp   *asynq.Inspector
	conn   *connector
	h      *tasks.Handlers
}

type setupConfig struct {
	rules      string
	checkFlows bool
	registry   *flows.Registry
}

type option func(*setupConfig)

// withRules compiles these rules instead of testRules; without checking
// that their flows exist, so that a rule can name a flow the registry lacks.
func withRules(yaml string) option {
	return func(c *setupConfig) { c.rules, c.checkFlows = yaml, false }
}

func withRegistry(r *flows.Registry) option { return func(c *setupConfig) { c.registry = r } }

func setup(t *testing.T, opts ...option) *bundle {
	t.Helper()
	cfg := setupConfig{rules: testRules, checkFlows: true, registry: flows.MockRegistry()}
	for _, o := range opts {
		o(&cfg)
	}
	b := &bundle{ctx: t.Context(), mr: miniredis.RunT(t), clock: testutil.NewClock(t0)}
	b.rdb = redis.NewClient(&redis.Options{Addr: b.mr.Addr()})
	t.Cleanup(func() { _ = b.rdb.Close() })
	b.events = store.NewEvents(b.rdb, "", time.Hour)
	b.execs = store.NewExecutions(b.rdb, "")
	b.queue = asynq.NewClientFromRedisClient(b.rdb)
	b.insp = asynq.NewInspectorFromRedisClient(b.rdb)
	b.conn = &connector{Connector: flows.NewMock(flows.WithMockClock(b.clock.Now))}

	rs, err := rules.ParseYAML([]byte(cfg.rules))
	if err != nil {
		t.Fatal(err)
	}
	var exists func(string) bool
	if cfg.checkFlows {
		exists = cfg.registry.Has
	}
	set, err := rules.NewSet(rs, exists)
	if err != nil {
		t.Fatal(err)
	}
	b.h = &tasks.Handlers{
		Events:    b.events,
		History:   b.execs,
		Rules:     func() *rules.Set { return set },
		Flows:     cfg.registry,
		Connector: b.conn,
		Queue:     b.queue,
		Now:       b.clock.Now,
		Log:       zerolog.Nop(),
	}
	return b
}

func newEvent(id, typ, user string) events.SSOEvent {
	ev := events.SSOEvent{EventID: id, EventType: typ, UserID: user, UserEmail: user + "@acme.test", Timestamp: t0.Add(-time.Minute)}
	ev.Normalize()
	return ev
}

// ingest stores the event in the ledger, as ingest does before it queues it.
func (b *bundle) ingest(t *testing.T, ev events.SSOEvent) {
	t.Helper()
	if _, err := b.events.Put(b.ctx, []events.SSOEvent{ev}, b.clock.Now()); err != nil {
		t.Fatal(err)
	}
}

func eventTask(t *testing.T, ev events.SSOEvent) *asynq.Task {
	t.Helper()
	task, err := tasks.NewEventTask(&ev)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func invokeTask(t *testing.T, id string) *asynq.Task {
	t.Helper()
	task, err := tasks.NewInvokeTask(id)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func pollTask(t *testing.T, id string, n int) *asynq.Task {
	t.Helper()
	task, err := tasks.NewPollTask(id, n, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// queued is a task as the tests compare it.
type queued struct {
	ID       string
	Type     string
	Payload  string
	MaxRetry int
	Timeout  time.Duration
}

func queuedOf(infos []*asynq.TaskInfo) []queued {
	out := []queued{}
	for _, ti := range infos {
		out = append(out, queued{ID: ti.ID, Type: ti.Type, Payload: string(ti.Payload), MaxRetry: ti.MaxRetry, Timeout: ti.Timeout})
	}
	return sortQueued(out)
}

func sortQueued(qs []queued) []queued {
	sort.Slice(qs, func(i, j int) bool { return qs[i].ID < qs[j].ID })
	return qs
}

func (b *bundle) pending(t *testing.T, queue string) []*asynq.TaskInfo {
	t.Helper()
	infos, err := b.insp.ListPendingTasks(queue, asynq.PageSize(1000))
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return infos
}

func (b *bundle) scheduled(t *testing.T, queue string) []*asynq.TaskInfo {
	t.Helper()
	infos, err := b.insp.ListScheduledTasks(queue, asynq.PageSize(1000))
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return infos
}

func (b *bundle) get(t *testing.T, id string) *flows.ExecutionResult {
	t.Helper()
	e, err := b.execs.Get(b.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (b *bundle) create(t *testing.T, e *flows.ExecutionResult) {
	t.Helper()
	if ok, err := b.execs.Create(b.ctx, e); err != nil || !ok {
		t.Fatalf("create %s: %v %v", e.ExecutionID, ok, err)
	}
}

func pendingExec(id, flow string, input map[string]any) *flows.ExecutionResult {
	return &flows.ExecutionResult{
		ExecutionID: id, FlowID: flow, Status: flows.StatusPending,
		CreatedAt: t0, UpdatedAt: t0, InputData: input,
	}
}

func invokePayload(id string) string { return `{"execution_id":"` + id + `"}` }

// jsonish returns v as it reads back from JSON, for comparing with what the
// history stored.
func jsonish(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// mockOutput is what the mock flow returns for a successful execution.
func mockOutput(t *testing.T, flow, id string, input map[string]any) map[string]any {
	t.Helper()
	inv, err := flows.NewMock().Status(context.Background(), &flows.ExecutionResult{
		ExecutionID: id, FlowID: flow, InputData: input, StartedAt: time.Unix(1, 0),
	})
	if err != nil || inv.Status != flows.StatusSuccess {
		t.Fatalf("mock status of %s: %+v %v", flow, inv, err)
	}
	return jsonish(t, inv.Output)
}
