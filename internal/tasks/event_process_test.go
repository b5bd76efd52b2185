package tasks_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hibiken/asynq"

	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/internal/tasks"
	"github.com/ssoflow/ssoflow/pkg/flows"
)

func TestNewEventTask(t *testing.T) {
	b := setup(t)
	ev := newEvent("ev1", "user.lifecycle.create", "u1")
	isNew, err := tasks.Enqueue(b.ctx, b.queue, eventTask(t, ev))
	if err != nil || !isNew {
		t.Fatalf("Enqueue: %v %v, want true", isNew, err)
	}
	isNew, err = tasks.Enqueue(b.ctx, b.queue, eventTask(t, ev))
	if err != nil || isNew {
		t.Fatalf("Enqueue again: %v %v, want false (its TaskID is taken)", isNew, err)
	}
	got := b.pending(t, tasks.QueueEvents)
	if len(got) != 1 {
		t.Fatalf("%d pending event tasks, want 1", len(got))
	}
	want := queued{ID: "event:ev1", Type: tasks.TypeEventProcess, MaxRetry: tasks.EventMaxRetry, Timeout: tasks.EventTimeout}
	q := queuedOf(got)[0]
	q.Payload = ""
	if diff := cmp.Diff(want, q); diff != "" {
		t.Errorf("event task (-want +got):\n%s", diff)
	}
	// The payload carries the whole event.
	var p tasks.EventPayload
	if err := json.Unmarshal(got[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ev, p.Event); diff != "" {
		t.Errorf("payload event (-want +got):\n%s", diff)
	}
}

func TestEnqueueError(t *testing.T) {
	boom := errors.New("queue down")
	_, err := tasks.Enqueue(t.Context(), failingQueue{boom}, invokeTask(t, "ex1"))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), tasks.TypeFlowInvoke) {
		t.Errorf("Enqueue on a failing queue: %v, want the queue's error naming the task type", err)
	}
}

type failingQueue struct{ err error }

func (q failingQueue) EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
	return nil, q.err
}

func TestProcessEventCreatesExecutions(t *testing.T) {
	b := setup(t)
	ev := newEvent("ev1", "user.lifecycle.create", "u1")
	b.ingest(t, ev)
	b.clock.Advance(time.Second)
	now := b.clock.Now()

	if err := b.h.ProcessEvent(b.ctx, eventTask(t, ev)); err != nil {
		t.Fatal(err)
	}

	onboard := flows.ExecutionIDFor("onboard", 1, "ev1")
	remind := flows.ExecutionIDFor("remind", 3, "ev1")
	want := []*flows.ExecutionResult{
		{
			ExecutionID: onboard, FlowID: flows.FlowNewHireOnboarding, Status: flows.StatusPending,
			CreatedAt: now, UpdatedAt: now,
			InputData: map[string]any{"user_id": "u1", "user_email": "u1@acme.test"},
			EventID:   "ev1", RuleID: "onboard", RuleVersion: 1,
		},
		{
			ExecutionID: remind, FlowID: flows.FlowPasswordExpiry, Status: flows.StatusPending,
			CreatedAt: now, UpdatedAt: now,
			InputData: map[string]any{"user_id": "u1"},
			EventID:   "ev1", RuleID: "remind", RuleVersion: 3,
		},
	}
	for _, w := range want {
		if diff := cmp.Diff(w, b.get(t, w.ExecutionID)); diff != "" {
			t.Errorf("execution of rule %s (-want +got):\n%s", w.RuleID, diff)
		}
	}
	all, err := b.execs.List(b.ctx, flows.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Errorf("%d executions, want 2 (the disabled rule makes none)", len(all))
	}

	wantTasks := []queued{
		{ID: "invoke:" + onboard, Type: tasks.TypeFlowInvoke, Payload: invokePayload(onboard), MaxRetry: tasks.InvokeMaxRetry, Timeout: tasks.InvokeTimeout},
		{ID: "invoke:" + remind, Type: tasks.TypeFlowInvoke, Payload: invokePayload(remind), MaxRetry: tasks.InvokeMaxRetry, Timeout: tasks.InvokeTimeout},
	}
	if diff := cmp.Diff(sortQueued(wantTasks), queuedOf(b.pending(t, tasks.QueueFlows))); diff != "" {
		t.Errorf("queued invocations (-want +got):\n%s", diff)
	}

	rec, err := b.events.Get(b.ctx, "ev1")
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != store.StateProcessed {
		t.Errorf("event state %q, want processed", rec.State)
	}
	if diff := cmp.Diff([]string{onboard, remind}, rec.ExecutionIDs); diff != "" {
		t.Errorf("event's executions (-want +got):\n%s", diff)
	}
	if b.conn.invokes.Load() != 0 {
		t.Error("ProcessEvent called a flow itself")
	}
}

