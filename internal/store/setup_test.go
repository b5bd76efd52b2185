package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/internal/testutil/redistest"
	"github.com/ssoflow/ssoflow/pkg/events"
	"github.com/ssoflow/ssoflow/pkg/flows"
)

// prefix keeps the tests' keys apart from anything else in the Redis.
const prefix = "test:"

// t0 is the tests' reference time: whole milliseconds, UTC, so that it
// survives the stores' millisecond scores and JSON unchanged.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// bundle is what a store test works with.
type bundle struct {
	ctx    context.Context
	mr     *miniredis.Miniredis // nil on a real Redis
	rdb    *redis.Client
	events *store.Events
	execs  *store.Executions
}

type setupConfig struct {
	real      bool
	retention time.Duration
}

type option func(*setupConfig)

// onRealRedis runs the test on a private redis-server (TTL expiry in real
// time, concurrency across connections).
func onRealRedis() option { return func(c *setupConfig) { c.real = true } }

// withRetention sets the event ledger's retention.
func withRetention(d time.Duration) option { return func(c *setupConfig) { c.retention = d } }

func setup(t *testing.T, opts ...option) *bundle {
	t.Helper()
	cfg := setupConfig{retention: time.Hour}
	for _, o := range opts {
		o(&cfg)
	}
	b := &bundle{ctx: t.Context()}
	if cfg.real {
		b.rdb = redistest.Start(t).Client()
	} else {
		b.mr = miniredis.RunT(t)
		b.rdb = redis.NewClient(&redis.Options{Addr: b.mr.Addr()})
		t.Cleanup(func() { _ = b.rdb.Close() })
	}
	b.events = store.NewEvents(b.rdb, prefix, cfg.retention)
	b.execs = store.NewExecutions(b.rdb, prefix)
	return b
}

// ledger returns another view of the bundle's ledger with its own retention.
func (b *bundle) ledger(retention time.Duration) *store.Events {
	return store.NewEvents(b.rdb, prefix, retention)
}

func newExec(id, flow string, st flows.Status, created time.Time) *flows.ExecutionResult {
	return &flows.ExecutionResult{
		ExecutionID: id,
		FlowID:      flow,
		Status:      st,
		CreatedAt:   created,
		UpdatedAt:   created,
		InputData:   map[string]any{"user_id": "00u" + id},
	}
}

func newEvent(id, typ, user string, ts time.Time) events.SSOEvent {
	ev := events.SSOEvent{EventID: id, EventType: typ, UserID: user, Timestamp: ts}
	if user != "" {
		ev.UserEmail = user + "@acme.test"
	}
	ev.Normalize()
	return ev
}

func execIDs(es []*flows.ExecutionResult) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ExecutionID)
	}
	return out
}

func recordIDs(rs []*store.EventRecord) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Event.EventID)
	}
	return out
}

func eventIDs(evs []events.SSOEvent) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.EventID)
	}
	return out
}
