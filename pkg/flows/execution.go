package flows

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Status is where an execution stands.
type Status string

// The statuses of an execution. pending and running are live; the others are
// terminal and never change again.
const (
	StatusPending   Status = "pending"
	StatusRunning   Status = "running"
	StatusSuccess   Status = "success"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// Statuses lists every status, live ones first.
var Statuses = []Status{StatusPending, StatusRunning, StatusSuccess, StatusFailed, StatusCancelled}

// IsTerminal reports whether the status is final.
func (s Status) IsTerminal() bool {
	return s == StatusSuccess || s == StatusFailed || s == StatusCancelled
}

// Valid reports whether s is one of the five statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusRunning, StatusSuccess, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// ExecutionResult is one execution of a flow: what it was given, where it
// stands and what it returned. Field names in JSON are the seed's.
type ExecutionResult struct {
	// ExecutionID identifies the execution. For rule-triggered executions it
	// is derived from (rule id, rule version, event id): see ExecutionIDFor.
	ExecutionID string `json:"execution_id"`
	// FlowID is the flow that runs.
	FlowID string `json:"flow_id"`
	// Status is where it stands.
	Status Status `json:"status"`
	// CreatedAt is when ssoflow decided to run the flow.
	CreatedAt time.Time `json:"created_at"`
	// StartedAt is when the flow was invoked; zero until then.
	StartedAt time.Time `json:"started_at,omitzero"`
	// CompletedAt is when the execution reached a terminal status.
	CompletedAt time.Time `json:"completed_at,omitzero"`
	// DurationMS is CompletedAt minus StartedAt, in milliseconds.
	DurationMS int64 `json:"duration_ms"`
	// InputData is what the flow was sent.
	InputData map[string]any `json:"input_data"`
	// OutputData is what the flow returned.
	OutputData map[string]any `json:"output_data"`
	// Error says why a failed or cancelled execution did not succeed.
	Error string `json:"error,omitempty"`
	// EventID is the event that triggered the execution, if any.
	EventID string `json:"event_id,omitempty"`
	// RuleID and RuleVersion name the rule that triggered it, if any.
	RuleID      string `json:"rule_id,omitempty"`
	RuleVersion int    `json:"rule_version,omitempty"`
	// Attempts counts the invocations made.
	Attempts int `json:"attempts"`
	// Polls counts the status checks made.
	Polls int `json:"polls"`
	// Deadline is when a running execution is given up as timed out.
	Deadline time.Time `json:"deadline,omitzero"`
	// UpdatedAt is when the record last changed.
	UpdatedAt time.Time `json:"updated_at"`
}

// IsSuccess reports whether the execution succeeded.
func (e *ExecutionResult) IsSuccess() bool { return e.Status == StatusSuccess }

// IsFailed reports whether the execution failed.
func (e *ExecutionResult) IsFailed() bool { return e.Status == StatusFailed }

// IsTerminal reports whether the execution has finished, however it ended.
func (e *ExecutionResult) IsTerminal() bool { return e.Status.IsTerminal() }

// Complete moves the execution to a terminal status at time now, with its
// output or error. It fails if the execution is already terminal: a
// finished execution never changes.
func (e *ExecutionResult) Complete(now time.Time, status Status, output map[string]any, errMsg string) error {
	if e.IsTerminal() {
		return &TerminalError{ExecutionID: e.ExecutionID, Status: e.Status}
	}
	if !status.IsTerminal() {
		return fmt.Errorf("flows: %q is not a terminal status", status)
	}
	e.Status = status
	e.OutputData = output
	e.Error = errMsg
	e.CompletedAt = now
	if !e.StartedAt.IsZero() {
		e.DurationMS = now.Sub(e.StartedAt).Milliseconds()
	}
	e.UpdatedAt = now
	return nil
}

// Err returns an *ExecutionError for a failed or cancelled execution, and nil
// otherwise.
func (e *ExecutionResult) Err() error {
	if e.Status != StatusFailed && e.Status != StatusCancelled {
		return nil
	}
	return &ExecutionError{ExecutionID: e.ExecutionID, FlowID: e.FlowID, Status: e.Status, Message: e.Error}
}

// ExecutionError is a flow execution that did not succeed.
type ExecutionError struct {
	ExecutionID string
	FlowID      string
	Status      Status
	Message     string
}

func (e *ExecutionError) Error() string {
	return fmt.Sprintf("execution %s of %s %s: %s", e.ExecutionID, e.FlowID, e.Status, e.Message)
}

// TerminalError is returned when something tries to change an execution that
// has already finished.
type TerminalError struct {
	ExecutionID string
	Status      Status
}

func (e *TerminalError) Error() string {
	return fmt.Sprintf("execution %s is already %s", e.ExecutionID, e.Status)
}

// ExecutionIDFor derives the identity of the execution that a rule (at a
// version) starts for an event. Redelivery and replay of the event derive
// the same id, so they never start a second execution of the same pair.
func ExecutionIDFor(ruleID string, ruleVersion int, eventID string) string {
	h := sha256.New()
	for _, part := range []string{ruleID, strconv.Itoa(ruleVersion), eventID} {
		// Length-prefixed, so that no choice of parts can collide with
		// another by moving bytes across a boundary.
		fmt.Fprintf(h, "%d:%s", len(part), part)
	}
	return "ex_" + hex.EncodeToString(h.Sum(nil)[:12])
}