func TestProcessEventTwice(t *testing.T) {
	b := setup(t)
	ev := newEvent("ev1", "user.lifecycle.deactivate", "u1")
	b.ingest(t, ev)
	if err := b.h.ProcessEvent(b.ctx, eventTask(t, ev)); err != nil {
		t.Fatal(err)
	}
	id := flows.ExecutionIDFor("offboard", 1, "ev1")
	first := b.get(t, id)
	firstTasks := queuedOf(b.pending(t, tasks.QueueFlows))

	// Redelivered while the invocation is still queued.
	b.clock.Advance(time.Minute)
	if err := b.h.ProcessEvent(b.ctx, eventTask(t, ev)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, b.get(t, id)); diff != "" {
		t.Errorf("a second run changed the execution (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(firstTasks, queuedOf(b.pending(t, tasks.QueueFlows))); diff != "" {
		t.Errorf("a second run queued another invocation (-first +now):\n%s", diff)
	}
	all, err := b.execs.List(b.ctx, flows.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{id}, idsOf(all)); diff != "" {
		t.Errorf("executions (-want +got):\n%s", diff)
	}

	// Redelivered after the execution finished: the flow is not run again.
	if err := b.h.InvokeFlow(b.ctx, invokeTask(t, id)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.insp.DeleteAllPendingTasks(tasks.QueueFlows); err != nil {
		t.Fatal(err)
	}
	done := b.get(t, id)
	if done.Status != flows.StatusSuccess {
		t.Fatalf("execution %s, want success", done.Status)
	}
	if err := b.h.ProcessEvent(b.ctx, eventTask(t, ev)); err != nil {
		t.Fatal(err)
	}
	for _, task := range b.pending(t, tasks.QueueFlows) {
		if err := b.h.InvokeFlow(b.ctx, asynq.NewTask(task.Type, task.Payload)); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(done, b.get(t, id)); diff != "" {
		t.Errorf("a late redelivery changed the finished execution (-want +got):\n%s", diff)
	}
	if n := b.conn.invokes.Load(); n != 1 {
		t.Errorf("the flow was called %d times, want once", n)
	}
	rec, err := b.events.Get(b.ctx, "ev1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{id}, rec.ExecutionIDs); diff != "" {
		t.Errorf("event's executions (-want +got):\n%s", diff)
	}
}

func idsOf(es []*flows.ExecutionResult) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ExecutionID)
	}
	return out
}

func TestProcessEventNoMatch(t *testing.T) {
	b := setup(t)
	ev := newEvent("ev1", "user.session.start", "u1")
	b.ingest(t, ev)
	if err := b.h.ProcessEvent(b.ctx, eventTask(t, ev)); err != nil {
		t.Fatal(err)
	}
	rec, err := b.events.Get(b.ctx, "ev1")
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != store.StateProcessed || len(rec.ExecutionIDs) != 0 {
		t.Errorf("event: state %q executions %v, want processed with none", rec.State, rec.ExecutionIDs)
	}
	if got := b.pending(t, tasks.QueueFlows); len(got) != 0 {
		t.Errorf("%d tasks queued for an event no rule wants", len(got))
	}
}

// TestProcessEventRuleErrors: a rule whose condition or input fails at run
// time leaves a failed execution that says why; nothing is invoked.
func TestProcessEventRuleErrors(t *testing.T) {
	b := setup(t)
	ev := newEvent("ev1", "user.account.lock", "u1")
	b.ingest(t, ev)
	now := b.clock.Now()
	if err := b.h.ProcessEvent(b.ctx, eventTask(t, ev)); err != nil {
		t.Fatal(err)
	}
	inputID := flows.ExecutionIDFor("broken-input", 1, "ev1")
	condID := flows.ExecutionIDFor("broken-condition", 1, "ev1")
	failed := func(id, rule string, input map[string]any) *flows.ExecutionResult {
		return &flows.ExecutionResult{
			ExecutionID: id, FlowID: flows.FlowMFARemediation, Status: flows.StatusFailed,
			CreatedAt: now, UpdatedAt: now, CompletedAt: now, InputData: input,
			EventID: "ev1", RuleID: rule, RuleVersion: 1,
		}
	}
	for _, tc := range []struct {
		want   *flows.ExecutionResult
		errHas string
	}{
		{failed(inputID, "broken-input", map[string]any{"user_id": "u1"}), `rule "broken-input": input.attempts:`},
		{failed(condID, "broken-condition", nil), `rule "broken-condition": condition:`},
	} {
		got := b.get(t, tc.want.ExecutionID)
		if !strings.Contains(got.Error, tc.errHas) {
			t.Errorf("execution of %s: error %q, want it to contain %q", tc.want.RuleID, got.Error, tc.errHas)
		}
		if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(flows.ExecutionResult{}, "Error")); diff != "" {
			t.Errorf("execution of %s (-want +got):\n%s", tc.want.RuleID, diff)
		}
	}
	if got := b.pending(t, tasks.QueueFlows); len(got) != 0 {
		t.Errorf("%d invocations queued for failed executions, want none", len(got))
	}
	rec, err := b.events.Get(b.ctx, "ev1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{inputID, condID}, rec.ExecutionIDs); diff != "" {
		t.Errorf("event's executions (-want +got):\n%s", diff)
	}
}

