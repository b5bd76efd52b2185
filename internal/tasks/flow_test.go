package tasks_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/ssoflow/ssoflow/internal/tasks"
	"github.com/ssoflow/ssoflow/pkg/flows"
)

func TestInvokeFlowSync(t *testing.T) {
	b := setup(t)
	input := map[string]any{"user_id": "u1"}
	b.create(t, pendingExec("ex1", flows.FlowOffboarding, input))
	// The call takes 1.5 s of the fake clock.
	b.conn.invoke = func(ctx context.Context, req flows.InvokeRequest) (*flows.Invocation, error) {
		b.clock.Advance(1500 * time.Millisecond)
		return b.conn.Connector.Invoke(ctx, req)
	}
	start := b.clock.Now()

	if err := b.h.InvokeFlow(b.ctx, invokeTask(t, "ex1")); err != nil {
		t.Fatal(err)
	}
	end := start.Add(1500 * time.Millisecond)
	want := &flows.ExecutionResult{
		ExecutionID: "ex1", FlowID: flows.FlowOffboarding, Status: flows.StatusSuccess,
		CreatedAt: t0, StartedAt: start, CompletedAt: end, UpdatedAt: end, DurationMS: 1500,
		Deadline:  start.Add(time.Minute), // the mock flows' timeout
		InputData: input, OutputData: mockOutput(t, flows.FlowOffboarding, "ex1", input),
		Attempts: 1,
	}
	if diff := cmp.Diff(want, b.get(t, "ex1")); diff != "" {
		t.Errorf("execution (-want +got):\n%s", diff)
	}
	if n := len(b.scheduled(t, tasks.QueueFlows)) + len(b.pending(t, tasks.QueueFlows)); n != 0 {
		t.Errorf("%d follow-up tasks for a finished execution, want none", n)
	}
}

func TestInvokeFlowSyncFailure(t *testing.T) {
	b := setup(t)
	b.create(t, pendingExec("ex1", flows.FlowOffboarding, map[string]any{flows.SimulateFailureKey: true}))
	if err := b.h.InvokeFlow(b.ctx, invokeTask(t, "ex1")); err != nil {
		t.Fatalf("a flow that answers failed is not a task error: %v", err)
	}
	got := b.get(t, "ex1")
	if got.Status != flows.StatusFailed || !strings.Contains(got.Error, "simulated failure") || got.Attempts != 1 {
		t.Errorf("execution: %s %q attempts %d, want failed with the flow's error after 1 attempt", got.Status, got.Error, got.Attempts)
	}
}

func TestInvokeFlowAsync(t *testing.T) {
	b := setup(t)
	input := map[string]any{"user_id": "u1"}
	b.create(t, pendingExec("ex1", flows.FlowNewHireOnboarding, input))
	now := b.clock.Now()
	before := time.Now()
	if err := b.h.InvokeFlow(b.ctx, invokeTask(t, "ex1")); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	want := &flows.ExecutionResult{
		ExecutionID: "ex1", FlowID: flows.FlowNewHireOnboarding, Status: flows.StatusRunning,
		CreatedAt: t0, StartedAt: now, UpdatedAt: now, Deadline: now.Add(time.Minute),
		InputData: input, Attempts: 1,
	}
	if diff := cmp.Diff(want, b.get(t, "ex1")); diff != "" {
		t.Errorf("execution (-want +got):\n%s", diff)
	}
	checkPollScheduled(t, b, "ex1", 1, time.Second, before, after)
}

