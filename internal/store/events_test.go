package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/pkg/events"
)

const inflightKey = prefix + "events:inflight"

func mustPut(t *testing.T, l *store.Events, b *bundle, now time.Time, evs ...events.SSOEvent) []store.PutResult {
	t.Helper()
	res, err := l.Put(b.ctx, evs, now)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var (
	isNew     = store.PutResult{New: true, State: "new"}
	received  = store.PutResult{State: store.StateReceived}
	processed = store.PutResult{State: store.StateProcessed}
)

func TestEventsPutDedupes(t *testing.T) {
	b := setup(t)
	e1 := newEvent("e1", "user.lifecycle.create", "u1", t0)
	e2 := newEvent("e2", "user.lifecycle.create", "u2", t0)
	e3 := newEvent("e3", "user.session.start", "", t0)

	got := mustPut(t, b.events, b, t0, e1, e2, e1)
	if diff := cmp.Diff([]store.PutResult{isNew, isNew, received}, got); diff != "" {
		t.Errorf("one batch with a repeat (-want +got):\n%s", diff)
	}
	got = mustPut(t, b.events, b, t0.Add(time.Second), e2, e3)
	if diff := cmp.Diff([]store.PutResult{received, isNew}, got); diff != "" {
		t.Errorf("second batch (-want +got):\n%s", diff)
	}
	if err := b.events.MarkProcessed(b.ctx, "e2", []string{"x"}); err != nil {
		t.Fatal(err)
	}
	got = mustPut(t, b.events, b, t0.Add(2*time.Second), e1, e2, e3)
	if diff := cmp.Diff([]store.PutResult{received, processed, received}, got); diff != "" {
		t.Errorf("third batch (-want +got):\n%s", diff)
	}
	// A duplicate does not replace the stored event.
	changed := e1
	changed.UserID = "someone-else"
	mustPut(t, b.events, b, t0.Add(3*time.Second), changed)
	rec, err := b.events.Get(b.ctx, "e1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e1, rec.Event); diff != "" {
		t.Errorf("a duplicate Put changed the stored event (-want +got):\n%s", diff)
	}
	if !rec.ReceivedAt.Equal(t0) {
		t.Errorf("ReceivedAt = %v, want the first Put's time %v", rec.ReceivedAt, t0)
	}
	if got, err := b.events.Put(b.ctx, nil, t0); err != nil || len(got) != 0 {
		t.Errorf("Put(nil) = %v, %v", got, err)
	}
}

func TestEventsGetMissing(t *testing.T) {
	b := setup(t)
	if _, err := b.events.Get(b.ctx, "nope"); !errors.Is(err, store.ErrEventNotFound) {
		t.Errorf("Get missing: %v, want store.ErrEventNotFound", err)
	}
}

// TestEventsRetention: the record, and so the dedupe window, lasts the
// retention from the first Put; a duplicate does not extend it.
func TestEventsRetention(t *testing.T) {
	b := setup(t, withRetention(time.Hour))
	e1 := newEvent("e1", "user.lifecycle.create", "u1", t0)
	mustPut(t, b.events, b, t0, e1)

	b.mr.FastForward(59 * time.Minute)
	if got := mustPut(t, b.events, b, t0, e1); got[0] != received {
		t.Fatalf("Put within the retention: %+v, want a duplicate", got[0])
	}
	if _, err := b.events.Get(b.ctx, "e1"); err != nil {
		t.Fatalf("Get within the retention: %v", err)
	}

	b.mr.FastForward(2 * time.Minute)
	if _, err := b.events.Get(b.ctx, "e1"); !errors.Is(err, store.ErrEventNotFound) {
		t.Fatalf("Get after the retention: %v, want not found", err)
	}
	if got := mustPut(t, b.events, b, t0, e1); got[0] != isNew {
		t.Errorf("Put after the retention: %+v, want new", got[0])
	}
}

func TestEventsRetentionRealRedis(t *testing.T) {
	b := setup(t, onRealRedis(), withRetention(300*time.Millisecond))
	e1 := newEvent("e1", "user.lifecycle.create", "u1", t0)
	if got := mustPut(t, b.events, b, t0, e1); got[0] != isNew {
		t.Fatalf("first Put: %+v", got[0])
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := b.events.Get(b.ctx, "e1")
		if errors.Is(err, store.ErrEventNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the event record did not expire within 5s of a 300ms retention")
		}
		time.Sleep(20 * time.Millisecond) // polling Redis for a condition, with a deadline
	}
	if got := mustPut(t, b.events, b, t0, e1); got[0] != isNew {
		t.Errorf("Put after expiry: %+v, want new", got[0])
	}
}

func TestEventsMarkProcessed(t *testing.T) {
	b := setup(t)
	e1 := newEvent("e1", "user.lifecycle.create", "u1", t0)
	e1.Metadata = map[string]any{"outcome": "SUCCESS", "ip_address": "198.51.100.7"}
	e2 := newEvent("e2", "user.session.start", "u2", t0)
	mustPut(t, b.events, b, t0.Add(time.Minute), e1, e2)

	rec, err := b.events.Get(b.ctx, "e1")
	if err != nil {
		t.Fatal(err)
	}
	want := &store.EventRecord{Event: e1, State: store.StateReceived, ReceivedAt: t0.Add(time.Minute)}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("before MarkProcessed (-want +got):\n%s", diff)
	}

	if err := b.events.MarkProcessed(b.ctx, "e1", []string{"ex_a", "ex_b"}); err != nil {
		t.Fatal(err)
	}
	if err := b.events.MarkProcessed(b.ctx, "e2", nil); err != nil {
		t.Fatal(err)
	}
	rec, err = b.events.Get(b.ctx, "e1")
	if err != nil {
		t.Fatal(err)
	}
	want = &store.EventRecord{Event: e1, State: store.StateProcessed, ReceivedAt: t0.Add(time.Minute), ExecutionIDs: []string{"ex_a", "ex_b"}}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("after MarkProcessed (-want +got):\n%s", diff)
	}
	rec, err = b.events.Get(b.ctx, "e2")
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != store.StateProcessed || len(rec.ExecutionIDs) != 0 {
		t.Errorf("e2 after MarkProcessed(nil): state %q executions %v, want processed with none", rec.State, rec.ExecutionIDs)
	}
	if n, err := b.rdb.ZCard(b.ctx, inflightKey).Result(); err != nil || n != 0 {
		t.Errorf("in-flight set holds %d after both were processed (%v), want 0", n, err)
	}

	// Marking an unknown (or expired) event does not create a record.
	if err := b.events.MarkProcessed(b.ctx, "ghost", []string{"ex_c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.events.Get(b.ctx, "ghost"); !errors.Is(err, store.ErrEventNotFound) {
		t.Errorf("Get ghost after MarkProcessed: %v, want not found", err)
	}
}