func TestProcessEventUnknownFlow(t *testing.T) {
	b := setup(t, withRules(`
rules:
  - id: ghost
    event_types: [user.lifecycle.create]
    flow_id: flow_that_is_not_registered
`))
	ev := newEvent("ev1", "user.lifecycle.create", "u1")
	b.ingest(t, ev)
	if err := b.h.ProcessEvent(b.ctx, eventTask(t, ev)); err != nil {
		t.Fatal(err)
	}
	got := b.get(t, flows.ExecutionIDFor("ghost", 1, "ev1"))
	if got.Status != flows.StatusFailed || !strings.Contains(got.Error, `unknown flow "flow_that_is_not_registered"`) {
		t.Errorf("execution: %s %q, want failed naming the unknown flow", got.Status, got.Error)
	}
	if n := len(b.pending(t, tasks.QueueFlows)); n != 0 {
		t.Errorf("%d invocations queued", n)
	}
}

// TestProcessEventUnencodableInput: an input expression may evaluate to a
// number JSON cannot hold (1/0 is +Inf in expr). The rule cannot run, so the
// design wants a failed execution that says why, not an event whose task
// retries and is archived without a trace in the history.
func TestProcessEventUnencodableInput(t *testing.T) {
	b := setup(t, withRules(`
rules:
  - id: ratio
    event_types: [user.lifecycle.create]
    flow_id: flow_offboarding
    input:
      ratio: 1 / (len(user_id) - len(user_id))
`))
	ev := newEvent("ev1", "user.lifecycle.create", "u1")
	b.ingest(t, ev)
	err := b.h.ProcessEvent(b.ctx, eventTask(t, ev))
	if err != nil && !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("ProcessEvent: %v, want nil or a permanent error", err)
	}
	got, gerr := b.execs.Get(b.ctx, flows.ExecutionIDFor("ratio", 1, "ev1"))
	if gerr != nil {
		t.Fatalf("no execution recorded for the rule: %v", gerr)
	}
	if got.Status != flows.StatusFailed || got.Error == "" {
		t.Errorf("execution: %s %q, want failed with the reason", got.Status, got.Error)
	}
}

func TestProcessEventCancelled(t *testing.T) {
	b := setup(t)
	ev := newEvent("ev1", "user.lifecycle.create", "u1")
	b.ingest(t, ev)
	ctx, cancel := context.WithCancel(b.ctx)
	cancel()
	if err := b.h.ProcessEvent(ctx, eventTask(t, ev)); !errors.Is(err, context.Canceled) {
		t.Errorf("ProcessEvent with a cancelled ctx: %v, want context.Canceled", err)
	}
	all, err := b.execs.List(b.ctx, flows.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 0 {
		t.Errorf("%d executions created under a cancelled ctx", len(all))
	}
	if n := len(b.pending(t, tasks.QueueFlows)); n != 0 {
		t.Errorf("%d invocations queued under a cancelled ctx", n)
	}
	rec, err := b.events.Get(b.ctx, "ev1")
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != store.StateReceived {
		t.Errorf("event %s after a cancelled run, want received", rec.State)
	}
}

func TestProcessEventBadPayload(t *testing.T) {
	b := setup(t)
	for name, payload := range map[string]string{
		"not JSON":            `{"event":`,
		"no event_id":         `{"event":{"event_type":"user.lifecycle.create"}}`,
		"event not an object": `{"event":5}`,
		"empty":               ``,
	} {
		t.Run(name, func(t *testing.T) {
			err := b.h.ProcessEvent(b.ctx, asynq.NewTask(tasks.TypeEventProcess, []byte(payload)))
			if !errors.Is(err, asynq.SkipRetry) {
				t.Errorf("ProcessEvent(%q): %v, want an error wrapping asynq.SkipRetry", payload, err)
			}
		})
	}
}