// checkPollScheduled checks that exactly poll n of id is scheduled, about
// delay after the call that scheduled it (the queue stores whole seconds,
// and reads the real clock).
func checkPollScheduled(t *testing.T, b *bundle, id string, n int, delay time.Duration, before, after time.Time) {
	t.Helper()
	infos := b.scheduled(t, tasks.QueueFlows)
	want := []queued{{
		ID: fmt.Sprintf("poll:%s:%d", id, n), Type: tasks.TypeFlowPoll,
		Payload:  fmt.Sprintf(`{"execution_id":"%s","poll":%d}`, id, n),
		MaxRetry: tasks.PollMaxRetry, Timeout: tasks.PollTimeout,
	}}
	if diff := cmp.Diff(want, queuedOf(infos)); diff != "" {
		t.Fatalf("scheduled polls (-want +got):\n%s", diff)
	}
	at := infos[0].NextProcessAt
	if earliest, latest := before.Add(delay).Truncate(time.Second), after.Add(delay); at.Before(earliest) || at.After(latest) {
		t.Errorf("poll %d runs at %v, want %s after the call: in [%v, %v]", n, at, delay, earliest, latest)
	}
	if len(b.pending(t, tasks.QueueFlows)) != 0 {
		t.Errorf("a poll is pending at once, want it scheduled")
	}
}

func TestInvokeFlowNotPending(t *testing.T) {
	for _, st := range []flows.Status{flows.StatusRunning, flows.StatusSuccess, flows.StatusFailed, flows.StatusCancelled} {
		t.Run(string(st), func(t *testing.T) {
			b := setup(t)
			e := pendingExec("ex1", flows.FlowOffboarding, map[string]any{"user_id": "u1"})
			e.Status = st
			b.create(t, e)
			if err := b.h.InvokeFlow(b.ctx, invokeTask(t, "ex1")); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(e, b.get(t, "ex1")); diff != "" {
				t.Errorf("execution changed (-want +got):\n%s", diff)
			}
			if n := b.conn.invokes.Load(); n != 0 {
				t.Errorf("the flow was called %d times", n)
			}
			// A running execution that was never polled gets its first
			// poll: the earlier run of the task could not queue it.
			want := 0
			if st == flows.StatusRunning {
				want = 1
			}
			if n := len(b.scheduled(t, tasks.QueueFlows)); n != want {
				t.Errorf("%d polls scheduled, want %d", n, want)
			}
		})
	}
}

func TestPollFlow(t *testing.T) {
	b := setup(t)
	input := map[string]any{"user_id": "u1", "user_email": "u1@acme.test"}
	b.create(t, pendingExec("ex1", flows.FlowNewHireOnboarding, input))
	started := b.clock.Now()
	if err := b.h.InvokeFlow(b.ctx, invokeTask(t, "ex1")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.insp.DeleteAllScheduledTasks(tasks.QueueFlows); err != nil {
		t.Fatal(err)
	}

	// Poll 1, before the flow's 4 s run time: still running, poll 2 next.
	b.clock.Advance(time.Second)
	before := time.Now()
	if err := b.h.PollFlow(b.ctx, pollTask(t, "ex1", 1)); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	want := &flows.ExecutionResult{
		ExecutionID: "ex1", FlowID: flows.FlowNewHireOnboarding, Status: flows.StatusRunning,
		CreatedAt: t0, StartedAt: started, UpdatedAt: b.clock.Now(), Deadline: started.Add(time.Minute),
		InputData: input, Attempts: 1, Polls: 1,
	}
	if diff := cmp.Diff(want, b.get(t, "ex1")); diff != "" {
		t.Errorf("after poll 1 (-want +got):\n%s", diff)
	}
	checkPollScheduled(t, b, "ex1", 2, time.Second, before, after)
	if _, err := b.insp.DeleteAllScheduledTasks(tasks.QueueFlows); err != nil {
		t.Fatal(err)
	}

	// Poll 2, after the run time: success.
	b.clock.Advance(3 * time.Second)
	done := b.clock.Now()
	if err := b.h.PollFlow(b.ctx, pollTask(t, "ex1", 2)); err != nil {
		t.Fatal(err)
	}
	want.Status = flows.StatusSuccess
	want.Polls = 2
	want.CompletedAt, want.UpdatedAt = done, done
	want.DurationMS = done.Sub(started).Milliseconds()
	want.OutputData = mockOutput(t, flows.FlowNewHireOnboarding, "ex1", input)
	if diff := cmp.Diff(want, b.get(t, "ex1")); diff != "" {
		t.Errorf("after poll 2 (-want +got):\n%s", diff)
	}
	if n := len(b.scheduled(t, tasks.QueueFlows)); n != 0 {
		t.Errorf("%d polls scheduled after success", n)
	}

	// A late retry of poll 1 changes nothing.
	if err := b.h.PollFlow(b.ctx, pollTask(t, "ex1", 1)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, b.get(t, "ex1")); diff != "" {
		t.Errorf("after a late poll (-want +got):\n%s", diff)
	}
}

// TestPollFlowPastDeadline: a poll after the deadline asks the flow first.
// One that finished in time, but was polled late, gets its result; one still
// running fails as timed out, and no further poll is scheduled.
func TestPollFlowPastDeadline(t *testing.T) {
	fs := flows.MockFlows()
	for i := range fs {
		fs[i].Timeout = 2 * time.Second // under onboarding's 4 s run time
	}
	short, err := flows.NewRegistry(fs)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		registry *flows.Registry
		advance  time.Duration
		status   flows.Status
		errMsg   string
	}{
		{"finished in time, polled late", flows.MockRegistry(), time.Minute + time.Millisecond, flows.StatusSuccess, ""},
		{"still running", short, 2*time.Second + time.Millisecond, flows.StatusFailed, "timed out: no result within 2s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, withRegistry(tc.registry))
			b.create(t, pendingExec("ex1", flows.FlowNewHireOnboarding, map[string]any{"user_id": "u1"}))
			if err := b.h.InvokeFlow(b.ctx, invokeTask(t, "ex1")); err != nil {
				t.Fatal(err)
			}
			if _, err := b.insp.DeleteAllScheduledTasks(tasks.QueueFlows); err != nil {
				t.Fatal(err)
			}
			b.clock.Advance(tc.advance)
			if err := b.h.PollFlow(b.ctx, pollTask(t, "ex1", 7)); err != nil {
				t.Fatal(err)
			}
			got := b.get(t, "ex1")
			if got.Status != tc.status || got.Error != tc.errMsg || !got.CompletedAt.Equal(b.clock.Now()) {
				t.Errorf("execution: %s %q completed %v, want %s %q now", got.Status, got.Error, got.CompletedAt, tc.status, tc.errMsg)
			}
			if n := len(b.scheduled(t, tasks.QueueFlows)); n != 0 {
				t.Errorf("%d polls scheduled after the deadline", n)
			}
		})
	}
}

