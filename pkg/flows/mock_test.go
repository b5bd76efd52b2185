package flows_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssoflow/ssoflow/pkg/flows"
)

// clock is a settable time source for WithMockClock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestMockSyncFlows(t *testing.T) {
	t.Parallel()
	m := flows.NewMock()
	ctx := context.Background()
	in := map[string]any{"user_id": "00u1"}
	tests := []struct {
		flow  string
		check func(t *testing.T, out map[string]any)
	}{
		{flows.FlowOffboarding, func(t *testing.T, out map[string]any) {
			n, _ := out["accounts_disabled"].(int)
			l, _ := out["licenses_reclaimed"].(int)
			if out["user_id"] != "00u1" || n < 1 || n > 4 || l < 0 || l > 2 || out["sessions_revoked"] != true || len(out) != 4 {
				t.Errorf("output = %#v", out)
			}
		}},
		{flows.FlowMFARemediation, func(t *testing.T, out map[string]any) {
			ticket, _ := out["ticket"].(string)
			if out["user_id"] != "00u1" || out["action"] != "factor_reset_link_sent" || !regexp.MustCompile(`^SEC-\d{5}$`).MatchString(ticket) || len(out) != 3 {
				t.Errorf("output = %#v", out)
			}
		}},
		{flows.FlowPasswordExpiry, func(t *testing.T, out map[string]any) {
			want := map[string]any{"user_id": "00u1", "notification_sent": true, "channel": "email"}
			if diff := cmp.Diff(want, out); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.flow, func(t *testing.T) {
			t.Parallel()
			inv, err := m.Invoke(ctx, flows.InvokeRequest{FlowID: tt.flow, ExecutionID: "ex_a", Input: in})
			if err != nil {
				t.Fatal(err)
			}
			if inv.Status != flows.StatusSuccess || inv.Error != "" {
				t.Fatalf("Invoke = %+v, want success at once", inv)
			}
			tt.check(t, inv.Output)
			// The same execution gives the same output, and so does Status
			// once it has started.
			again, _ := m.Invoke(ctx, flows.InvokeRequest{FlowID: tt.flow, ExecutionID: "ex_a", Input: in})
			if diff := cmp.Diff(inv, again); diff != "" {
				t.Errorf("second Invoke differs (-first +second):\n%s", diff)
			}
			st, err := m.Status(ctx, &flows.ExecutionResult{ExecutionID: "ex_a", FlowID: tt.flow, StartedAt: time.Now(), InputData: in})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(inv, st); diff != "" {
				t.Errorf("Status differs from Invoke (-invoke +status):\n%s", diff)
			}
		})
	}
}

// TestMockOutputsDeterministic: outputs depend on the execution id only.
func TestMockOutputsDeterministic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tickets := map[string]bool{}
	for _, id := range []string{"ex_1", "ex_2", "ex_3", "ex_4", "ex_5", "ex_6"} {
		req := flows.InvokeRequest{FlowID: flows.FlowMFARemediation, ExecutionID: id, Input: map[string]any{"user_id": "u"}}
		a, err := flows.NewMock().Invoke(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := flows.NewMock().Invoke(ctx, req)
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("%s: two mocks differ (-a +b):\n%s", id, diff)
		}
		tickets[a.Output["ticket"].(string)] = true
	}
	if len(tickets) < 2 {
		t.Errorf("six executions all got ticket %v; want the ticket derived from the execution id", tickets)
	}
}

func TestMockAsyncFlows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		flow    string
		runTime time.Duration
		want    func(id string) map[string]any
	}{
		{flows.FlowNewHireOnboarding, 4 * time.Second, func(string) map[string]any {
			return map[string]any{"user_id": "00u7", "accounts_created": []any{"google_workspace", "slack", "github"}, "welcome_email_sent": true}
		}},
		{flows.FlowAccessRequest, 2 * time.Second, nil},
	}
	for _, tt := range tests {
		t.Run(tt.flow, func(t *testing.T) {
			t.Parallel()
			c := &clock{now: t0}
			m := flows.NewMock(flows.WithMockClock(c.Now))
			ctx := context.Background()
			in := map[string]any{"user_id": "00u7"}
			inv, err := m.Invoke(ctx, flows.InvokeRequest{FlowID: tt.flow, ExecutionID: "ex_async", Input: in})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&flows.Invocation{Status: flows.StatusRunning}, inv); diff != "" {
				t.Errorf("Invoke (-want +got):\n%s", diff)
			}
			exec := &flows.ExecutionResult{ExecutionID: "ex_async", FlowID: tt.flow, StartedAt: t0, InputData: in}
			for _, at := range []time.Duration{-time.Second, 0, tt.runTime / 2, tt.runTime - time.Millisecond} {
				c.now = t0.Add(at)
				st, err := m.Status(ctx, exec)
				if err != nil || st.Status != flows.StatusRunning {
					t.Errorf("Status at start%+v = %+v, %v; want running", at, st, err)
				}
			}
			for _, at := range []time.Duration{tt.runTime, tt.runTime + time.Hour} {
				c.now = t0.Add(at)
				st, err := m.Status(ctx, exec)
				if err != nil || st.Status != flows.StatusSuccess {
					t.Fatalf("Status at start+%v = %+v, %v; want success", at, st, err)
				}
				if tt.want != nil {
					if diff := cmp.Diff(tt.want(exec.ExecutionID), st.Output); diff != "" {
						t.Errorf("output (-want +got):\n%s", diff)
					}
				} else if !regexp.MustCompile(`^AR-\d{6}$`).MatchString(st.Output["request_id"].(string)) || st.Output["approval"] != "auto_approved" {
					t.Errorf("output = %#v", st.Output)
				}
			}
			// Not started yet: running, whatever the time.
			c.now = t0.Add(time.Hour)
			if st, err := m.Status(ctx, &flows.ExecutionResult{ExecutionID: "ex_async", FlowID: tt.flow}); err != nil || st.Status != flows.StatusRunning {
				t.Errorf("Status of an execution never started = %+v, %v; want running", st, err)
			}
		})
	}
}

