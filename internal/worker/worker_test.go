package worker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/ssoflow/ssoflow/internal/metrics"
	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/internal/tasks"
	"github.com/ssoflow/ssoflow/internal/testutil"
	"github.com/ssoflow/ssoflow/internal/worker"
	"github.com/ssoflow/ssoflow/pkg/events"
	"github.com/ssoflow/ssoflow/pkg/flows"
	"github.com/ssoflow/ssoflow/pkg/rules"
)

func TestRetryDelay(t *testing.T) {
	for _, err := range []error{asynq.ErrLeaseExpired, fmt.Errorf("task lost: %w", asynq.ErrLeaseExpired)} {
		for _, n := range []int{0, 1, 5, 20} {
			if d := worker.RetryDelay(n, err, nil); d != 0 {
				t.Errorf("RetryDelay(%d, %v) = %s, want 0: a lapsed lease retries at once", n, err, d)
			}
		}
	}

	failed := errors.New("flow answered 503")
	for _, tc := range []struct {
		n    int
		base time.Duration // the delay before jitter
	}{
		{0, time.Second},
		{1, 2 * time.Second},
		{2, 4 * time.Second},
		{5, 32 * time.Second},
		{8, 256 * time.Second},
		{9, 5 * time.Minute}, // 512 s, capped
		{10, 5 * time.Minute},
		{25, 5 * time.Minute},
		{1000, 5 * time.Minute},
	} {
		// The jitter is below half the delay plus a second.
		lo, hi := tc.base, tc.base+tc.base/2+time.Second
		seen := map[time.Duration]bool{}
		for range 500 {
			d := worker.RetryDelay(tc.n, failed, nil)
			if d < lo || d >= hi {
				t.Fatalf("RetryDelay(%d) = %s, want in [%s, %s)", tc.n, d, lo, hi)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("RetryDelay(%d) took %d values in 500 calls: no jitter", tc.n, len(seen))
		}
	}
	if max := 5*time.Minute + (5*time.Minute)/2 + time.Second; worker.RetryDelay(1<<30, failed, nil) >= max {
		t.Errorf("RetryDelay is not capped below %s", max)
	}
}

func TestConfig(t *testing.T) {
	got := worker.Config{}.WithDefaults()
	want := worker.Config{
		Concurrency:              worker.DefaultConcurrency,
		ShutdownTimeout:          worker.DefaultShutdownTimeout,
		TaskCheckInterval:        worker.DefaultTaskCheckInterval,
		DelayedTaskCheckInterval: worker.DefaultDelayedTaskCheckInterval,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WithDefaults (-want +got):\n%s", diff)
	}
	set := worker.Config{Concurrency: 3, ShutdownTimeout: time.Second, TaskCheckInterval: 2 * time.Second, DelayedTaskCheckInterval: 3 * time.Second}
	if diff := cmp.Diff(set, set.WithDefaults()); diff != "" {
		t.Errorf("WithDefaults changed set fields (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name string
		cfg  worker.Config
		want []string
	}{
		{"zero", worker.Config{}, nil},
		{"defaults", got, nil},
		{"negative concurrency", worker.Config{Concurrency: -1}, []string{"concurrency -1"}},
		{"negative delayed check", worker.Config{DelayedTaskCheckInterval: -time.Second}, []string{"check intervals"}},
		{"all at once", worker.Config{Concurrency: -2, ShutdownTimeout: -time.Second, TaskCheckInterval: -time.Millisecond},
			[]string{"concurrency -2", "shutdown timeout -1s", "check intervals"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			testutil.ErrorMentions(t, err, tc.want)
			if err != nil {
				if n := len(strings.Split(err.Error(), "\n")); n != len(tc.want) {
					t.Errorf("Validate reported %d problems, want %d: %q", n, len(tc.want), err)
				}
			}
		})
	}
}

// bundle is a worker running on miniredis with the mock flows.
type bundle struct {
	ctx    context.Context
	rdb    *redis.Client
	events *store.Events
	execs  *store.Executions
	queue  *asynq.Client
	insp   *asynq.Inspector
	reg    *prometheus.Registry
}

func setup(t *testing.T) *bundle {
	t.Helper()
	mr := miniredis.RunT(t)
	b := &bundle{ctx: t.Context(), reg: prometheus.NewRegistry()}
	b.rdb = redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = b.rdb.Close() })
	b.events = store.NewEvents(b.rdb, "", time.Hour)
	b.execs = store.NewExecutions(b.rdb, "")
	b.queue = asynq.NewClientFromRedisClient(b.rdb)
	b.insp = asynq.NewInspectorFromRedisClient(b.rdb)
	registry := flows.MockRegistry()
	rs, err := rules.ParseYAML([]byte(`
rules:
  - id: offboard
    event_types: [user.lifecycle.deactivate]
    flow_id: flow_offboarding
    input:
      user_id: user_id
`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.NewSet(rs, registry.Has)
	if err != nil {
		t.Fatal(err)
	}
	h := &tasks.Handlers{
		Events:    b.events,
		History:   b.execs,
		Rules:     func() *rules.Set { return set },
		Flows:     registry,
		Connector: flows.NewMock(),
		Queue:     b.queue,
		Now:       func() time.Time { return time.Now().UTC() },
		Log:       zerolog.Nop(),
	}
	w := worker.New(b.rdb, h, worker.Config{
		Concurrency:              2,
		ShutdownTimeout:          time.Second,
		TaskCheckInterval:        20 * time.Millisecond,
		DelayedTaskCheckInterval: 100 * time.Millisecond,
	}, metrics.New(b.reg), zerolog.Nop())
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Shutdown)
	return b
}

// taskCount reads ssoflow_tasks_total for a task type and outcome.
func (b *bundle) taskCount(t *testing.T, typ, outcome string) float64 {
	t.Helper()
	mfs, err := b.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "ssoflow_tasks_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["type"] == typ && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 15s: %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling for a condition, with a deadline
	}
}