// TestPollDelayBoundedByDeadline: a poll is not scheduled long after the
// execution's deadline, even when the poll interval is longer.
func TestPollDelayBoundedByDeadline(t *testing.T) {
	fs := flows.MockFlows()
	for i := range fs {
		fs[i].Timeout, fs[i].PollInterval = 3*time.Second, 10*time.Second
	}
	reg, err := flows.NewRegistry(fs)
	if err != nil {
		t.Fatal(err)
	}
	b := setup(t, withRegistry(reg))
	b.create(t, pendingExec("ex1", flows.FlowNewHireOnboarding, map[string]any{"user_id": "u1"}))
	before := time.Now()
	if err := b.h.InvokeFlow(b.ctx, invokeTask(t, "ex1")); err != nil {
		t.Fatal(err)
	}
	// Deadline in 3 s: the poll comes 1 s after it, not 10 s after now.
	checkPollScheduled(t, b, "ex1", 1, 4*time.Second, before, time.Now())
}

func TestPollFlowNotRunning(t *testing.T) {
	for _, st := range []flows.Status{flows.StatusPending, flows.StatusSuccess, flows.StatusCancelled} {
		t.Run(string(st), func(t *testing.T) {
			b := setup(t)
			e := pendingExec("ex1", flows.FlowNewHireOnboarding, nil)
			e.Status = st
			b.create(t, e)
			if err := b.h.PollFlow(b.ctx, pollTask(t, "ex1", 1)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(e, b.get(t, "ex1")); diff != "" {
				t.Errorf("execution changed (-want +got):\n%s", diff)
			}
			if n := b.conn.statuses.Load(); n != 0 {
				t.Errorf("status asked %d times", n)
			}
		})
	}
}

// running creates an execution and invokes it, leaving it running.
func running(t *testing.T, b *bundle, id string) {
	t.Helper()
	b.create(t, pendingExec(id, flows.FlowNewHireOnboarding, map[string]any{"user_id": "u1"}))
	if err := b.h.InvokeFlow(b.ctx, invokeTask(t, id)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.insp.DeleteAllScheduledTasks(tasks.QueueFlows); err != nil {
		t.Fatal(err)
	}
}

// connectorFailure is a flow task whose connector call fails.
type connectorFailure struct {
	name    string
	prepare func(t *testing.T, b *bundle)
	run     func(b *bundle) error
}

// connectorFailures returns the invoke and the poll of execution ex1, each
// with its connector call failing with err.
func connectorFailures(t *testing.T, err error) []connectorFailure {
	return []connectorFailure{
		{"invoke", func(t *testing.T, b *bundle) {
			b.create(t, pendingExec("ex1", flows.FlowOffboarding, nil))
			b.conn.invoke = func(context.Context, flows.InvokeRequest) (*flows.Invocation, error) { return nil, err }
		}, func(b *bundle) error { return b.h.InvokeFlow(b.ctx, invokeTask(t, "ex1")) }},
		{"poll", func(t *testing.T, b *bundle) {
			running(t, b, "ex1")
			b.conn.status = func(context.Context, *flows.ExecutionResult) (*flows.Invocation, error) { return nil, err }
		}, func(b *bundle) error { return b.h.PollFlow(b.ctx, pollTask(t, "ex1", 1)) }},
	}
}

func TestPermanentConnectorError(t *testing.T) {
	rejected := flows.Permanent(errors.New("HTTP 400: input rejected"))
	for _, tc := range connectorFailures(t, rejected) {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			tc.prepare(t, b)
			err := tc.run(b)
			if !errors.Is(err, asynq.SkipRetry) || !errors.Is(err, rejected) {
				t.Errorf("handler: %v, want the connector's error wrapped with asynq.SkipRetry", err)
			}
			got := b.get(t, "ex1")
			if got.Status != flows.StatusFailed || !strings.Contains(got.Error, "HTTP 400: input rejected") || !got.CompletedAt.Equal(b.clock.Now()) {
				t.Errorf("execution: %s %q, want failed with the connector's error", got.Status, got.Error)
			}
			if n := len(b.scheduled(t, tasks.QueueFlows)); n != 0 {
				t.Errorf("%d polls scheduled", n)
			}
		})
	}
}

