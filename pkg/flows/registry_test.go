package flows_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssoflow/ssoflow/config"
	"github.com/ssoflow/ssoflow/pkg/flows"
)

func TestNewRegistryValidation(t *testing.T) {
	t.Parallel()
	_, err := flows.NewRegistry([]flows.Flow{
		{ID: "ok", Connector: "mock"},
		{Connector: "mock"},
		{ID: "ok", Connector: "mock"},
		{ID: "no-connector"},
		{ID: "fast", Connector: "mock", Timeout: 500 * time.Millisecond, PollInterval: 100 * time.Millisecond},
		{ID: "negative", Connector: "mock", Timeout: -time.Minute},
		{ID: "also-ok", Connector: "http", Timeout: time.Second, PollInterval: time.Second},
	})
	if err == nil {
		t.Fatal("NewRegistry accepted bad flows")
	}
	want := []string{
		`flow #2: id is required`,
		`flow "ok": id is used by an earlier flow`,
		`flow "no-connector": connector is required`,
		`flow "fast": timeout 500ms is under 1s`,
		`flow "fast": poll_interval 100ms is under 1s (the queue schedules in whole seconds)`,
		`flow "negative": timeout -1m0s is under 1s`,
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestNewRegistryDefaults(t *testing.T) {
	t.Parallel()
	in := []flows.Flow{
		{ID: "a", Type: "lifecycle", Connector: "mock"},
		{ID: "b", Type: "security", Connector: "mock", Timeout: 10 * time.Minute, PollInterval: 5 * time.Second},
		{ID: "c", Type: "lifecycle", Connector: "mock", PollInterval: 3 * time.Second},
	}
	tests := []struct {
		name string
		opts []flows.RegistryOption
		want []time.Duration // timeout, poll interval of a, b, c
	}{
		{"package defaults", nil, []time.Duration{300 * time.Second, 2 * time.Second, 10 * time.Minute, 5 * time.Second, 300 * time.Second, 3 * time.Second}},
		{"WithDefaults", []flows.RegistryOption{flows.WithDefaults(time.Minute, 4*time.Second)},
			[]time.Duration{time.Minute, 4 * time.Second, 10 * time.Minute, 5 * time.Second, time.Minute, 3 * time.Second}},
		{"WithDefaults zero keeps the package defaults", []flows.RegistryOption{flows.WithDefaults(0, 0)},
			[]time.Duration{flows.DefaultTimeout, flows.DefaultPollInterval, 10 * time.Minute, 5 * time.Second, flows.DefaultTimeout, 3 * time.Second}},
		{"WithDefaults timeout only", []flows.RegistryOption{flows.WithDefaults(90*time.Second, 0)},
			[]time.Duration{90 * time.Second, flows.DefaultPollInterval, 10 * time.Minute, 5 * time.Second, 90 * time.Second, 3 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := flows.NewRegistry(in, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			var got []time.Duration
			for _, f := range r.List("") {
				got = append(got, f.Timeout, f.PollInterval)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("timeouts and poll intervals (-want +got):\n%s", diff)
			}
		})
	}
	// A default under 1s is refused like a flow's own.
	if _, err := flows.NewRegistry(in[:1], flows.WithDefaults(time.Millisecond, 0)); err == nil || !strings.Contains(err.Error(), `flow "a": timeout 1ms is under 1s`) {
		t.Errorf("WithDefaults(1ms): %v", err)
	}
	// The input is not changed.
	if in[0].Timeout != 0 {
		t.Error("NewRegistry changed its input")
	}
}

func TestRegistryLookups(t *testing.T) {
	t.Parallel()
	r := flows.MockRegistry()
	for typ, want := range map[string][]string{
		"":          {flows.FlowNewHireOnboarding, flows.FlowOffboarding, flows.FlowMFARemediation, flows.FlowAccessRequest, flows.FlowPasswordExpiry},
		"lifecycle": {flows.FlowNewHireOnboarding, flows.FlowOffboarding},
		"access":    {flows.FlowAccessRequest},
		"password":  {flows.FlowPasswordExpiry},
		"other":     nil,
	} {
		if diff := cmp.Diff(want, ids(r.List(typ))); diff != "" {
			t.Errorf("List(%q) (-want +got):\n%s", typ, diff)
		}
	}
	f, ok := r.Get(flows.FlowOffboarding)
	if !ok || f.Name != "Offboarding" || f.Connector != flows.MockConnectorName || f.Timeout != time.Minute || f.PollInterval != time.Second {
		t.Errorf("Get(offboarding) = %+v, %v", f, ok)
	}
	if f, ok := r.Get("nope"); ok || f != (flows.Flow{}) {
		t.Errorf("Get(nope) = %+v, %v", f, ok)
	}
	if !r.Has(flows.FlowAccessRequest) || r.Has("nope") || r.Has("") {
		t.Error("Has is wrong")
	}
	all := r.List("")
	all[0].ID = "changed"
	if !r.Has(flows.FlowNewHireOnboarding) || r.List("")[0].ID != flows.FlowNewHireOnboarding {
		t.Error("List returned the registry's own slice")
	}
}

func TestParseRegistryYAML(t *testing.T) {
	t.Parallel()
	const doc = `flows:
  - id: flow_offboarding
    name: Offboarding
    type: lifecycle
    description: Disables accounts.
    connector: mock
    timeout: 5m
    poll_interval: 2s
  - id: flow_custom
    name: Custom
    type: security
    connector: http
    timeout: 1h30m
  - id: flow_defaults
    connector: mock
`
	r, err := flows.ParseRegistryYAML([]byte(doc), flows.WithDefaults(2*time.Minute, 3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := []flows.Flow{
		{ID: "flow_offboarding", Name: "Offboarding", Type: "lifecycle", Description: "Disables accounts.", Connector: "mock", Timeout: 5 * time.Minute, PollInterval: 2 * time.Second},
		{ID: "flow_custom", Name: "Custom", Type: "security", Connector: "http", Timeout: 90 * time.Minute, PollInterval: 3 * time.Second},
		{ID: "flow_defaults", Connector: "mock", Timeout: 2 * time.Minute, PollInterval: 3 * time.Second},
	}
	if diff := cmp.Diff(want, r.List("")); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
}

func TestParseRegistryYAMLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"unknown field", "flows:\n  - id: a\n    connector: mock\n    timeot: 5m\n", []string{"flows YAML: ", "[4:5]", `unknown field "timeot"`}},
		{"bad duration", "flows:\n  - id: a\n    connector: mock\n    timeout: five\n", []string{"flows YAML: ", `invalid duration "five"`}},
		{"validation", "flows:\n  - id: a\n    timeout: 500ms\n", []string{`flow "a": connector is required`, `flow "a": timeout 500ms is under 1s`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := flows.ParseRegistryYAML([]byte(tt.in))
			if err == nil {
				t.Fatalf("ParseRegistryYAML = %v, nil; want an error", r.List(""))
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestLoadRegistry(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "flows.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, config.Flows, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("flows:\n  - id: a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r, err := flows.LoadRegistry(good); err != nil || len(r.List("")) != 5 {
		t.Errorf("LoadRegistry(flows.yaml) = %v, %v", r, err)
	}
	if _, err := flows.LoadRegistry(bad); err == nil || err.Error() != bad+`: flow "a": connector is required` {
		t.Errorf("LoadRegistry(bad) = %v", err)
	}
	if _, err := flows.LoadRegistry(filepath.Join(dir, "missing.yaml")); !os.IsNotExist(err) {
		t.Errorf("LoadRegistry(missing) = %v", err)
	}
}

// TestConfigFlows: the repo's config/flows.yaml is the five mock flows.
func TestConfigFlows(t *testing.T) {
	t.Parallel()
	r, err := flows.ParseRegistryYAML(config.Flows)
	if err != nil {
		t.Fatal(err)
	}
	ignoreDesc := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Description" }, cmp.Ignore())
	if diff := cmp.Diff(flows.MockFlows(), r.List(""), ignoreDesc); diff != "" {
		t.Errorf("config/flows.yaml (-MockFlows +file):\n%s", diff)
	}
	if _, err := flows.NewRouter(r, map[string]flows.Connector{flows.MockConnectorName: flows.NewMock()}); err != nil {
		t.Errorf("NewRouter(config flows, mock) = %v", err)
	}
}

func TestFlowJSON(t *testing.T) {
	t.Parallel()
	f := flows.Flow{ID: "f", Name: "F", Type: "access", Connector: "mock", Timeout: 90 * time.Second, PollInterval: 1500 * time.Millisecond}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"f","name":"F","type":"access","connector":"mock","timeout_seconds":90,"poll_interval_seconds":1.5}`
	if string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
	b, _ = json.Marshal([]flows.Flow{{ID: "g", Description: "d"}})
	if want := `[{"id":"g","name":"","type":"","description":"d","connector":"","timeout_seconds":0,"poll_interval_seconds":0}]`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}

// recorder is a Connector that records its calls.
type recorder struct {
	name   string
	mu     sync.Mutex
	calls  []string
	closed int
}

func (c *recorder) record(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}

func (c *recorder) Invoke(_ context.Context, req flows.InvokeRequest) (*flows.Invocation, error) {
	c.record("invoke " + req.FlowID + " " + req.ExecutionID)
	return &flows.Invocation{Status: flows.StatusSuccess, Output: map[string]any{"by": c.name}}, nil
}

func (c *recorder) Status(_ context.Context, e *flows.ExecutionResult) (*flows.Invocation, error) {
	c.record("status " + e.FlowID + " " + e.ExecutionID)
	return &flows.Invocation{Status: flows.StatusRunning}, nil
}

func (c *recorder) List(context.Context, string) ([]flows.Flow, error) { return nil, nil }

func (c *recorder) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed++
	if c.name == "bad" {
		return errors.New("close failed")
	}
	return nil
}

func TestRouter(t *testing.T) {
	t.Parallel()
	reg, err := flows.NewRegistry([]flows.Flow{
		{ID: "flow_a", Type: "x", Connector: "one"},
		{ID: "flow_b", Type: "y", Connector: "two"},
		{ID: "flow_c", Type: "x", Connector: "one"},
	})
	if err != nil {
		t.Fatal(err)
	}
	one, two := &recorder{name: "one"}, &recorder{name: "two"}
	rt, err := flows.NewRouter(reg, map[string]flows.Connector{"one": one, "two": two, "unused": two})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, f := range []string{"flow_a", "flow_b", "flow_c"} {
		inv, err := rt.Invoke(ctx, flows.InvokeRequest{FlowID: f, ExecutionID: "ex_" + f})
		if err != nil {
			t.Fatal(err)
		}
		wantBy := "one"
		if f == "flow_b" {
			wantBy = "two"
		}
		if inv.Output["by"] != wantBy {
			t.Errorf("Invoke(%s) answered by %v, want %s", f, inv.Output["by"], wantBy)
		}
	}
	if _, err := rt.Status(ctx, &flows.ExecutionResult{FlowID: "flow_b", ExecutionID: "ex_s"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"invoke flow_a ex_flow_a", "invoke flow_c ex_flow_c"}, one.calls); diff != "" {
		t.Errorf("connector one calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"invoke flow_b ex_flow_b", "status flow_b ex_s"}, two.calls); diff != "" {
		t.Errorf("connector two calls (-want +got):\n%s", diff)
	}
	// An unknown flow is a permanent error, and reaches no connector.
	for _, call := range []func() error{
		func() error { _, err := rt.Invoke(ctx, flows.InvokeRequest{FlowID: "flow_z"}); return err },
		func() error { _, err := rt.Status(ctx, &flows.ExecutionResult{FlowID: "flow_z"}); return err },
	} {
		if err := call(); !flows.IsPermanent(err) || !errors.Is(err, flows.ErrUnknownFlow) {
			t.Errorf("unknown flow: %v, want a permanent ErrUnknownFlow", err)
		}
	}
	if len(one.calls)+len(two.calls) != 4 {
		t.Errorf("an unknown flow reached a connector: %v %v", one.calls, two.calls)
	}
	fs, _ := rt.List(ctx, "x")
	if diff := cmp.Diff([]string{"flow_a", "flow_c"}, ids(fs)); diff != "" {
		t.Errorf("List(x) (-want +got):\n%s", diff)
	}
	if rt.Registry() != reg {
		t.Error("Registry() is not the registry given")
	}
	// Close closes each connector once, even one registered under two names.
	if err := rt.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if one.closed != 1 || two.closed != 1 {
		t.Errorf("closed one %d times, two %d times; want once each", one.closed, two.closed)
	}
}

func TestRouterCloseError(t *testing.T) {
	t.Parallel()
	reg, _ := flows.NewRegistry([]flows.Flow{{ID: "f", Connector: "bad"}})
	rt, err := flows.NewRouter(reg, map[string]flows.Connector{"bad": &recorder{name: "bad"}, "ok": &recorder{name: "ok"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(); err == nil || err.Error() != "close failed" {
		t.Errorf("Close = %v, want the connector's error", err)
	}
}

func TestNewRouterUnknownConnector(t *testing.T) {
	t.Parallel()
	reg, err := flows.NewRegistry([]flows.Flow{
		{ID: flows.FlowOffboarding, Connector: "mock"},
		{ID: "flow_b", Connector: "okta"},
		{ID: "flow_c", Connector: "http"},
	})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := flows.NewRouter(reg, map[string]flows.Connector{"mock": flows.NewMock(), "webhook": &recorder{}})
	if rt != nil || err == nil {
		t.Fatalf("NewRouter = %v, %v; want it refused", rt, err)
	}
	want := `flow "flow_b": unknown connector "okta" (have: [mock webhook])` + "\n" +
		`flow "flow_c": unknown connector "http" (have: [mock webhook])`
	if err.Error() != want {
		t.Errorf("error = %q\nwant %q", err, want)
	}
}

// valueConnector is a Connector whose dynamic type is not comparable.
type valueConnector struct{ _ []string }

func (valueConnector) Invoke(context.Context, flows.InvokeRequest) (*flows.Invocation, error) {
	return &flows.Invocation{Status: flows.StatusSuccess}, nil
}
func (valueConnector) Status(context.Context, *flows.ExecutionResult) (*flows.Invocation, error) {
	return &flows.Invocation{Status: flows.StatusRunning}, nil
}
func (valueConnector) List(context.Context, string) ([]flows.Flow, error) { return nil, nil }
func (valueConnector) Close() error                                       { return nil }

// TestRouterCloseUncomparableConnector: any Connector may be closed, not only
// those of a comparable type.
func TestRouterCloseUncomparableConnector(t *testing.T) {
	t.Parallel()
	reg, _ := flows.NewRegistry([]flows.Flow{{ID: "f", Connector: "a"}})
	rt, err := flows.NewRouter(reg, map[string]flows.Connector{"a": valueConnector{}, "b": valueConnector{}})
	if err != nil {
		t.Fatal(err)
	}
	var closeErr error
	panicked := func() (v any) {
		defer func() { v = recover() }()
		closeErr = rt.Close()
		return nil
	}()
	if panicked != nil {
		t.Fatalf("Close panicked on a connector of an uncomparable type: %v", panicked)
	}
	if closeErr != nil {
		t.Errorf("Close = %v", closeErr)
	}
}

// TestRouterRefusesFlowTheMockCannotRun: a registry entry that names the
// mock connector for a flow the mock does not have is refused at start, not
// failed at every execution.
func TestRouterRefusesFlowTheMockCannotRun(t *testing.T) {
	fs := append(flows.MockFlows(), flows.Flow{ID: "flow_custom", Connector: flows.MockConnectorName})
	reg, err := flows.NewRegistry(fs)
	if err != nil {
		t.Fatal(err)
	}
	_, err = flows.NewRouter(reg, map[string]flows.Connector{flows.MockConnectorName: flows.NewMock()})
	if err == nil || !strings.Contains(err.Error(), `flow "flow_custom"`) || !strings.Contains(err.Error(), "connector mock has no such flow") {
		t.Errorf("NewRouter = %v, want it to refuse flow_custom", err)
	}
}
