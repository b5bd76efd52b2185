// Package tasks defines ssoflow's queue tasks, one file a task type: its
// stable type name, its payload, the constructor that sets its queue,
// TaskID, MaxRetry and Timeout, and its handler.
//
// Every handler decides each error: permanent (wrapped with asynq.SkipRetry:
// a bad payload, a flow that does not exist), or transient (returned plain,
// retried). Every handler checks its context before each side effect, so a
// task pushed back at shutdown does nothing twice that it need not.
package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/pkg/flows"
	"github.com/ssoflow/ssoflow/pkg/rules"
)

// Queues. Work on executions already started goes before new events, so a
// burst of events cannot starve the polls of running flows.
const (
	QueueEvents = "events"
	QueueFlows  = "flows"
)

// QueuePriorities are the weights a worker serves the queues with.
var QueuePriorities = map[string]int{QueueFlows: 6, QueueEvents: 4}

// Enqueuer puts tasks on the queue; *asynq.Client is one.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Enqueue enqueues a task and treats a TaskID conflict as success: a task
// with that identity is already queued. It reports whether the task was new.
func Enqueue(ctx context.Context, q Enqueuer, task *asynq.Task) (bool, error) {
	_, err := q.EnqueueContext(ctx, task)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, asynq.ErrTaskIDConflict):
		return false, nil
	}
	return false, fmt.Errorf("enqueue %s: %w", task.Type(), err)
}

// Handlers holds what the task handlers need. Its fields are the worker's
// dependencies; all must be set.
type Handlers struct {
	// Events is the event ledger.
	Events *store.Events
	// History stores executions.
	History flows.History
	// Rules returns the current rule set.
	Rules func() *rules.Set
	// Flows is the flow registry (timeouts, poll intervals).
	Flows *flows.Registry
	// Connector runs flows.
	Connector flows.Connector
	// Queue enqueues follow-up tasks.
	Queue Enqueuer
	// Now reads the clock.
	Now func() time.Time
	// Log is the handlers' logger.
	Log zerolog.Logger
}

// Register adds every task type's handler to mux.
func (h *Handlers) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeEventProcess, h.ProcessEvent)
	mux.HandleFunc(TypeFlowInvoke, h.InvokeFlow)
	mux.HandleFunc(TypeFlowPoll, h.PollFlow)
}

// permanent wraps err so that asynq does not retry the task.
func permanent(err error) error { return fmt.Errorf("%w: %w", err, asynq.SkipRetry) }

// lastAttempt reports whether this run of the task is its last: a transient
// error now exhausts its retries.
func lastAttempt(ctx context.Context) bool {
	n, ok1 := asynq.GetRetryCount(ctx)
	maxRetry, ok2 := asynq.GetMaxRetry(ctx)
	return ok1 && ok2 && n >= maxRetry
}

// fail moves an execution to failed with msg, unless it is already
// terminal. It is how a handler gives up on an execution without losing it.
func (h *Handlers) fail(ctx context.Context, id, msg string) error {
	_, err := h.History.Update(ctx, id, func(e *flows.ExecutionResult) error {
		return e.Complete(h.Now(), flows.StatusFailed, nil, msg)
	})
	if isTerminal(err) {
		return nil
	}
	return err
}

func isTerminal(err error) bool {
	var te *flows.TerminalError
	return errors.As(err, &te)
}

// giveUpOrRetry decides a transient error of a flow task: on the last
// attempt the execution fails with the error; before, the task is retried.
// A permanent error fails the execution at once.
func (h *Handlers) giveUpOrRetry(ctx context.Context, id string, err error) error {
	switch {
	case flows.IsPermanent(err):
		if ferr := h.fail(ctx, id, err.Error()); ferr != nil {
			return ferr
		}
		return permanent(err)
	case lastAttempt(ctx):
		n, _ := asynq.GetRetryCount(ctx)
		if ferr := h.fail(ctx, id, fmt.Sprintf("gave up after %d attempts: %v", n+1, err)); ferr != nil {
			return ferr
		}
		return err
	}
	return err
}