func TestUnknownFlowInRegistry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status flows.Status
		run    func(b *bundle) error
	}{
		{"invoke", flows.StatusPending, func(b *bundle) error { return b.h.InvokeFlow(b.ctx, invokeTask(t, "ex1")) }},
		{"poll", flows.StatusRunning, func(b *bundle) error { return b.h.PollFlow(b.ctx, pollTask(t, "ex1", 1)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			e := pendingExec("ex1", "flow_removed_from_registry", nil)
			e.Status = tc.status
			b.create(t, e)
			if err := tc.run(b); !errors.Is(err, asynq.SkipRetry) || !errors.Is(err, flows.ErrUnknownFlow) {
				t.Errorf("handler: %v, want flows.ErrUnknownFlow wrapped with asynq.SkipRetry", err)
			}
			if got := b.get(t, "ex1"); got.Status != flows.StatusFailed || !strings.Contains(got.Error, "flow_removed_from_registry") {
				t.Errorf("execution: %s %q, want failed naming the flow", got.Status, got.Error)
			}
			if n := b.conn.invokes.Load() + b.conn.statuses.Load(); n != 0 {
				t.Errorf("connector called %d times", n)
			}
		})
	}
}

// TestTransientConnectorError: before the last attempt a transient error is
// returned for asynq to retry, and the execution is left as it was.
func TestTransientConnectorError(t *testing.T) {
	down := errors.New("connection reset by peer")
	for _, tc := range connectorFailures(t, down) {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			tc.prepare(t, b)
			want := b.get(t, "ex1")
			err := tc.run(b)
			if !errors.Is(err, down) || errors.Is(err, asynq.SkipRetry) {
				t.Errorf("handler: %v, want the connector's error, retryable", err)
			}
			if diff := cmp.Diff(want, b.get(t, "ex1")); diff != "" {
				t.Errorf("execution changed by a retryable error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTransientConnectorErrorOnLastAttempt runs the handlers in an asynq
// server (asynq exports no way to put a retry count in a ctx): a task
// enqueued with MaxRetry(0) is on its last attempt at once. A transient
// error then fails the execution, saying how often it was tried.
func TestTransientConnectorErrorOnLastAttempt(t *testing.T) {
	down := errors.New("connection reset by peer")
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, b *bundle) *asynq.Task
		wantErr string
	}{
		{"invoke", func(t *testing.T, b *bundle) *asynq.Task {
			b.create(t, pendingExec("ex1", flows.FlowOffboarding, nil))
			b.conn.invoke = func(context.Context, flows.InvokeRequest) (*flows.Invocation, error) { return nil, down }
			return invokeTask(t, "ex1")
		}, "gave up after 1 attempts: invoke flow_offboarding: connection reset by peer"},
		{"poll", func(t *testing.T, b *bundle) *asynq.Task {
			running(t, b, "ex1")
			b.conn.status = func(context.Context, *flows.ExecutionResult) (*flows.Invocation, error) { return nil, down }
			return pollTask(t, "ex1", 1)
		}, "gave up after 1 attempts: status of flow_new_hire_onboarding: connection reset by peer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			task := tc.prepare(t, b)
			srv := asynq.NewServerFromRedisClient(b.rdb, asynq.Config{
				Concurrency:              1,
				Queues:                   map[string]int{tasks.QueueFlows: 1},
				TaskCheckInterval:        50 * time.Millisecond,
				DelayedTaskCheckInterval: 100 * time.Millisecond,
				LogLevel:                 asynq.FatalLevel,
			})
			mux := asynq.NewServeMux()
			b.h.Register(mux)
			if err := srv.Start(mux); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Shutdown)
			// Poll tasks are scheduled a second ahead; run this one now.
			if _, err := b.queue.EnqueueContext(b.ctx, task, asynq.MaxRetry(0), asynq.ProcessIn(0)); err != nil {
				t.Fatal(err)
			}
			got := waitFor(t, b, "ex1", func(e *flows.ExecutionResult) bool { return e.IsTerminal() })
			if got.Status != flows.StatusFailed || got.Error != tc.wantErr {
				t.Errorf("execution: %s %q, want failed with %q", got.Status, got.Error, tc.wantErr)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				archived, err := b.insp.ListArchivedTasks(tasks.QueueFlows)
				if err == nil && len(archived) == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the task was not archived within 10s: %v %v", archived, err)
				}
				time.Sleep(10 * time.Millisecond) // polling the queue for a condition, with a deadline
			}
		})
	}
}