func TestEventsList(t *testing.T) {
	b := setup(t, withRetention(time.Hour))
	const create, deactivate, session = "user.lifecycle.create", "user.lifecycle.deactivate", "user.session.start"
	// Stored out of time order: List orders by the events' timestamps.
	mustPut(t, b.events, b, t0,
		newEvent("b", create, "u2", t0.Add(2*time.Second)),
		newEvent("d", session, "", t0.Add(4*time.Second)),
		newEvent("a", create, "u1", t0.Add(1*time.Second)),
		newEvent("c", deactivate, "u1", t0.Add(3*time.Second)),
	)
	mustPut(t, b.events, b, t0, newEvent("e", create, "u1", t0))
	// The newest event of all expires early: its index entries outlive it.
	mustPut(t, b.ledger(time.Minute), b, t0,
		newEvent("gone", create, "u1", t0.Add(10*time.Second)))
	b.mr.FastForward(2 * time.Minute)

	for _, tc := range []struct {
		name string
		q    store.EventQuery
		want []string
	}{
		{"all", store.EventQuery{}, []string{"d", "c", "b", "a", "e"}},
		{"limit", store.EventQuery{Limit: 2}, []string{"d", "c"}},
		{"type", store.EventQuery{EventType: create}, []string{"b", "a", "e"}},
		{"user", store.EventQuery{UserID: "u1"}, []string{"c", "a", "e"}},
		{"type and user", store.EventQuery{EventType: create, UserID: "u1"}, []string{"a", "e"}},
		{"type and user with limit", store.EventQuery{EventType: create, UserID: "u1", Limit: 1}, []string{"a"}},
		{"user of one type only", store.EventQuery{EventType: session, UserID: "u1"}, []string{}},
		{"unknown user", store.EventQuery{UserID: "nobody"}, []string{}},
		{"unknown type", store.EventQuery{EventType: "user.nothing"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := b.events.List(b.ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Error("List returned nil, want an empty slice")
			}
			if diff := cmp.Diff(tc.want, recordIDs(got)); diff != "" {
				t.Errorf("List(%+v) (-want +got):\n%s", tc.q, diff)
			}
		})
	}
}

