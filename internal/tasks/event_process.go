package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ssoflow/ssoflow/pkg/events"
	"github.com/ssoflow/ssoflow/pkg/flows"
)

// TypeEventProcess evaluates the rules for one event and starts the
// executions it triggers.
const TypeEventProcess = "event:process"

// EventPayload is the payload of an event:process task: the whole event,
// so that the worker needs nothing else to process it.
type EventPayload struct {
	Event events.SSOEvent `json:"event"`
}

// Defaults of event:process tasks.
const (
	EventMaxRetry = 12
	EventTimeout  = 60 * time.Second
)

// EventTaskID is the TaskID of an event's processing task: while that task
// exists, enqueueing the event again is a no-op.
func EventTaskID(eventID string) string { return "event:" + eventID }

// NewEventTask returns the event:process task of an event.
func NewEventTask(ev *events.SSOEvent) (*asynq.Task, error) {
	payload, err := json.Marshal(EventPayload{Event: *ev})
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", ev.EventID, err)
	}
	return asynq.NewTask(TypeEventProcess, payload,
		asynq.TaskID(EventTaskID(ev.EventID)),
		asynq.Queue(QueueEvents),
		asynq.MaxRetry(EventMaxRetry),
		asynq.Timeout(EventTimeout),
	), nil
}

// ProcessEvent handles event:process. For each rule the event triggers it
// creates the execution (its id derived from rule, version and event, so a
// rerun finds it instead of making a second) and enqueues its invocation.
// A rule whose condition or input cannot be evaluated yields a failed
// execution that says why, not silence.
func (h *Handlers) ProcessEvent(ctx context.Context, t *asynq.Task) error {
	var p EventPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return permanent(fmt.Errorf("decode event payload: %w", err))
	}
	ev := &p.Event
	if ev.EventID == "" {
		return permanent(errors.New("event payload has no event_id"))
	}
	matches := h.Rules().Match(ev)
	ids := make([]string, 0, len(matches))
	for _, m := range matches {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := h.Now()
		exec := &flows.ExecutionResult{
			ExecutionID: flows.ExecutionIDFor(m.Rule.ID, m.Rule.Version, ev.EventID),
			FlowID:      m.Rule.FlowID,
			Status:      flows.StatusPending,
			CreatedAt:   now,
			UpdatedAt:   now,
			InputData:   m.Input,
			EventID:     ev.EventID,
			RuleID:      m.Rule.ID,
			RuleVersion: m.Rule.Version,
		}
		_, inputErr := json.Marshal(m.Input)
		switch {
		case m.Err != nil:
			_ = exec.Complete(now, flows.StatusFailed, nil, m.Err.Error())
		case inputErr != nil:
			exec.InputData = nil
			_ = exec.Complete(now, flows.StatusFailed, nil, fmt.Sprintf("rule %q: input cannot be sent as JSON: %v", m.Rule.ID, inputErr))
		case !h.Flows.Has(m.Rule.FlowID):
			_ = exec.Complete(now, flows.StatusFailed, nil, fmt.Sprintf("%v %q", flows.ErrUnknownFlow, m.Rule.FlowID))
		}
		created, err := h.History.Create(ctx, exec)
		if err != nil {
			return err
		}
		ids = append(ids, exec.ExecutionID)
		if !created {
			h.Log.Debug().Str("execution_id", exec.ExecutionID).Str("event_id", ev.EventID).Msg("execution exists; not starting it again")
		}
		if exec.Status != flows.StatusPending {
			continue
		}
		// Enqueue even when the execution existed: a crash may have come
		// between its creation and this enqueue. The invoke handler does
		// nothing for an execution that is no longer pending.
		task, err := NewInvokeTask(exec.ExecutionID)
		if err != nil {
			return permanent(err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := Enqueue(ctx, h.Queue, task); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.Events.MarkProcessed(ctx, ev.EventID, ids); err != nil {
		return err
	}
	h.Log.Debug().Str("event_id", ev.EventID).Str("event_type", ev.EventType).Int("executions", len(ids)).Msg("event processed")
	return nil
}
