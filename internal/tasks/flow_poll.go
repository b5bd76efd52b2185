package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ssoflow/ssoflow/pkg/flows"
)

// TypeFlowPoll checks a running execution once, and schedules the next
// check until the execution is terminal or past its deadline.
const TypeFlowPoll = "flow:poll"

// Defaults of flow:poll tasks.
const (
	PollMaxRetry = 10
	PollTimeout  = 30 * time.Second
)

// NewPollTask returns status check n of an execution, to run after delay
// (the queue counts in whole seconds). Each check has its own TaskID, so a
// retried check never schedules its successor twice.
func NewPollTask(executionID string, n int, delay time.Duration) (*asynq.Task, error) {
	payload, err := json.Marshal(ExecutionPayload{ExecutionID: executionID, Poll: n})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeFlowPoll, payload,
		asynq.TaskID(fmt.Sprintf("poll:%s:%d", executionID, n)),
		asynq.Queue(QueueFlows),
		asynq.MaxRetry(PollMaxRetry),
		asynq.Timeout(PollTimeout),
		asynq.ProcessIn(delay),
	), nil
}

// PollFlow handles flow:poll.
func (h *Handlers) PollFlow(ctx context.Context, t *asynq.Task) error {
	p, exec, err := h.loadExecution(ctx, t)
	if err != nil {
		return err
	}
	if exec.Status != flows.StatusRunning {
		return nil // finished (by a callback, a cancel or an earlier check)
	}
	flow, ok := h.Flows.Get(exec.FlowID)
	if !ok {
		return h.giveUpOrRetry(ctx, exec.ExecutionID, flows.Permanent(fmt.Errorf("%w %q", flows.ErrUnknownFlow, exec.FlowID)))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Ask first, even past the deadline: a flow that finished in time but
	// was polled late (a backlog, a sweep) gets its real result.
	inv, err := h.Connector.Status(ctx, exec)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return h.giveUpOrRetry(ctx, exec.ExecutionID, fmt.Errorf("status of %s: %w", exec.FlowID, err))
	}
	if !inv.Status.IsTerminal() && !exec.Deadline.IsZero() && h.Now().After(exec.Deadline) {
		return h.fail(ctx, exec.ExecutionID, fmt.Sprintf("timed out: no result within %s", flow.Timeout))
	}
	if err := storable(inv); err != nil {
		return h.fail(ctx, exec.ExecutionID, err.Error())
	}
	updated, err := h.History.Update(ctx, exec.ExecutionID, func(e *flows.ExecutionResult) error {
		e.Polls = max(e.Polls, p.Poll)
		if inv.Status.IsTerminal() {
			return e.Complete(h.Now(), inv.Status, inv.Output, inv.Error)
		}
		if e.IsTerminal() {
			return &flows.TerminalError{ExecutionID: e.ExecutionID, Status: e.Status}
		}
		e.UpdatedAt = h.Now()
		return nil
	})
	switch {
	case isTerminal(err):
		return nil
	case err != nil:
		return err
	}
	if updated.IsTerminal() {
		h.Log.Debug().Str("execution_id", updated.ExecutionID).Str("status", string(updated.Status)).Int("polls", p.Poll).Msg("flow finished")
		return nil
	}
	return h.schedulePoll(ctx, updated, flow, p.Poll+1)
}