// TestWorkerServesBothQueues: an event is processed (events queue) and its
// flow invoked (flows queue); each handled task is counted by outcome.
func TestWorkerServesBothQueues(t *testing.T) {
	b := setup(t)
	ev := events.SSOEvent{EventID: "ev1", EventType: "user.lifecycle.deactivate", UserID: "u1", Timestamp: time.Now().UTC()}
	ev.Normalize()
	if _, err := b.events.Put(b.ctx, []events.SSOEvent{ev}, time.Now()); err != nil {
		t.Fatal(err)
	}
	task, err := tasks.NewEventTask(&ev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tasks.Enqueue(b.ctx, b.queue, task); err != nil {
		t.Fatal(err)
	}
	id := flows.ExecutionIDFor("offboard", 1, "ev1")
	waitUntil(t, "the execution succeeds", func() bool {
		e, err := b.execs.Get(b.ctx, id)
		return err == nil && e.Status == flows.StatusSuccess
	})
	waitUntil(t, "both tasks are counted", func() bool {
		return b.taskCount(t, tasks.TypeEventProcess, "ok") == 1 && b.taskCount(t, tasks.TypeFlowInvoke, "ok") == 1
	})
}

// TestWorkerPermanentError: a task whose handler says SkipRetry is archived
// at once, not retried, and counted as failed.
func TestWorkerPermanentError(t *testing.T) {
	b := setup(t)
	if _, err := b.queue.EnqueueContext(b.ctx, asynq.NewTask(tasks.TypeEventProcess, []byte(`{"event":`)),
		asynq.Queue(tasks.QueueEvents), asynq.MaxRetry(5)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the bad task is archived", func() bool {
		archived, err := b.insp.ListArchivedTasks(tasks.QueueEvents)
		return err == nil && len(archived) == 1
	})
	archived, err := b.insp.ListArchivedTasks(tasks.QueueEvents)
	if err != nil {
		t.Fatal(err)
	}
	if archived[0].Retried != 0 || !strings.Contains(archived[0].LastErr, "decode event payload") {
		t.Errorf("archived after %d retries with %q, want at once with the decode error", archived[0].Retried, archived[0].LastErr)
	}
	waitUntil(t, "the failure is counted", func() bool { return b.taskCount(t, tasks.TypeEventProcess, "failed") == 1 })
	if n := b.taskCount(t, tasks.TypeEventProcess, "retry"); n != 0 {
		t.Errorf("counted %v retries", n)
	}
}
