package flows

import (
	"context"
	"errors"
)

// ErrNotFound is returned for an execution that does not exist.
var ErrNotFound = errors.New("execution not found")

// History stores executions. Implementations must be safe for concurrent use
// and across processes: ssoflow's Redis history is shared by the whole
// worker fleet.
type History interface {
	// Create stores a new execution. It reports false, and changes nothing,
	// when an execution with that id already exists.
	Create(ctx context.Context, exec *ExecutionResult) (bool, error)
	// Get returns one execution, or ErrNotFound.
	Get(ctx context.Context, id string) (*ExecutionResult, error)
	// Update applies change to the current state of an execution and stores
	// the result atomically: if another writer got there first, change runs
	// again on the newer state. An error from change aborts the update and
	// is returned.
	Update(ctx context.Context, id string, change func(*ExecutionResult) error) (*ExecutionResult, error)
	// List returns executions newest first.
	List(ctx context.Context, q Query) ([]*ExecutionResult, error)
}

// Query selects executions from a History.
type Query struct {
	// FlowID, when not empty, keeps the executions of this flow.
	FlowID string
	// Status, when not empty, keeps the executions with this status.
	Status Status
	// Limit bounds the result; zero means DefaultListLimit.
	Limit int
}

// List limits.
const (
	DefaultListLimit = 100
	MaxListLimit     = 10000
)

// EffectiveLimit returns the limit to apply: the default for zero, capped
// at MaxListLimit.
func (q Query) EffectiveLimit() int {
	switch {
	case q.Limit <= 0:
		return DefaultListLimit
	case q.Limit > MaxListLimit:
		return MaxListLimit
	}
	return q.Limit
}
