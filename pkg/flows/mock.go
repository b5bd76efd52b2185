package flows

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// Mock flow ids: the seed's five demo flows.
const (
	FlowNewHireOnboarding = "flow_new_hire_onboarding"
	FlowOffboarding       = "flow_offboarding"
	FlowMFARemediation    = "flow_mfa_remediation"
	FlowAccessRequest     = "flow_access_request"
	FlowPasswordExpiry    = "flow_password_expiry"
)

// MockConnectorName is the connector name of the mock's flows in a registry.
const MockConnectorName = "mock"

// SimulateFailureKey is the input field that makes a mock flow fail: an
// execution whose input has "simulate_failure": true ends failed.
const SimulateFailureKey = "simulate_failure"

type mockFlow struct {
	Flow
	runTime time.Duration // zero: the flow answers synchronously
	output  func(id string, in map[string]any) map[string]any
}

// mockFlows are the seed's demo flows. Some answer at once (a Return card);
// some answer early and finish only after a few polls (a Close card).
var mockFlows = []mockFlow{
	{
		Flow: Flow{ID: FlowNewHireOnboarding, Name: "New hire onboarding", Type: "lifecycle",
			Description: "Creates the new hire's accounts and sends the welcome email."},
		runTime: 4 * time.Second,
		output: func(id string, in map[string]any) map[string]any {
			return map[string]any{
				"user_id":            in["user_id"],
				"accounts_created":   []any{"google_workspace", "slack", "github"},
				"welcome_email_sent": true,
			}
		},
	},
	{
		Flow: Flow{ID: FlowOffboarding, Name: "Offboarding", Type: "lifecycle",
			Description: "Disables the leaver's accounts, revokes sessions and reclaims licences."},
		output: func(id string, in map[string]any) map[string]any {
			return map[string]any{
				"user_id":            in["user_id"],
				"accounts_disabled":  1 + pick(id, 4),
				"sessions_revoked":   true,
				"licenses_reclaimed": pick(id+"l", 3),
			}
		},
	},
	{
		Flow: Flow{ID: FlowMFARemediation, Name: "MFA remediation", Type: "security",
			Description: "Opens a security ticket and sends the user a factor reset link."},
		output: func(id string, in map[string]any) map[string]any {
			return map[string]any{
				"user_id": in["user_id"],
				"action":  "factor_reset_link_sent",
				"ticket":  fmt.Sprintf("SEC-%05d", pick(id, 100000)),
			}
		},
	},
	{
		Flow: Flow{ID: FlowAccessRequest, Name: "Access request", Type: "access",
			Description: "Records the app assignment and asks the app owner to confirm it."},
		runTime: 2 * time.Second,
		output: func(id string, in map[string]any) map[string]any {
			return map[string]any{
				"user_id":    in["user_id"],
				"request_id": fmt.Sprintf("AR-%06d", pick(id, 1000000)),
				"approval":   "auto_approved",
			}
		},
	},
	{
		Flow: Flow{ID: FlowPasswordExpiry, Name: "Password expiry", Type: "password",
			Description: "Tells the user their password expires and how to change it."},
		output: func(id string, in map[string]any) map[string]any {
			return map[string]any{
				"user_id":           in["user_id"],
				"notification_sent": true,
				"channel":           "email",
			}
		},
	},
}

// pick returns a number in [0, n) derived from s, so that mock outputs are
// the same for the same execution.
func pick(s string, n int) int {
	sum := sha256.Sum256([]byte(s))
	return int(binary.BigEndian.Uint32(sum[:4]) % uint32(n))
}

// Mock is a Connector that runs the seed's five demo flows in process. Its
// state is derived from the execution itself (when it started), not kept in
// memory, so an execution invoked by one worker can be polled by another.
type Mock struct {
	now func() time.Time
}

// MockOption configures a Mock.
type MockOption func(*Mock)

// WithMockClock makes the mock read time from now, for tests.
func WithMockClock(now func() time.Time) MockOption { return func(m *Mock) { m.now = now } }

// NewMock returns the mock connector.
func NewMock(opts ...MockOption) *Mock {
	m := &Mock{now: time.Now}
	for _, o := range opts {
		o(m)
	}
	return m
}

// MockFlows returns the demo flows, ready for a Registry: connector "mock",
// a 60 s timeout and a 1 s poll interval.
func MockFlows() []Flow {
	out := make([]Flow, len(mockFlows))
	for i, f := range mockFlows {
		out[i] = f.Flow
		out[i].Connector = MockConnectorName
		out[i].Timeout = time.Minute
		out[i].PollInterval = time.Second
	}
	return out
}

// MockRegistry returns a registry of the demo flows.
func MockRegistry() *Registry {
	r, err := NewRegistry(MockFlows())
	if err != nil {
		panic(err) // the demo flows are constants
	}
	return r
}

func findMock(id string) (*mockFlow, error) {
	for i := range mockFlows {
		if mockFlows[i].ID == id {
			return &mockFlows[i], nil
		}
	}
	return nil, Permanent(fmt.Errorf("%w %q: the mock runs only %s, %s, %s, %s and %s", ErrUnknownFlow, id,
		FlowNewHireOnboarding, FlowOffboarding, FlowMFARemediation, FlowAccessRequest, FlowPasswordExpiry))
}

// CheckFlow implements FlowChecker: the mock runs only its five flows.
func (m *Mock) CheckFlow(f Flow) error {
	if _, err := findMock(f.ID); err != nil {
		return fmt.Errorf("connector mock has no such flow: it runs only %s, %s, %s, %s and %s",
			FlowNewHireOnboarding, FlowOffboarding, FlowMFARemediation, FlowAccessRequest, FlowPasswordExpiry)
	}
	return nil
}

// Invoke implements Connector. Flows without a run time answer at once;
// the others answer running.
func (m *Mock) Invoke(ctx context.Context, req InvokeRequest) (*Invocation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := findMock(req.FlowID)
	if err != nil {
		return nil, err
	}
	if f.runTime > 0 {
		return &Invocation{Status: StatusRunning}, nil
	}
	return finish(f, req.ExecutionID, req.Input), nil
}

// Status implements Connector: an execution is done once its flow's run time
// has passed since it started.
func (m *Mock) Status(ctx context.Context, exec *ExecutionResult) (*Invocation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := findMock(exec.FlowID)
	if err != nil {
		return nil, err
	}
	if exec.StartedAt.IsZero() || m.now().Before(exec.StartedAt.Add(f.runTime)) {
		return &Invocation{Status: StatusRunning}, nil
	}
	return finish(f, exec.ExecutionID, exec.InputData), nil
}

func finish(f *mockFlow, id string, in map[string]any) *Invocation {
	if fail, _ := in[SimulateFailureKey].(bool); fail {
		return &Invocation{Status: StatusFailed, Error: fmt.Sprintf("%s: simulated failure (input %s is true)", f.ID, SimulateFailureKey)}
	}
	return &Invocation{Status: StatusSuccess, Output: f.output(id, in)}
}

// List implements Connector.
func (m *Mock) List(_ context.Context, flowType string) ([]Flow, error) {
	var out []Flow
	for _, f := range MockFlows() {
		if flowType == "" || f.Type == flowType {
			out = append(out, f)
		}
	}
	return out, nil
}

// Close implements Connector.
func (m *Mock) Close() error { return nil }