// TestEventsListTypeAndUserAcrossPages: filtering a user's events by type
// reads on past the first page of the user's index.
func TestEventsListTypeAndUserAcrossPages(t *testing.T) {
	b := setup(t)
	var evs []events.SSOEvent
	for i := range 700 {
		typ := "user.session.start"
		if i < 3 { // the three oldest are the only ones of the type asked for
			typ = "user.lifecycle.create"
		}
		evs = append(evs, newEvent(fmt.Sprintf("ev%03d", i), typ, "u1", t0.Add(time.Duration(i)*time.Second)))
	}
	mustPut(t, b.events, b, t0, evs...)
	got, err := b.events.List(b.ctx, store.EventQuery{EventType: "user.lifecycle.create", UserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ev002", "ev001", "ev000"}, recordIDs(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestEventsListLimitOverOnePage: the limit is documented as capped at
// 10000, so 600 stored events and a limit of 600 must list 600.
func TestEventsListLimitOverOnePage(t *testing.T) {
	b := setup(t)
	var evs []events.SSOEvent
	for i := range 600 {
		evs = append(evs, newEvent(fmt.Sprintf("ev%03d", i), "user.session.start", "u1", t0.Add(time.Duration(i)*time.Second)))
	}
	mustPut(t, b.events, b, t0, evs...)
	for _, q := range []store.EventQuery{
		{Limit: 600},
		{Limit: 600, EventType: "user.session.start"},
		{Limit: 600, UserID: "u1"},
	} {
		got, err := b.events.List(b.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 600 {
			t.Errorf("List(%+v) returned %d events, want 600", q, len(got))
		}
	}
}

func TestEventsStranded(t *testing.T) {
	b := setup(t, withRetention(time.Hour))
	// Scores are the time of receipt, not the events' own timestamps: an
	// old event received late is not stranded yet.
	mustPut(t, b.events, b, t0,
		newEvent("early", "user.lifecycle.create", "u1", t0),
		newEvent("done", "user.lifecycle.create", "u2", t0))
	mustPut(t, b.events, b, t0.Add(time.Second), newEvent("early2", "user.lifecycle.create", "u3", t0))
	mustPut(t, b.events, b, t0.Add(10*time.Minute), newEvent("late", "user.lifecycle.create", "u4", t0.Add(-time.Hour)))
	if err := b.events.MarkProcessed(b.ctx, "done", []string{"ex"}); err != nil {
		t.Fatal(err)
	}
	// "short" expires after a minute: the sweep must drop its entry.
	mustPut(t, b.ledger(time.Minute), b, t0, newEvent("short", "user.lifecycle.create", "u5", t0))
	b.mr.FastForward(2 * time.Minute)

	for _, tc := range []struct {
		name   string
		cutoff time.Time
		limit  int
		want   []string
	}{
		{"before all", t0.Add(-time.Second), 100, []string{}},
		{"after the early ones", t0.Add(5 * time.Minute), 100, []string{"early", "early2"}},
		{"limit", t0.Add(5 * time.Minute), 1, []string{"early"}},
		{"after all", t0.Add(time.Hour), 100, []string{"early", "early2", "late"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Sweeping at t0 keeps the events at (or moves them to) the front.
			got, err := b.events.Stranded(b.ctx, tc.cutoff, t0, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, eventIDs(got), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("Stranded (-want +got):\n%s", diff)
			}
		})
	}
	members, err := b.rdb.ZRange(b.ctx, inflightKey, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"early", "early2", "late"}, members, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("in-flight set after the sweeps (-want +got):\n%s", diff)
	}

	// What Stranded returns is the stored event.
	got, err := b.events.Stranded(b.ctx, t0.Add(5*time.Minute), t0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]events.SSOEvent{newEvent("early", "user.lifecycle.create", "u1", t0)}, got); diff != "" {
		t.Errorf("stranded event (-want +got):\n%s", diff)
	}
}

// TestEventsStrandedRotates: a sweep moves what it returns to the back, so a
// stranded event that cannot be queued (its task archived) does not hide the
// others from the next sweep.
func TestEventsStrandedRotates(t *testing.T) {
	b := setup(t, withRetention(time.Hour))
	mustPut(t, b.events, b, t0, newEvent("stuck", "user.lifecycle.create", "u1", t0))
	mustPut(t, b.events, b, t0.Add(time.Second), newEvent("next", "user.lifecycle.create", "u2", t0))
	sweep := t0.Add(10 * time.Minute)
	for i, want := range []string{"stuck", "next", "stuck"} {
		now := sweep.Add(time.Duration(i) * time.Minute)
		got, err := b.events.Stranded(b.ctx, now.Add(-30*time.Second), now, 1)
		if err != nil {
			t.Fatal(err)
		}
		if ids := eventIDs(got); len(ids) != 1 || ids[0] != want {
			t.Fatalf("sweep %d returned %v, want [%s]", i+1, ids, want)
		}
	}
}

// TestEventsListByTypeForms: the type filter takes an Okta type, a pattern
// and a seed name, alone or with a user.
func TestEventsListByTypeForms(t *testing.T) {
	b := setup(t)
	evs := []events.SSOEvent{
		newEvent("c1", "user.lifecycle.create", "u1", t0),
		newEvent("d1", "user.lifecycle.deactivate", "u1", t0.Add(time.Second)),
		newEvent("s1", "user.session.start", "u1", t0.Add(2*time.Second)),
		newEvent("c2", "user.lifecycle.create", "u2", t0.Add(3*time.Second)),
	}
	for i := range evs {
		evs[i].Normalize()
	}
	mustPut(t, b.events, b, t0, evs...)
	for _, tc := range []struct {
		q    store.EventQuery
		want []string
	}{
		{store.EventQuery{EventType: "user.lifecycle.create"}, []string{"c2", "c1"}},
		{store.EventQuery{EventType: "USER_CREATED"}, []string{"c2", "c1"}},
		{store.EventQuery{EventType: "user.lifecycle.*"}, []string{"c2", "d1", "c1"}},
		{store.EventQuery{EventType: "*"}, []string{"c2", "s1", "d1", "c1"}},
		{store.EventQuery{EventType: "USER_CREATED", UserID: "u1"}, []string{"c1"}},
		{store.EventQuery{EventType: "user.*", UserID: "u1"}, []string{"s1", "d1", "c1"}},
		{store.EventQuery{EventType: "LOGOUT"}, []string{}},
	} {
		recs, err := b.events.List(b.ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, r := range recs {
			got = append(got, r.Event.EventID)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("List(%+v) (-want +got):\n%s", tc.q, diff)
		}
	}
}

// TestEventsTrimExpired: once an event's record has expired, the retention
// sweep takes it out of every index it was in, and the indexes shrink back
// to nothing; an event whose record still lives is kept.
func TestEventsTrimExpired(t *testing.T) {
	b := setup(t, withRetention(time.Minute))
	old := newEvent("old", "user.lifecycle.create", "u1", t0)
	old.Normalize()
	mustPut(t, b.events, b, t0, old)
	fresh := newEvent("fresh", "user.lifecycle.create", "u2", t0)
	fresh.Normalize()
	mustPut(t, b.events, b, t0.Add(2*time.Minute), fresh)

	// At t0+90s the retention of "old" has passed, but its record only goes
	// once Redis's clock moves: until then it is kept.
	if n, err := b.events.TrimExpired(b.ctx, t0.Add(90*time.Second), 100); err != nil || n != 0 {
		t.Fatalf("TrimExpired with the record alive = %d, %v; want 0", n, err)
	}
	b.mr.FastForward(61 * time.Second)
	if n, err := b.events.TrimExpired(b.ctx, t0.Add(90*time.Second), 100); err != nil || n != 1 {
		t.Fatalf("TrimExpired = %d, %v; want 1", n, err)
	}
	for _, key := range []string{prefix + "events", prefix + "events:type:user.lifecycle.create", prefix + "events:type:USER_CREATED", prefix + "events:user:u1"} {
		members, err := b.rdb.ZRange(b.ctx, key, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			if m == "old" {
				t.Errorf("%s still lists the expired event", key)
			}
		}
	}
	if n, _ := b.rdb.Exists(b.ctx, prefix+"events:user:u1").Result(); n != 0 {
		t.Error("the expired user's index is still there")
	}
	if n, _ := b.rdb.ZCard(b.ctx, prefix+"events:type:USER_CREATED").Result(); n != 1 {
		t.Errorf("the seed type index holds %d events, want 1 (fresh)", n)
	}
	if n, _ := b.rdb.ZCard(b.ctx, prefix+"events:received").Result(); n != 1 {
		t.Errorf("received set holds %d entries, want 1 (fresh)", n)
	}
}
