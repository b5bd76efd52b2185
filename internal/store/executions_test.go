package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssoflow/ssoflow/pkg/flows"
)

func TestExecutionsCreateIsIdempotent(t *testing.T) {
	b := setup(t)
	orig := newExec("ex1", "flow_a", flows.StatusPending, t0)
	created, err := b.execs.Create(b.ctx, orig)
	if err != nil || !created {
		t.Fatalf("first Create: %v, %v; want true, nil", created, err)
	}

	again := newExec("ex1", "flow_b", flows.StatusFailed, t0.Add(time.Hour))
	again.Error = "should not be stored"
	created, err = b.execs.Create(b.ctx, again)
	if err != nil || created {
		t.Fatalf("second Create: %v, %v; want false, nil", created, err)
	}

	got, err := b.execs.Get(b.ctx, "ex1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(orig, got); diff != "" {
		t.Errorf("second Create changed the execution (-want +got):\n%s", diff)
	}
	for _, q := range []flows.Query{{Status: flows.StatusFailed}, {FlowID: "flow_b"}, {FlowID: "flow_b", Status: flows.StatusFailed}} {
		list, err := b.execs.List(b.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 0 {
			t.Errorf("List(%+v) = %v after a refused Create, want none", q, execIDs(list))
		}
	}
	list, err := b.execs.List(b.ctx, flows.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ex1"}, execIDs(list)); diff != "" {
		t.Errorf("List all (-want +got):\n%s", diff)
	}
}

func TestExecutionsGetMissing(t *testing.T) {
	b := setup(t)
	if _, err := b.execs.Get(b.ctx, "nope"); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("Get missing: %v, want flows.ErrNotFound", err)
	}
	called := false
	_, err := b.execs.Update(b.ctx, "nope", func(*flows.ExecutionResult) error { called = true; return nil })
	if !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("Update missing: %v, want flows.ErrNotFound", err)
	}
	if called {
		t.Error("Update of a missing execution ran the change")
	}
}

func TestExecutionsUpdateMovesStatusIndexes(t *testing.T) {
	b := setup(t)
	mustCreate(t, b, newExec("ex1", "flow_a", flows.StatusPending, t0))
	mustCreate(t, b, newExec("ex2", "flow_a", flows.StatusPending, t0.Add(time.Second)))

	got, err := b.execs.Update(b.ctx, "ex1", func(e *flows.ExecutionResult) error {
		e.Status = flows.StatusRunning
		e.Attempts++
		e.StartedAt = t0.Add(time.Minute)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := newExec("ex1", "flow_a", flows.StatusRunning, t0)
	want.Attempts = 1
	want.StartedAt = t0.Add(time.Minute)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Update returned (-want +got):\n%s", diff)
	}
	stored, err := b.execs.Get(b.ctx, "ex1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("stored after Update (-want +got):\n%s", diff)
	}
	checkIndexes(t, b, map[flows.Query][]string{
		{Status: flows.StatusPending}:                       {"ex2"},
		{Status: flows.StatusRunning}:                       {"ex1"},
		{FlowID: "flow_a", Status: flows.StatusPending}:     {"ex2"},
		{FlowID: "flow_a", Status: flows.StatusRunning}:     {"ex1"},
		{FlowID: "flow_a"}:                                  {"ex2", "ex1"},
		{}:                                                  {"ex2", "ex1"},
		{FlowID: "flow_a", Status: flows.StatusSuccess}:     {},
		{FlowID: "flow_other", Status: flows.StatusRunning}: {},
	})

	// A second move, to a terminal status.
	if _, err := b.execs.Update(b.ctx, "ex1", func(e *flows.ExecutionResult) error {
		return e.Complete(t0.Add(2*time.Minute), flows.StatusSuccess, map[string]any{"ok": true}, "")
	}); err != nil {
		t.Fatal(err)
	}
	checkIndexes(t, b, map[flows.Query][]string{
		{Status: flows.StatusRunning}:                   {},
		{Status: flows.StatusSuccess}:                   {"ex1"},
		{FlowID: "flow_a", Status: flows.StatusRunning}: {},
		{FlowID: "flow_a", Status: flows.StatusSuccess}: {"ex1"},
		{FlowID: "flow_a"}:                              {"ex2", "ex1"},
	})
	for st, want := range map[flows.Status]int64{flows.StatusPending: 1, flows.StatusRunning: 0, flows.StatusSuccess: 1} {
		for _, flow := range []string{"", "flow_a"} {
			n, err := b.execs.Count(b.ctx, flow, st)
			if err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("Count(%q, %s) = %d, want %d", flow, st, n, want)
			}
		}
	}

	// An update that keeps the status leaves the indexes alone.
	if _, err := b.execs.Update(b.ctx, "ex2", func(e *flows.ExecutionResult) error { e.Polls = 3; return nil }); err != nil {
		t.Fatal(err)
	}
	checkIndexes(t, b, map[flows.Query][]string{
		{Status: flows.StatusPending}:                   {"ex2"},
		{FlowID: "flow_a", Status: flows.StatusPending}: {"ex2"},
	})
}

