package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/ssoflow/ssoflow/internal/ingest"
	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/internal/tasks"
	"github.com/ssoflow/ssoflow/internal/testutil"
	"github.com/ssoflow/ssoflow/pkg/events"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// queue is the asynq client, or a queue that refuses some or all tasks.
type queue struct {
	client *asynq.Client
	mu     sync.Mutex
	err    error           // when set, every enqueue fails
	refuse map[string]bool // task ids that fail
	// before, when set, runs before the next enqueue, with the task id.
	before func(taskID string)
}

func (q *queue) EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	var p tasks.EventPayload
	if err := json.Unmarshal(task.Payload(), &p); err != nil {
		return nil, err
	}
	id := tasks.EventTaskID(p.Event.EventID)
	q.mu.Lock()
	err, before := q.err, q.before
	q.before = nil
	if q.refuse[id] {
		err = errors.New("refused: " + id)
	}
	q.mu.Unlock()
	if before != nil {
		before(id)
	}
	if err != nil {
		return nil, err
	}
	return q.client.EnqueueContext(ctx, task, opts...)
}

func (q *queue) fail(err error, taskIDs ...string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.err = err
	q.refuse = map[string]bool{}
	for _, id := range taskIDs {
		q.refuse[id] = true
	}
}

type bundle struct {
	ctx    context.Context
	mr     *miniredis.Miniredis
	ledger *store.Events
	queue  *queue
	insp   *asynq.Inspector
	in     *ingest.Ingester
}

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{ctx: t.Context(), mr: miniredis.RunT(t)}
	rdb := redis.NewClient(&redis.Options{Addr: b.mr.Addr(), MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = rdb.Close() })
	b.ledger = store.NewEvents(rdb, "", time.Hour)
	b.queue = &queue{client: asynq.NewClientFromRedisClient(rdb)}
	b.insp = asynq.NewInspectorFromRedisClient(rdb)
	b.in = ingest.New(b.ledger, b.queue, func() time.Time { return t0 }, zerolog.Nop())
	return b
}

func ev(id string) events.SSOEvent {
	e := events.SSOEvent{EventID: id, EventType: "user.lifecycle.create", UserID: "u-" + id, Timestamp: t0.Add(-time.Hour)}
	e.Normalize()
	return e
}

