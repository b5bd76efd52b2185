package flows_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssoflow/ssoflow/pkg/flows"
)

func TestStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s               flows.Status
		terminal, valid bool
	}{
		{flows.StatusPending, false, true},
		{flows.StatusRunning, false, true},
		{flows.StatusSuccess, true, true},
		{flows.StatusFailed, true, true},
		{flows.StatusCancelled, true, true},
		{"", false, false},
		{"done", false, false},
		{"SUCCESS", false, false},
		{"canceled", false, false},
	}
	for _, tt := range tests {
		if got := tt.s.IsTerminal(); got != tt.terminal {
			t.Errorf("Status(%q).IsTerminal() = %v, want %v", tt.s, got, tt.terminal)
		}
		if got := tt.s.Valid(); got != tt.valid {
			t.Errorf("Status(%q).Valid() = %v, want %v", tt.s, got, tt.valid)
		}
	}
	want := []flows.Status{"pending", "running", "success", "failed", "cancelled"}
	if diff := cmp.Diff(want, flows.Statuses); diff != "" {
		t.Errorf("Statuses (-want +got):\n%s", diff)
	}
}

var (
	t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	t1 = t0.Add(2500 * time.Millisecond)
)

func TestComplete(t *testing.T) {
	t.Parallel()
	out := map[string]any{"ok": true}
	tests := []struct {
		name    string
		exec    flows.ExecutionResult
		status  flows.Status
		output  map[string]any
		errMsg  string
		want    flows.ExecutionResult
		wantErr error
	}{
		{
			name:   "running to success",
			exec:   flows.ExecutionResult{ExecutionID: "ex_1", Status: flows.StatusRunning, CreatedAt: t0, StartedAt: t0, UpdatedAt: t0},
			status: flows.StatusSuccess, output: out,
			want: flows.ExecutionResult{ExecutionID: "ex_1", Status: flows.StatusSuccess, CreatedAt: t0, StartedAt: t0,
				CompletedAt: t1, DurationMS: 2500, OutputData: out, UpdatedAt: t1},
		},
		{
			name:   "running to failed",
			exec:   flows.ExecutionResult{ExecutionID: "ex_1", Status: flows.StatusRunning, StartedAt: t0.Add(time.Second)},
			status: flows.StatusFailed, errMsg: "boom",
			want: flows.ExecutionResult{ExecutionID: "ex_1", Status: flows.StatusFailed, StartedAt: t0.Add(time.Second),
				CompletedAt: t1, DurationMS: 1500, Error: "boom", UpdatedAt: t1},
		},
		{
			name:   "pending, never started, cancelled: no duration",
			exec:   flows.ExecutionResult{ExecutionID: "ex_1", Status: flows.StatusPending, CreatedAt: t0},
			status: flows.StatusCancelled, errMsg: "rule disabled",
			want: flows.ExecutionResult{ExecutionID: "ex_1", Status: flows.StatusCancelled, CreatedAt: t0,
				CompletedAt: t1, Error: "rule disabled", UpdatedAt: t1},
		},
		{
			name:   "already terminal",
			exec:   flows.ExecutionResult{ExecutionID: "ex_1", Status: flows.StatusSuccess, CompletedAt: t0, OutputData: out},
			status: flows.StatusFailed, errMsg: "late",
			want:    flows.ExecutionResult{ExecutionID: "ex_1", Status: flows.StatusSuccess, CompletedAt: t0, OutputData: out},
			wantErr: &flows.TerminalError{ExecutionID: "ex_1", Status: flows.StatusSuccess},
		},
		{
			name:    "cancelled stays cancelled",
			exec:    flows.ExecutionResult{ExecutionID: "ex_2", Status: flows.StatusCancelled},
			status:  flows.StatusCancelled,
			want:    flows.ExecutionResult{ExecutionID: "ex_2", Status: flows.StatusCancelled},
			wantErr: &flows.TerminalError{ExecutionID: "ex_2", Status: flows.StatusCancelled},
		},
		{
			name:    "not a terminal status",
			exec:    flows.ExecutionResult{ExecutionID: "ex_1", Status: flows.StatusPending},
			status:  flows.StatusRunning,
			want:    flows.ExecutionResult{ExecutionID: "ex_1", Status: flows.StatusPending},
			wantErr: errors.New(`flows: "running" is not a terminal status`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.exec
			err := got.Complete(t1, tt.status, tt.output, tt.errMsg)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("execution (-want +got):\n%s", diff)
			}
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil {
					t.Errorf("Complete = %v", err)
				}
			case *flows.TerminalError:
				var te *flows.TerminalError
				if !errors.As(err, &te) || *te != *want {
					t.Errorf("Complete = %v (%T), want %+v", err, err, want)
				}
				if err.Error() != fmt.Sprintf("execution %s is already %s", want.ExecutionID, want.Status) {
					t.Errorf("Error() = %q", err)
				}
			default:
				if err == nil || err.Error() != want.Error() {
					t.Errorf("Complete = %v, want %v", err, want)
				}
			}
			if got.IsTerminal() != (tt.want.Status.IsTerminal()) ||
				got.IsSuccess() != (tt.want.Status == flows.StatusSuccess) ||
				got.IsFailed() != (tt.want.Status == flows.StatusFailed) {
				t.Errorf("IsTerminal/IsSuccess/IsFailed disagree with status %s", got.Status)
			}
		})
	}
}