func checkIndexes(t *testing.T, b *bundle, want map[flows.Query][]string) {
	t.Helper()
	for q, ids := range want {
		list, err := b.execs.List(b.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ids, execIDs(list)); diff != "" {
			t.Errorf("List(%+v) (-want +got):\n%s", q, diff)
		}
	}
}

func mustCreate(t *testing.T, b *bundle, e *flows.ExecutionResult) {
	t.Helper()
	created, err := b.execs.Create(b.ctx, e)
	if err != nil || !created {
		t.Fatalf("Create %s: %v, %v", e.ExecutionID, created, err)
	}
}

func TestExecutionsUpdateChangeErrorAborts(t *testing.T) {
	b := setup(t)
	orig := newExec("ex1", "flow_a", flows.StatusPending, t0)
	mustCreate(t, b, orig)
	errNo := errors.New("no, thanks")
	_, err := b.execs.Update(b.ctx, "ex1", func(e *flows.ExecutionResult) error {
		e.Status = flows.StatusCancelled // changed, then refused
		e.Error = "changed"
		return errNo
	})
	if !errors.Is(err, errNo) {
		t.Fatalf("Update: %v, want the change's error", err)
	}
	got, err := b.execs.Get(b.ctx, "ex1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(orig, got); diff != "" {
		t.Errorf("an aborted Update changed the execution (-want +got):\n%s", diff)
	}
	checkIndexes(t, b, map[flows.Query][]string{
		{Status: flows.StatusPending}:   {"ex1"},
		{Status: flows.StatusCancelled}: {},
	})

	// A terminal execution refuses Complete, and the refusal comes back as is.
	if _, err := b.execs.Update(b.ctx, "ex1", func(e *flows.ExecutionResult) error {
		return e.Complete(t0, flows.StatusFailed, nil, "boom")
	}); err != nil {
		t.Fatal(err)
	}
	_, err = b.execs.Update(b.ctx, "ex1", func(e *flows.ExecutionResult) error {
		return e.Complete(t0, flows.StatusSuccess, nil, "")
	})
	var te *flows.TerminalError
	if !errors.As(err, &te) || te.Status != flows.StatusFailed {
		t.Errorf("Complete of a failed execution: %v, want a *flows.TerminalError saying failed", err)
	}
}

func TestExecutionsUpdateMayNotChangeID(t *testing.T) {
	b := setup(t)
	mustCreate(t, b, newExec("ex1", "flow_a", flows.StatusPending, t0))
	if _, err := b.execs.Update(b.ctx, "ex1", func(e *flows.ExecutionResult) error { e.ExecutionID = "ex2"; return nil }); err == nil {
		t.Fatal("Update that changed the id: nil error")
	}
	if _, err := b.execs.Get(b.ctx, "ex2"); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("Get ex2: %v, want not found", err)
	}
}

// TestExecutionsUpdateRetriesAfterConflict makes a write land between the
// read and the write of an update: the update must run its change again on
// the newer state, losing neither write.
func TestExecutionsUpdateRetriesAfterConflict(t *testing.T) {
	b := setup(t)
	mustCreate(t, b, newExec("ex1", "flow_a", flows.StatusPending, t0))
	calls := 0
	got, err := b.execs.Update(b.ctx, "ex1", func(e *flows.ExecutionResult) error {
		calls++
		if calls == 1 {
			// Another writer gets there first.
			if _, err := b.execs.Update(b.ctx, "ex1", func(e *flows.ExecutionResult) error {
				e.Polls++
				e.Status = flows.StatusRunning
				return nil
			}); err != nil {
				t.Errorf("inner Update: %v", err)
			}
		}
		e.Attempts++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("change ran %d times, want 2 (once more after the conflict)", calls)
	}
	want := newExec("ex1", "flow_a", flows.StatusRunning, t0)
	want.Attempts, want.Polls = 1, 1
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after the conflict (-want +got):\n%s", diff)
	}
	checkIndexes(t, b, map[flows.Query][]string{
		{Status: flows.StatusPending}: {},
		{Status: flows.StatusRunning}: {"ex1"},
	})
}