func TestMockSimulateFailure(t *testing.T) {
	t.Parallel()
	c := &clock{now: t0.Add(time.Minute)}
	m := flows.NewMock(flows.WithMockClock(c.Now))
	ctx := context.Background()
	fail := map[string]any{"user_id": "u", flows.SimulateFailureKey: true}
	for _, f := range flows.MockFlows() {
		want := &flows.Invocation{Status: flows.StatusFailed, Error: f.ID + ": simulated failure (input simulate_failure is true)"}
		inv, err := m.Invoke(ctx, flows.InvokeRequest{FlowID: f.ID, ExecutionID: "ex_f", Input: fail})
		if err != nil {
			t.Fatal(err)
		}
		if inv.Status == flows.StatusRunning { // async: fails when it finishes
			inv, err = m.Status(ctx, &flows.ExecutionResult{ExecutionID: "ex_f", FlowID: f.ID, StartedAt: t0, InputData: fail})
			if err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff(want, inv); diff != "" {
			t.Errorf("%s (-want +got):\n%s", f.ID, diff)
		}
	}
	// Only a boolean true fails.
	for _, v := range []any{false, "true", 1, nil} {
		inv, err := m.Invoke(ctx, flows.InvokeRequest{FlowID: flows.FlowOffboarding, ExecutionID: "ex_f", Input: map[string]any{flows.SimulateFailureKey: v}})
		if err != nil || inv.Status != flows.StatusSuccess {
			t.Errorf("simulate_failure %#v: %+v, %v; want success", v, inv, err)
		}
	}
	// A nil input is fine.
	if inv, err := m.Invoke(ctx, flows.InvokeRequest{FlowID: flows.FlowPasswordExpiry, ExecutionID: "ex_n"}); err != nil || inv.Status != flows.StatusSuccess {
		t.Errorf("nil input: %+v, %v", inv, err)
	}
}

func TestMockErrors(t *testing.T) {
	t.Parallel()
	m := flows.NewMock()
	ctx := context.Background()
	_, err := m.Invoke(ctx, flows.InvokeRequest{FlowID: "flow_nope", ExecutionID: "ex"})
	if !flows.IsPermanent(err) || !errors.Is(err, flows.ErrUnknownFlow) || !strings.Contains(err.Error(), `"flow_nope"`) {
		t.Errorf("Invoke(unknown flow) = %v; want a permanent ErrUnknownFlow naming it", err)
	}
	_, err = m.Status(ctx, &flows.ExecutionResult{FlowID: "flow_nope", StartedAt: t0})
	if !flows.IsPermanent(err) || !errors.Is(err, flows.ErrUnknownFlow) {
		t.Errorf("Status(unknown flow) = %v; want a permanent ErrUnknownFlow", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Invoke(cancelled, flows.InvokeRequest{FlowID: flows.FlowOffboarding}); !errors.Is(err, context.Canceled) || flows.IsPermanent(err) {
		t.Errorf("Invoke(cancelled ctx) = %v, want context.Canceled, not permanent", err)
	}
	if _, err := m.Status(cancelled, &flows.ExecutionResult{FlowID: flows.FlowOffboarding}); !errors.Is(err, context.Canceled) {
		t.Errorf("Status(cancelled ctx) = %v, want context.Canceled", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}

func TestMockFlowsAndList(t *testing.T) {
	t.Parallel()
	want := []flows.Flow{
		{ID: flows.FlowNewHireOnboarding, Name: "New hire onboarding", Type: "lifecycle", Connector: "mock"},
		{ID: flows.FlowOffboarding, Name: "Offboarding", Type: "lifecycle", Connector: "mock"},
		{ID: flows.FlowMFARemediation, Name: "MFA remediation", Type: "security", Connector: "mock"},
		{ID: flows.FlowAccessRequest, Name: "Access request", Type: "access", Connector: "mock"},
		{ID: flows.FlowPasswordExpiry, Name: "Password expiry", Type: "password", Connector: "mock"},
	}
	for i := range want {
		want[i].Timeout = time.Minute
		want[i].PollInterval = time.Second
	}
	got := flows.MockFlows()
	for _, f := range got {
		if f.Description == "" {
			t.Errorf("%s has no description", f.ID)
		}
	}
	ignoreDesc := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Description" }, cmp.Ignore())
	if diff := cmp.Diff(want, got, ignoreDesc); diff != "" {
		t.Errorf("MockFlows (-want +got):\n%s", diff)
	}
	m := flows.NewMock()
	for typ, wantIDs := range map[string][]string{
		"":          {flows.FlowNewHireOnboarding, flows.FlowOffboarding, flows.FlowMFARemediation, flows.FlowAccessRequest, flows.FlowPasswordExpiry},
		"lifecycle": {flows.FlowNewHireOnboarding, flows.FlowOffboarding},
		"security":  {flows.FlowMFARemediation},
		"nope":      nil,
	} {
		fs, err := m.List(context.Background(), typ)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantIDs, ids(fs)); diff != "" {
			t.Errorf("List(%q) (-want +got):\n%s", typ, diff)
		}
	}
	// MockFlows returns a copy.
	got[0].ID = "changed"
	if flows.MockFlows()[0].ID != flows.FlowNewHireOnboarding {
		t.Error("MockFlows shares its slice")
	}
}

func ids(fs []flows.Flow) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}