func TestExecutionErr(t *testing.T) {
	t.Parallel()
	for _, s := range []flows.Status{flows.StatusPending, flows.StatusRunning, flows.StatusSuccess} {
		e := flows.ExecutionResult{ExecutionID: "ex_1", FlowID: "f", Status: s, Error: "ignored"}
		if err := e.Err(); err != nil {
			t.Errorf("Err() for %s = %v, want nil", s, err)
		}
	}
	for _, s := range []flows.Status{flows.StatusFailed, flows.StatusCancelled} {
		e := flows.ExecutionResult{ExecutionID: "ex_1", FlowID: "flow_a", Status: s, Error: "it broke"}
		err := e.Err()
		var ee *flows.ExecutionError
		if !errors.As(err, &ee) {
			t.Fatalf("Err() for %s = %v (%T), want *ExecutionError", s, err, err)
		}
		want := flows.ExecutionError{ExecutionID: "ex_1", FlowID: "flow_a", Status: s, Message: "it broke"}
		if *ee != want {
			t.Errorf("Err() = %+v, want %+v", *ee, want)
		}
		if got, wantMsg := err.Error(), "execution ex_1 of flow_a "+string(s)+": it broke"; got != wantMsg {
			t.Errorf("Error() = %q, want %q", got, wantMsg)
		}
	}
}

func TestExecutionIDFor(t *testing.T) {
	t.Parallel()
	shape := regexp.MustCompile(`^ex_[0-9a-f]{24}$`)
	base := flows.ExecutionIDFor("onboard", 1, "evt-1")
	if !shape.MatchString(base) {
		t.Errorf("ExecutionIDFor = %q, want ex_ and 24 hex digits", base)
	}
	if again := flows.ExecutionIDFor("onboard", 1, "evt-1"); again != base {
		t.Errorf("ExecutionIDFor is not deterministic: %q then %q", base, again)
	}
	type key struct {
		rule    string
		version int
		event   string
	}
	keys := []key{
		{"onboard", 1, "evt-1"},
		{"onboard", 2, "evt-1"},
		{"onboard", 1, "evt-2"},
		{"offboard", 1, "evt-1"},
		{"onboard", 0, "evt-1"},
		{"onboard", -1, "evt-1"},
		// Concatenations that would collide without separators.
		{"ab", 1, "c"},
		{"a", 1, "bc"},
		{"a1", 1, "x"},
		{"a", 11, "x"},
		{"a", 1, "1x"},
		{"a", 1, "x"},
		{"a1", 2, "x"},
		{"a", 12, "x"},
		{"a", 1, "2x"},
		{"", 1, ""},
		{"", 11, ""},
		{"1", 1, ""},
		{"", 1, "1"},
	}
	seen := map[string]key{}
	for _, k := range keys {
		id := flows.ExecutionIDFor(k.rule, k.version, k.event)
		if prev, dup := seen[id]; dup {
			t.Errorf("ExecutionIDFor%v = ExecutionIDFor%v = %s", k, prev, id)
		}
		seen[id] = k
	}
}

func TestQueryEffectiveLimit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ limit, want int }{
		{0, flows.DefaultListLimit}, {-5, flows.DefaultListLimit}, {1, 1}, {250, 250},
		{flows.MaxListLimit, flows.MaxListLimit}, {flows.MaxListLimit + 1, flows.MaxListLimit},
	} {
		if got := (flows.Query{Limit: tt.limit}).EffectiveLimit(); got != tt.want {
			t.Errorf("EffectiveLimit(%d) = %d, want %d", tt.limit, got, tt.want)
		}
	}
}

func TestPermanent(t *testing.T) {
	t.Parallel()
	if flows.Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	base := errors.New("401 from the flow")
	p := flows.Permanent(base)
	wrapped := fmt.Errorf("invoke: %w", p)
	if !flows.IsPermanent(p) || !flows.IsPermanent(wrapped) || !errors.Is(wrapped, base) || p.Error() != base.Error() {
		t.Errorf("Permanent(%v) = %v: IsPermanent %v, wrapped %v", base, p, flows.IsPermanent(p), flows.IsPermanent(wrapped))
	}
	if flows.IsPermanent(base) || flows.IsPermanent(nil) {
		t.Error("IsPermanent of an unmarked error")
	}
}

// TestExecutionResultJSON: the seed's field names; unset times are left out.
func TestExecutionResultJSON(t *testing.T) {
	t.Parallel()
	e := flows.ExecutionResult{ExecutionID: "ex_1", FlowID: "f", Status: flows.StatusRunning, CreatedAt: t0, StartedAt: t0,
		InputData: map[string]any{"user_id": "u"}, RuleID: "r", RuleVersion: 2, EventID: "e", Attempts: 1, UpdatedAt: t0}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"execution_id":"ex_1","flow_id":"f","status":"running","created_at":"2024-03-01T10:00:00Z","started_at":"2024-03-01T10:00:00Z",` +
		`"duration_ms":0,"input_data":{"user_id":"u"},"output_data":null,"event_id":"e","rule_id":"r","rule_version":2,` +
		`"attempts":1,"polls":0,"updated_at":"2024-03-01T10:00:00Z"}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
	var back flows.ExecutionResult
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