func waitFor(t *testing.T, b *bundle, id string, cond func(*flows.ExecutionResult) bool) *flows.ExecutionResult {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		e := b.get(t, id)
		if cond(e) {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s still %s after 10s", id, e.Status)
		}
		time.Sleep(10 * time.Millisecond) // polling the history for a condition, with a deadline
	}
}

func TestCancelledContext(t *testing.T) {
	t.Run("before the call", func(t *testing.T) {
		for name, run := range map[string]func(*bundle, context.Context) error{
			"invoke": func(b *bundle, ctx context.Context) error { return b.h.InvokeFlow(ctx, invokeTask(t, "pending")) },
			"poll":   func(b *bundle, ctx context.Context) error { return b.h.PollFlow(ctx, pollTask(t, "running", 1)) },
		} {
			t.Run(name, func(t *testing.T) {
				b := setup(t)
				b.create(t, pendingExec("pending", flows.FlowOffboarding, nil))
				running(t, b, "running")
				b.conn.invokes.Store(0)
				wantPending, wantRunning := b.get(t, "pending"), b.get(t, "running")
				ctx, cancel := context.WithCancel(b.ctx)
				cancel()
				if err := run(b, ctx); err == nil || errors.Is(err, asynq.SkipRetry) {
					t.Errorf("handler under a cancelled ctx: %v, want a retryable error", err)
				}
				if diff := cmp.Diff(wantPending, b.get(t, "pending")); diff != "" {
					t.Errorf("pending execution changed (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(wantRunning, b.get(t, "running")); diff != "" {
					t.Errorf("running execution changed (-want +got):\n%s", diff)
				}
				if n := b.conn.invokes.Load() + b.conn.statuses.Load(); n != 0 {
					t.Errorf("connector called %d times", n)
				}
				if n := len(b.scheduled(t, tasks.QueueFlows)) + len(b.pending(t, tasks.QueueFlows)); n != 0 {
					t.Errorf("%d tasks queued", n)
				}
			})
		}
	})

	// Cancelled during the call (shutdown, Redis stall): "not done", never a
	// failed execution.
	t.Run("during the call", func(t *testing.T) {
		b := setup(t)
		b.create(t, pendingExec("ex1", flows.FlowOffboarding, nil))
		want := b.get(t, "ex1")
		ctx, cancel := context.WithCancel(b.ctx)
		b.conn.invoke = func(ctx context.Context, req flows.InvokeRequest) (*flows.Invocation, error) {
			cancel()
			<-ctx.Done()
			return nil, fmt.Errorf("call aborted: %w", ctx.Err())
		}
		err := b.h.InvokeFlow(ctx, invokeTask(t, "ex1"))
		if !errors.Is(err, context.Canceled) || errors.Is(err, asynq.SkipRetry) {
			t.Errorf("InvokeFlow: %v, want context.Canceled, retryable", err)
		}
		if diff := cmp.Diff(want, b.get(t, "ex1")); diff != "" {
			t.Errorf("execution changed (-want +got):\n%s", diff)
		}
	})
}

// TestInvokeFlowRetryAfterPollNotQueued: the invocation is recorded
// (running), then the poll cannot be queued (Redis blip, or the ctx ends at
// shutdown between the two). asynq retries the invoke task; the retry must
// leave the execution with a poll queued, or it stays running forever.
func TestInvokeFlowRetryAfterPollNotQueued(t *testing.T) {
	b := setup(t)
	b.create(t, pendingExec("ex1", flows.FlowNewHireOnboarding, map[string]any{"user_id": "u1"}))
	working := b.h.Queue
	b.h.Queue = failingQueue{errors.New("READONLY You can't write against a read only replica")}
	if err := b.h.InvokeFlow(b.ctx, invokeTask(t, "ex1")); err == nil {
		t.Fatal("InvokeFlow with a failing queue: nil error")
	}
	b.h.Queue = working
	if err := b.h.InvokeFlow(b.ctx, invokeTask(t, "ex1")); err != nil {
		t.Fatal(err)
	}
	got := b.get(t, "ex1")
	if n := len(b.scheduled(t, tasks.QueueFlows)) + len(b.pending(t, tasks.QueueFlows)); got.Status == flows.StatusRunning && n == 0 {
		t.Errorf("execution is running with no poll queued after the retry")
	}
}

func TestFlowTaskBadPayload(t *testing.T) {
	b := setup(t)
	handlers := map[string]func(context.Context, *asynq.Task) error{
		tasks.TypeFlowInvoke: b.h.InvokeFlow,
		tasks.TypeFlowPoll:   b.h.PollFlow,
	}
	for typ, h := range handlers {
		for name, payload := range map[string]string{
			"not JSON":          `{"execution_id":`,
			"no execution_id":   `{"poll":2}`,
			"wrong type":        `{"execution_id":12}`,
			"unknown execution": `{"execution_id":"ex_nope","poll":1}`,
		} {
			t.Run(typ+"/"+name, func(t *testing.T) {
				err := h(b.ctx, asynq.NewTask(typ, []byte(payload)))
				if !errors.Is(err, asynq.SkipRetry) {
					t.Errorf("%s(%s): %v, want an error wrapping asynq.SkipRetry", typ, payload, err)
				}
				if name == "unknown execution" && !errors.Is(err, flows.ErrNotFound) {
					t.Errorf("%s(%s): %v, want it to wrap flows.ErrNotFound", typ, payload, err)
				}
			})
		}
	}
}