// concurrentIncrements runs writers goroutines, each doing each updates
// that increment Attempts, and returns the final count and the errors.
func concurrentIncrements(t *testing.T, b *bundle, writers, each int) (int, []error) {
	t.Helper()
	mustCreate(t, b, newExec("ex1", "flow_a", flows.StatusPending, t0))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range writers {
		wg.Go(func() {
			for range each {
				if _, err := b.execs.Update(b.ctx, "ex1", func(e *flows.ExecutionResult) error {
					e.Attempts++
					return nil
				}); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	got, err := b.execs.Get(b.ctx, "ex1")
	if err != nil {
		t.Fatal(err)
	}
	return got.Attempts, errs
}

// TestExecutionsUpdateConcurrentWriters runs writers on their own
// connections to a real Redis, all incrementing one counter: no increment
// may be lost, and none may be counted twice.
func TestExecutionsUpdateConcurrentWriters(t *testing.T) {
	b := setup(t, onRealRedis())
	const writers, each = 8, 25
	got, errs := concurrentIncrements(t, b, writers, each)
	for _, err := range errs {
		t.Errorf("update failed: %v", err)
	}
	if got != writers*each {
		t.Errorf("Attempts = %d after %d updates: an update was lost or doubled", got, writers*each)
	}
}

// TestExecutionsUpdateContention: Update promises (flows.History) to run
// the change again whenever another writer got there first, also when many
// writers contend for one execution.
func TestExecutionsUpdateContention(t *testing.T) {
	b := setup(t, onRealRedis())
	const writers, each = 32, 20
	got, errs := concurrentIncrements(t, b, writers, each)
	if len(errs) > 0 || got != writers*each {
		t.Errorf("Attempts = %d, want %d; %d updates failed: %v", got, writers*each, len(errs), errors.Join(errs...))
	}
}

func TestExecutionsList(t *testing.T) {
	b := setup(t)
	// Created out of time order: List orders by CreatedAt, not by insertion.
	for _, e := range []*flows.ExecutionResult{
		newExec("e4", "flow_a", flows.StatusPending, t0.Add(4*time.Minute)),
		newExec("e1", "flow_a", flows.StatusPending, t0.Add(1*time.Minute)),
		newExec("e5", "flow_b", flows.StatusFailed, t0.Add(5*time.Minute)),
		newExec("e2", "flow_a", flows.StatusSuccess, t0.Add(2*time.Minute)),
		newExec("e3", "flow_b", flows.StatusPending, t0.Add(3*time.Minute)),
	} {
		mustCreate(t, b, e)
	}
	for _, tc := range []struct {
		name string
		q    flows.Query
		want []string
	}{
		{"all", flows.Query{}, []string{"e5", "e4", "e3", "e2", "e1"}},
		{"limit", flows.Query{Limit: 2}, []string{"e5", "e4"}},
		{"limit above count", flows.Query{Limit: 50}, []string{"e5", "e4", "e3", "e2", "e1"}},
		{"flow", flows.Query{FlowID: "flow_a"}, []string{"e4", "e2", "e1"}},
		{"status", flows.Query{Status: flows.StatusPending}, []string{"e4", "e3", "e1"}},
		{"flow and status", flows.Query{FlowID: "flow_a", Status: flows.StatusPending}, []string{"e4", "e1"}},
		{"flow and status with limit", flows.Query{FlowID: "flow_a", Status: flows.StatusPending, Limit: 1}, []string{"e4"}},
		{"other flow and status", flows.Query{FlowID: "flow_b", Status: flows.StatusFailed}, []string{"e5"}},
		{"unknown flow", flows.Query{FlowID: "flow_none"}, []string{}},
		{"empty status", flows.Query{Status: flows.StatusCancelled}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := b.execs.List(b.ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Error("List returned nil, want an empty slice")
			}
			if diff := cmp.Diff(tc.want, execIDs(got)); diff != "" {
				t.Errorf("List(%+v) (-want +got):\n%s", tc.q, diff)
			}
		})
	}
}

func TestExecutionsGetMany(t *testing.T) {
	b := setup(t)
	e1 := newExec("e1", "flow_a", flows.StatusPending, t0)
	e2 := newExec("e2", "flow_b", flows.StatusRunning, t0.Add(time.Second))
	mustCreate(t, b, e1)
	mustCreate(t, b, e2)
	got, err := b.execs.GetMany(b.ctx, []string{"e2", "missing", "e1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*flows.ExecutionResult{e2, e1}, got); diff != "" {
		t.Errorf("GetMany (-want +got):\n%s", diff)
	}
	got, err = b.execs.GetMany(b.ctx, nil)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("GetMany(nil) = %v, %v; want an empty slice", got, err)
	}
}
