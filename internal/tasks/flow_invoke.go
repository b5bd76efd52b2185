package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ssoflow/ssoflow/pkg/flows"
)

// TypeFlowInvoke invokes the flow of one pending execution.
const TypeFlowInvoke = "flow:invoke"

// ExecutionPayload is the payload of the flow tasks.
type ExecutionPayload struct {
	ExecutionID string `json:"execution_id"`
	// Poll numbers the status checks of flow:poll, from 1.
	Poll int `json:"poll,omitempty"`
}

// Defaults of flow:invoke tasks. Okta drops a flow call after about 60 s,
// so the timeout leaves it room.
const (
	InvokeMaxRetry = 10
	InvokeTimeout  = 90 * time.Second
)

// NewInvokeTask returns the flow:invoke task of an execution. Its TaskID is
// the execution's, so the invocation is queued once at a time.
func NewInvokeTask(executionID string) (*asynq.Task, error) {
	payload, err := json.Marshal(ExecutionPayload{ExecutionID: executionID})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeFlowInvoke, payload,
		asynq.TaskID("invoke:"+executionID),
		asynq.Queue(QueueFlows),
		asynq.MaxRetry(InvokeMaxRetry),
		asynq.Timeout(InvokeTimeout),
	), nil
}

// errNotPending stops an update of an execution that is no longer pending.
var errNotPending = errors.New("execution is no longer pending")

// InvokeFlow handles flow:invoke. It does nothing for an execution that is
// no longer pending: it was invoked already, or finished, or cancelled. A
// crash between the call and its record makes the retry call again: flows
// see each execution at least once, with its id as correlation id.
func (h *Handlers) InvokeFlow(ctx context.Context, t *asynq.Task) error {
	_, exec, err := h.loadExecution(ctx, t)
	if err != nil {
		return err
	}
	flow, ok := h.Flows.Get(exec.FlowID)
	switch {
	case exec.Status == flows.StatusRunning && exec.Polls == 0 && ok:
		// Invoked by an earlier run of this task, which then could not
		// queue the first poll (or was stopped first): queue it now, or
		// nothing ever would. A poll already queued makes this a no-op.
		return h.schedulePoll(ctx, exec, flow, 1)
	case exec.Status != flows.StatusPending:
		return nil
	case !ok:
		return h.giveUpOrRetry(ctx, exec.ExecutionID, flows.Permanent(fmt.Errorf("%w %q", flows.ErrUnknownFlow, exec.FlowID)))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	started := h.Now()
	inv, err := h.Connector.Invoke(ctx, flows.InvokeRequest{FlowID: exec.FlowID, ExecutionID: exec.ExecutionID, Input: exec.InputData})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // cancelled, not failed: the task runs again
		}
		return h.giveUpOrRetry(ctx, exec.ExecutionID, fmt.Errorf("invoke %s: %w", exec.FlowID, err))
	}
	if err := storable(inv); err != nil {
		return h.fail(ctx, exec.ExecutionID, err.Error())
	}
	updated, err := h.History.Update(ctx, exec.ExecutionID, func(e *flows.ExecutionResult) error {
		if e.Status != flows.StatusPending {
			return errNotPending
		}
		e.Attempts++
		e.StartedAt = started
		e.Deadline = started.Add(flow.Timeout)
		if inv.Status.IsTerminal() {
			return e.Complete(h.Now(), inv.Status, inv.Output, inv.Error)
		}
		e.Status = flows.StatusRunning
		e.UpdatedAt = h.Now()
		return nil
	})
	switch {
	case errors.Is(err, errNotPending), isTerminal(err):
		return nil
	case err != nil:
		return err
	}
	h.Log.Debug().Str("execution_id", updated.ExecutionID).Str("flow_id", updated.FlowID).Str("status", string(updated.Status)).Msg("flow invoked")
	if updated.Status != flows.StatusRunning {
		return nil
	}
	return h.schedulePoll(ctx, updated, flow, 1)
}

// schedulePoll enqueues status check n of a running execution, after the
// flow's poll interval but not long after its deadline.
func (h *Handlers) schedulePoll(ctx context.Context, exec *flows.ExecutionResult, flow flows.Flow, n int) error {
	delay := flow.PollInterval
	if untilDeadline := exec.Deadline.Sub(h.Now()) + time.Second; untilDeadline < delay {
		delay = max(untilDeadline, time.Second)
	}
	task, err := NewPollTask(exec.ExecutionID, n, delay)
	if err != nil {
		return permanent(err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err = Enqueue(ctx, h.Queue, task)
	return err
}

// storable reports an output that the history could not store as JSON (NaN
// or an infinity in it): retrying would not help, so the execution fails
// saying why.
func storable(inv *flows.Invocation) error {
	if _, err := json.Marshal(inv.Output); err != nil {
		return fmt.Errorf("the flow's output cannot be stored: %v", err)
	}
	return nil
}

// loadExecution decodes a flow task's payload and reads its execution. A
// bad payload or a missing execution is permanent.
func (h *Handlers) loadExecution(ctx context.Context, t *asynq.Task) (ExecutionPayload, *flows.ExecutionResult, error) {
	var p ExecutionPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, nil, permanent(fmt.Errorf("decode %s payload: %w", t.Type(), err))
	}
	if p.ExecutionID == "" {
		return p, nil, permanent(fmt.Errorf("%s payload has no execution_id", t.Type()))
	}
	exec, err := h.History.Get(ctx, p.ExecutionID)
	if errors.Is(err, flows.ErrNotFound) {
		return p, nil, permanent(err)
	}
	return p, exec, err
}