// queued returns the ids of the events whose processing task is pending.
// processed does what a worker does with an event: marks it processed,
// and its task, completed, leaves the queue.
func (b *bundle) processed(t *testing.T, id string) {
	t.Helper()
	if err := b.ledger.MarkProcessed(b.ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.insp.DeleteTask(tasks.QueueEvents, tasks.EventTaskID(id)); err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) queued(t *testing.T) []string {
	t.Helper()
	return testutil.PendingTaskIDs(t, b.insp, tasks.QueueEvents, tasks.TypeEventProcess)
}

func (b *bundle) state(t *testing.T, id string) string {
	t.Helper()
	rec, err := b.ledger.Get(b.ctx, id)
	if err != nil {
		t.Fatalf("event %s: %v", id, err)
	}
	return rec.State
}

func (b *bundle) ingest(t *testing.T, evs ...events.SSOEvent) ingest.Result {
	t.Helper()
	res, err := b.in.Ingest(b.ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestIngestDedupes(t *testing.T) {
	b := setup(t)
	for i, tc := range []struct {
		batch []events.SSOEvent
		want  ingest.Result
	}{
		{[]events.SSOEvent{ev("a"), ev("b"), ev("a"), ev("c")}, ingest.Result{Accepted: 3, Duplicates: 1}},
		{[]events.SSOEvent{ev("c"), ev("d"), ev("d"), ev("a")}, ingest.Result{Accepted: 1, Duplicates: 3}},
		{[]events.SSOEvent{ev("a"), ev("b"), ev("c"), ev("d")}, ingest.Result{Accepted: 0, Duplicates: 4}},
		{nil, ingest.Result{}},
	} {
		if diff := cmp.Diff(tc.want, b.ingest(t, tc.batch...)); diff != "" {
			t.Errorf("batch %d (-want +got):\n%s", i, diff)
		}
	}
	if diff := cmp.Diff([]string{"event:a", "event:b", "event:c", "event:d"}, b.queued(t)); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}

	// Once processed (and its task gone), an event is still a duplicate.
	b.processed(t, "a")
	if diff := cmp.Diff(ingest.Result{Duplicates: 1}, b.ingest(t, ev("a"))); diff != "" {
		t.Errorf("processed event again (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"event:b", "event:c", "event:d"}, b.queued(t)); diff != "" {
		t.Errorf("a processed event was queued again (-want +got):\n%s", diff)
	}
}

func TestIngestLargeBatch(t *testing.T) {
	b := setup(t)
	var batch []events.SSOEvent
	var want []string
	for i := range 50 {
		id := fmt.Sprintf("e%02d", i)
		batch = append(batch, ev(id))
		want = append(want, "event:"+id)
	}
	if diff := cmp.Diff(ingest.Result{Accepted: 50}, b.ingest(t, batch...)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, b.queued(t)); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}
}

func TestIngestFillsZeroTimestamp(t *testing.T) {
	b := setup(t)
	noTime := ev("a")
	noTime.Timestamp = time.Time{}
	batch := []events.SSOEvent{noTime, ev("b")}
	b.ingest(t, batch...)
	for id, want := range map[string]time.Time{"a": t0, "b": t0.Add(-time.Hour)} {
		rec, err := b.ledger.Get(b.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !rec.Event.Timestamp.Equal(want) {
			t.Errorf("event %s stored with timestamp %v, want %v", id, rec.Event.Timestamp, want)
		}
	}
	if !batch[0].Timestamp.IsZero() {
		t.Error("Ingest changed the caller's slice")
	}
	// The queued task carries the filled timestamp too.
	ti, err := b.insp.GetTaskInfo(tasks.QueueEvents, "event:a")
	if err != nil {
		t.Fatal(err)
	}
	want := ev("a")
	want.Timestamp = t0
	wantTask, err := tasks.NewEventTask(&want)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(wantTask.Payload()), string(ti.Payload)); diff != "" {
		t.Errorf("queued payload (-want +got):\n%s", diff)
	}
}

// TestIngestQueueDown: the events are durable in the ledger before the
// queue is asked; when it fails Ingest fails, and a retry completes them.
func TestIngestQueueDown(t *testing.T) {
	b := setup(t)
	down := errors.New("queue down")
	b.queue.fail(down)
	res, err := b.in.Ingest(b.ctx, []events.SSOEvent{ev("a"), ev("b"), ev("a")})
	if !errors.Is(err, down) {
		t.Fatalf("Ingest with the queue down: %v, want the queue's error", err)
	}
	if res != (ingest.Result{}) {
		t.Errorf("Ingest with the queue down returned %+v with its error, want zero", res)
	}
	for _, id := range []string{"a", "b"} {
		if st := b.state(t, id); st != store.StateReceived {
			t.Errorf("event %s is %q, want received", id, st)
		}
	}
	if got := b.queued(t); len(got) != 0 {
		t.Errorf("queued %v with the queue down", got)
	}

	// The sender retries: the events were never queued, so they count as accepted.
	b.queue.fail(nil)
	if diff := cmp.Diff(ingest.Result{Accepted: 2, Duplicates: 1}, b.ingest(t, ev("a"), ev("b"), ev("a"))); diff != "" {
		t.Errorf("retry (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"event:a", "event:b"}, b.queued(t)); diff != "" {
		t.Errorf("queued after the retry (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ingest.Result{Duplicates: 2}, b.ingest(t, ev("a"), ev("b"))); diff != "" {
		t.Errorf("second retry (-want +got):\n%s", diff)
	}
}

// TestIngestPartialQueueFailure: one of two enqueues fails. The batch
// fails; its retry queues the missing one; the one queued the first time
// counts as a duplicate then, since its task is already there.
func TestIngestPartialQueueFailure(t *testing.T) {
	b := setup(t)
	b.queue.fail(nil, "event:b")
	_, err := b.in.Ingest(b.ctx, []events.SSOEvent{ev("a"), ev("b")})
	if err == nil {
		t.Fatal("Ingest with one enqueue failing: nil error")
	}
	if diff := cmp.Diff([]string{"event:a"}, b.queued(t)); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}
	b.queue.fail(nil)
	if diff := cmp.Diff(ingest.Result{Accepted: 1, Duplicates: 1}, b.ingest(t, ev("a"), ev("b"))); diff != "" {
		t.Errorf("retry (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"event:a", "event:b"}, b.queued(t)); diff != "" {
		t.Errorf("queued after the retry (-want +got):\n%s", diff)
	}
}

func TestIngestStoreDown(t *testing.T) {
	b := setup(t)
	b.mr.Close()
	res, err := b.in.Ingest(b.ctx, []events.SSOEvent{ev("a")})
	if err == nil {
		t.Fatal("Ingest with Redis down: nil error")
	}
	if res != (ingest.Result{}) {
		t.Errorf("Ingest with Redis down returned %+v with its error", res)
	}
}

func TestRequeue(t *testing.T) {
	b := setup(t)
	b.queue.fail(errors.New("queue down"))
	if _, err := b.in.Ingest(b.ctx, []events.SSOEvent{ev("a"), ev("b")}); err == nil {
		t.Fatal("Ingest with the queue down: nil error")
	}
	stranded := []events.SSOEvent{ev("a"), ev("b")}
	if _, err := b.in.Requeue(b.ctx, stranded); err == nil {
		t.Error("Requeue with the queue down: nil error")
	}

	b.queue.fail(nil)
	n, err := b.in.Requeue(b.ctx, stranded)
	if err != nil || n != 2 {
		t.Fatalf("Requeue = %d, %v; want 2", n, err)
	}
	if diff := cmp.Diff([]string{"event:a", "event:b"}, b.queued(t)); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}
	n, err = b.in.Requeue(b.ctx, stranded)
	if err != nil || n != 0 {
		t.Errorf("Requeue of queued events = %d, %v; want 0", n, err)
	}
	if n, err := b.in.Requeue(b.ctx, nil); err != nil || n != 0 {
		t.Errorf("Requeue(nil) = %d, %v", n, err)
	}
}

// TestIngestRedeliveryRacesProcessing: Okta redelivers an event while a
// worker processes it, or after. Once the first delivery was answered, the
// ledger knows the event is queued: the redelivery is a duplicate and tries
// no second enqueue (which, once the first task had completed and freed its
// TaskID, would succeed and process the event twice).
func TestIngestRedeliveryRacesProcessing(t *testing.T) {
	b := setup(t)
	if diff := cmp.Diff(ingest.Result{Accepted: 1}, b.ingest(t, ev("a"))); diff != "" {
		t.Fatalf("first delivery (-want +got):\n%s", diff)
	}
	b.queue.mu.Lock()
	b.queue.before = func(taskID string) { t.Errorf("a redelivery tried to enqueue %s", taskID) }
	b.queue.mu.Unlock()

	// While the task waits in the queue.
	if diff := cmp.Diff(ingest.Result{Duplicates: 1}, b.ingest(t, ev("a"))); diff != "" {
		t.Errorf("redelivery while queued (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"event:a"}, b.queued(t)); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}
	// After a worker processed it and its task completed.
	b.processed(t, "a")
	if diff := cmp.Diff(ingest.Result{Duplicates: 1}, b.ingest(t, ev("a"))); diff != "" {
		t.Errorf("redelivery after processing (-want +got):\n%s", diff)
	}
	if q := b.queued(t); len(q) != 0 {
		t.Errorf("a processed event was queued again: %v", q)
	}
}
