package flows

import (
	"context"
	"errors"
	"time"
)

// Connector runs flows. Implementations must be safe for concurrent use.
type Connector interface {
	// Invoke starts the flow. The execution id travels with the call as the
	// correlation id, so that an async flow can report back and a flow can
	// recognise a repeated call. The returned Invocation is terminal when
	// the flow answered synchronously, running when it answered early.
	Invoke(ctx context.Context, req InvokeRequest) (*Invocation, error)
	// Status reports where an invoked execution stands now.
	Status(ctx context.Context, exec *ExecutionResult) (*Invocation, error)
	// List returns the flows this connector runs, only those of flowType
	// when it is not empty.
	List(ctx context.Context, flowType string) ([]Flow, error)
	// Close releases the connector's resources.
	Close() error
}

// FlowChecker is implemented by connectors that can tell, when a registry
// is built, whether they can run a flow: NewRouter refuses a registry with a
// flow its connector cannot run, rather than failing every execution later.
type FlowChecker interface {
	CheckFlow(Flow) error
}

// InvokeRequest is one call of a flow.
type InvokeRequest struct {
	FlowID      string
	ExecutionID string
	Input       map[string]any
}

// Invocation is what a connector learned of an execution.
type Invocation struct {
	// Status is running, or terminal when the flow has finished.
	Status Status
	// Output is what the flow returned, when it has.
	Output map[string]any
	// Error says why it failed.
	Error string
}

// Flow describes a flow that ssoflow can run.
type Flow struct {
	// ID is how rules and the API name the flow.
	ID string `json:"id" yaml:"id"`
	// Name is its human name.
	Name string `json:"name" yaml:"name"`
	// Type groups flows for list_flows(filter_type): lifecycle, security,
	// access, password, ...
	Type string `json:"type" yaml:"type"`
	// Description says what it does.
	Description string `json:"description,omitempty" yaml:"description"`
	// Connector is what runs it: "mock" for the built-in demo flows.
	Connector string `json:"connector" yaml:"connector"`
	// Timeout bounds how long an execution may run before it is failed as
	// timed out. Zero means DefaultTimeout.
	Timeout time.Duration `json:"-" yaml:"timeout"`
	// PollInterval is how often a running execution is checked. Zero means
	// DefaultPollInterval.
	PollInterval time.Duration `json:"-" yaml:"poll_interval"`
}

// Defaults from the seed (OKTA_WORKFLOWS_TIMEOUT, OKTA_WORKFLOWS_POLL_INTERVAL).
const (
	DefaultTimeout      = 300 * time.Second
	DefaultPollInterval = 2 * time.Second
)

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot fix (an unknown flow, a
// 4xx answer). A connector returns it so that callers fail the execution at
// once instead of retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// ErrUnknownFlow is returned for a flow id that nothing knows.
var ErrUnknownFlow = errors.New("unknown flow")
