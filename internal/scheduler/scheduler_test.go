package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/ssoflow/ssoflow/internal/ingest"
	"github.com/ssoflow/ssoflow/internal/scheduler"
	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/internal/tasks"
	"github.com/ssoflow/ssoflow/internal/testutil"
	"github.com/ssoflow/ssoflow/pkg/events"
	"github.com/ssoflow/ssoflow/pkg/flows"
)

const leaseKey = store.DefaultPrefix + "lease:scheduler"

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// probe watches one scheduler's Redis connection: it records the result
// of each lease renewal (what Leading would say) without touching the
// scheduler's own state, and can hold a renewal until its ctx ends.
type probe struct {
	mu       sync.Mutex
	ticks    int  // lease renewals that completed
	held     bool // the result of the last
	everHeld bool
	// hold, when set, makes the next renewal wait for its ctx to end; the
	// probe closes holding once it waits.
	hold    bool
	holding chan struct{}
}

func (p *probe) DialHook(next redis.DialHook) redis.DialHook { return next }

func (p *probe) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (p *probe) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		// The acquire script: EVALSHA/EVAL sha 1 key owner ttl.
		acquire := len(args) == 6 && fmt.Sprint(args[3]) == leaseKey
		if acquire {
			p.mu.Lock()
			hold := p.hold
			p.hold = false
			p.mu.Unlock()
			if hold {
				close(p.holding)
				<-ctx.Done()
			}
		}
		err := next(ctx, cmd)
		if acquire && (err == nil || !strings.HasPrefix(err.Error(), "NOSCRIPT")) {
			n, _ := cmd.(*redis.Cmd).Int()
			p.mu.Lock()
			p.ticks++
			p.held = err == nil && n == 1
			p.everHeld = p.everHeld || p.held
			p.mu.Unlock()
		}
		return err
	}
}

func (p *probe) state() (ticks int, held, everHeld bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ticks, p.held, p.everHeld
}

// holdNextRenewal makes the next renewal wait until its ctx ends, and
// returns a channel closed once it waits.
func (p *probe) holdNextRenewal() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = true
	p.holding = make(chan struct{})
	return p.holding
}

type bundle struct {
	ctx    context.Context
	mr     *miniredis.Miniredis
	rdb    *redis.Client
	ledger *store.Events
	queue  *asynq.Client
	insp   *asynq.Inspector
	clock  *testutil.Clock
}

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{ctx: t.Context(), mr: miniredis.RunT(t), clock: testutil.NewClock(t0)}
	b.rdb = b.client(t, nil)
	b.ledger = store.NewEvents(b.rdb, "", time.Hour)
	b.queue = asynq.NewClientFromRedisClient(b.rdb)
	b.insp = asynq.NewInspectorFromRedisClient(b.rdb)
	return b
}

func (b *bundle) client(t *testing.T, hook redis.Hook) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: b.mr.Addr()})
	if hook != nil {
		c.AddHook(hook)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// replica is one scheduler running in the test.
type replica struct {
	owner  string
	s      *scheduler.Scheduler
	probe  *probe
	cancel context.CancelFunc
	done   chan error
}

// start runs a scheduler replica on its own connection until the test
// ends or stop is called.
func (b *bundle) start(t *testing.T, owner string, cfg scheduler.Config) *replica {
	t.Helper()
	r := &replica{owner: owner, probe: &probe{}, done: make(chan error, 1)}
	rdb := b.client(t, r.probe)
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	lease := store.NewLease(rdb, "", "scheduler", owner, cfg.LeaseTTL)
	ledger := store.NewEvents(rdb, "", time.Hour)
	in := ingest.New(ledger, asynq.NewClientFromRedisClient(rdb), b.clock.Now, zerolog.Nop())
	r.s = scheduler.New(cfg, scheduler.Deps{
		Lease: lease, Events: ledger, Ingester: in,
		Executions: store.NewExecutions(rdb, ""), Queue: asynq.NewClientFromRedisClient(rdb), Registry: flows.MockRegistry(),
		Now: b.clock.Now, Log: zerolog.Nop(),
	})
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.s.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

// stop ends the replica's Run and waits for it to return.
func (r *replica) stop() {
	r.cancel()
	if _, ok := <-r.done; ok { // Run always returns nil
		close(r.done)
	}
}

// waitUntil polls cond until it holds, failing the test after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10s: %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling for a condition, with a deadline
	}
}

func (b *bundle) leaseOwner(t *testing.T) string {
	t.Helper()
	v, err := b.rdb.Get(b.ctx, leaseKey).Result()
	if errors.Is(err, redis.Nil) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var fast = scheduler.Config{Tick: 20 * time.Millisecond, LeaseTTL: time.Second}

func TestOneLeader(t *testing.T) {
	b := setup(t)
	a := b.start(t, "a", fast)
	c := b.start(t, "c", fast)
	waitUntil(t, "both replicas tick 5 times", func() bool {
		na, _, _ := a.probe.state()
		nc, _, _ := c.probe.state()
		return na >= 5 && nc >= 5
	})
	_, aHeld, aEver := a.probe.state()
	_, cHeld, cEver := c.probe.state()
	if aHeld == cHeld || aEver == cEver {
		t.Fatalf("leading: a %v (ever %v), c %v (ever %v); want exactly one, always the same", aHeld, aEver, cHeld, cEver)
	}
	leader, standby := a, c
	if cHeld {
		leader, standby = c, a
	}
	if got := b.leaseOwner(t); got != leader.owner {
		t.Errorf("lease held by %q, want %q", got, leader.owner)
	}
	if !leader.s.Leading() || standby.s.Leading() {
		t.Errorf("Leading while running: leader %v, standby %v", leader.s.Leading(), standby.s.Leading())
	}
	// Stopped, neither leads.
	standby.stop()
	leader.stop()
	if leader.s.Leading() || standby.s.Leading() {
		t.Errorf("Leading after stop: leader %v, standby %v", leader.s.Leading(), standby.s.Leading())
	}
}

// TestTakeoverOnRelease: a leader that stops releases the lease, and the
// standby leads at its next tick, long before the lease would lapse (on
// miniredis it never lapses by itself).
func TestTakeoverOnRelease(t *testing.T) {
	b := setup(t)
	slow := scheduler.Config{Tick: time.Hour, LeaseTTL: 3 * time.Hour}
	a := b.start(t, "a", slow) // ticks once now, then not for an hour
	waitUntil(t, "a leads", func() bool { _, held, _ := a.probe.state(); return held })
	c := b.start(t, "c", fast)
	waitUntil(t, "c stands by for 3 ticks", func() bool { n, _, _ := c.probe.state(); return n >= 3 })
	if _, _, ever := c.probe.state(); ever {
		t.Fatal("c led while a held the lease")
	}

	if !a.s.Leading() {
		t.Error("a does not report it leads")
	}
	a.stop()
	if a.s.Leading() {
		t.Error("a reports it leads after it stopped")
	}
	if got := b.leaseOwner(t); got == "a" {
		t.Fatal("a stopped without releasing the lease")
	}
	waitUntil(t, "c leads", func() bool { _, held, _ := c.probe.state(); return held })
	if got := b.leaseOwner(t); got != "c" {
		t.Errorf("lease held by %q, want c", got)
	}
}

// TestTakeoverAfterLapse: a leader that dies without releasing (SIGKILL)
// loses the lease when it lapses.
func TestTakeoverAfterLapse(t *testing.T) {
	b := setup(t)
	dead := store.NewLease(b.rdb, "", "scheduler", "dead", fast.LeaseTTL)
	if ok, err := dead.Acquire(b.ctx); err != nil || !ok {
		t.Fatalf("dead replica's lease: %v %v", ok, err)
	}
	c := b.start(t, "c", fast)
	waitUntil(t, "c stands by for 3 ticks", func() bool { n, _, _ := c.probe.state(); return n >= 3 })
	if _, _, ever := c.probe.state(); ever {
		t.Fatal("c led while the lease was held")
	}
	b.mr.FastForward(fast.LeaseTTL)
	waitUntil(t, "c leads after the lease lapsed", func() bool { _, held, _ := c.probe.state(); return held })
	if got := b.leaseOwner(t); got != "c" {
		t.Errorf("lease held by %q, want c", got)
	}
}

// TestReleaseWhenStoppedDuringRenewal: the shutdown arrives while the
// leader's renewal is in flight (a slow Redis, or the ticker firing as ctx
// ends). The leader still holds the lease, so it must release it.
func TestReleaseWhenStoppedDuringRenewal(t *testing.T) {
	b := setup(t)
	a := b.start(t, "a", scheduler.Config{Tick: 50 * time.Millisecond, LeaseTTL: time.Hour})
	waitUntil(t, "a leads", func() bool { _, held, _ := a.probe.state(); return held })
	holding := a.probe.holdNextRenewal()
	select {
	case <-holding:
	case <-time.After(10 * time.Second):
		t.Fatal("no renewal within 10s")
	}
	a.stop()
	if got := b.leaseOwner(t); got == "a" {
		t.Errorf("a stopped and its lease is still held (TTL %s)", b.mr.TTL(leaseKey))
	}
}

// TestLeadingRace: Leading is meant to be asked while Run runs (it is the
// only way to know); under -race this would report any unsynchronised read.
func TestLeadingRace(t *testing.T) {
	b := setup(t)
	a := b.start(t, "a", fast)
	waitUntil(t, "Leading reports true", a.s.Leading)
}

// strand stores events whose enqueue fails, at time at.
func (b *bundle) strand(t *testing.T, at time.Time, evs ...events.SSOEvent) {
	t.Helper()
	b.clock.Set(at)
	in := ingest.New(b.ledger, failingQueue{}, b.clock.Now, zerolog.Nop())
	if _, err := in.Ingest(b.ctx, evs); err == nil {
		t.Fatal("Ingest with a failing queue: nil error")
	}
}

type failingQueue struct{}

func (failingQueue) EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
	return nil, errors.New("queue down")
}

func ev(id string) events.SSOEvent {
	e := events.SSOEvent{EventID: id, EventType: "user.lifecycle.create", UserID: "u-" + id, Timestamp: t0}
	e.Normalize()
	return e
}

func (b *bundle) queued(t *testing.T) []string {
	t.Helper()
	return testutil.PendingTaskIDs(t, b.insp, tasks.QueueEvents, tasks.TypeEventProcess)
}

// TestStrandedSweep: an event stored but never queued (the enqueue failed
// after the store, and the sender never retried) is queued by the leader's
// sweep once it is older than StrandedAfter.
func TestStrandedSweep(t *testing.T) {
	b := setup(t)
	b.strand(t, t0, ev("old"), ev("old-done"))
	if err := b.ledger.MarkProcessed(b.ctx, "old-done", nil); err != nil {
		t.Fatal(err)
	}
	b.strand(t, t0.Add(10*time.Minute), ev("recent"))
	if q := b.queued(t); len(q) != 0 {
		t.Fatalf("queued before the sweep: %v", q)
	}

	b.clock.Set(t0.Add(10*time.Minute + 30*time.Second)) // old is 10 min old, recent 30 s
	s := b.start(t, "a", scheduler.Config{Tick: 20 * time.Millisecond, LeaseTTL: time.Second, StrandedAfter: time.Minute})
	waitUntil(t, "the stranded event is queued", func() bool { return len(b.queued(t)) > 0 })
	waitUntil(t, "a few more ticks", func() bool { n, _, _ := s.probe.state(); return n >= 3 })
	if diff := cmp.Diff([]string{"event:old"}, b.queued(t)); diff != "" {
		t.Errorf("queued by the sweep (-want +got):\n%s", diff)
	}
	ti, err := b.insp.GetTaskInfo(tasks.QueueEvents, "event:old")
	if err != nil {
		t.Fatal(err)
	}
	if ti.Type != tasks.TypeEventProcess {
		t.Errorf("sweep queued a %s task", ti.Type)
	}
}

// TestStandbyDoesNotSweep: only the leader works.
func TestStandbyDoesNotSweep(t *testing.T) {
	b := setup(t)
	b.strand(t, t0, ev("old"))
	b.clock.Set(t0.Add(time.Hour))
	other := store.NewLease(b.rdb, "", "scheduler", "other", time.Hour)
	if ok, err := other.Acquire(b.ctx); err != nil || !ok {
		t.Fatalf("other replica's lease: %v %v", ok, err)
	}
	s := b.start(t, "a", scheduler.Config{Tick: 20 * time.Millisecond, LeaseTTL: time.Second, StrandedAfter: time.Minute})
	waitUntil(t, "5 ticks", func() bool { n, _, _ := s.probe.state(); return n >= 5 })
	if q := b.queued(t); len(q) != 0 {
		t.Errorf("a standby replica queued %v", q)
	}
	// Once the other replica lets go, this one sweeps.
	if err := other.Release(b.ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the stranded event is queued", func() bool { return len(b.queued(t)) == 1 })
}

func TestConfig(t *testing.T) {
	got := scheduler.Config{}.WithDefaults()
	want := scheduler.Config{
		LeaseTTL: scheduler.DefaultLeaseTTL, Tick: scheduler.DefaultTick,
		SweepInterval: scheduler.DefaultSweepInterval, StrandedAfter: scheduler.DefaultStrandedAfter,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WithDefaults (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}

	for _, tc := range []struct {
		name string
		cfg  scheduler.Config
		want []string // substrings of the error, all of them
	}{
		{"tick at half the TTL", scheduler.Config{Tick: 5 * time.Second, LeaseTTL: 10 * time.Second}, nil},
		{"tick over half the TTL", scheduler.Config{Tick: 6 * time.Second, LeaseTTL: 10 * time.Second}, []string{"at most half the lease TTL"}},
		{"negative sweep", scheduler.Config{SweepInterval: -time.Second}, []string{"must be positive"}},
		{"both", scheduler.Config{Tick: time.Minute, StrandedAfter: -1}, []string{"must be positive", "at most half the lease TTL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testutil.ErrorMentions(t, tc.cfg.WithDefaults().Validate(), tc.want)
		})
	}
}

// TestStuckExecutionSweep: executions whose task chain broke are given a
// task again by the leader. A pending one gets its invocation; a running one
// long past its deadline a poll (numbered after its last); fresh ones and
// finished ones get nothing.
func TestStuckExecutionSweep(t *testing.T) {
	b := setup(t)
	execs := store.NewExecutions(b.rdb, "")
	put := func(id string, st flows.Status, created time.Time, polls int) {
		e := &flows.ExecutionResult{ExecutionID: id, FlowID: flows.FlowNewHireOnboarding, Status: st,
			CreatedAt: created, UpdatedAt: created, Polls: polls}
		if st == flows.StatusRunning {
			e.StartedAt, e.Deadline = created, created.Add(time.Minute)
		}
		if ok, err := execs.Create(b.ctx, e); err != nil || !ok {
			t.Fatalf("create %s: %v %v", id, ok, err)
		}
	}
	put("ex-pending-old", flows.StatusPending, t0, 0)
	put("ex-running-old", flows.StatusRunning, t0, 2)
	put("ex-success-old", flows.StatusSuccess, t0, 0)
	put("ex-pending-new", flows.StatusPending, t0.Add(10*time.Minute), 0)
	put("ex-running-new", flows.StatusRunning, t0.Add(9*time.Minute), 0)

	b.clock.Set(t0.Add(10*time.Minute + 30*time.Second))
	s := b.start(t, "a", scheduler.Config{Tick: 20 * time.Millisecond, LeaseTTL: time.Second, StrandedAfter: time.Minute})
	pending := func() []string {
		tis, err := b.insp.ListPendingTasks(tasks.QueueFlows)
		if err != nil {
			return nil
		}
		var ids []string
		for _, ti := range tis {
			ids = append(ids, ti.ID)
		}
		sort.Strings(ids)
		return ids
	}
	waitUntil(t, "two tasks queued", func() bool { return len(pending()) >= 2 })
	waitUntil(t, "a few more ticks", func() bool { n, _, _ := s.probe.state(); return n >= 3 })
	if diff := cmp.Diff([]string{"invoke:ex-pending-old", "poll:ex-running-old:3"}, pending()); diff != "" {
		t.Errorf("queued by the sweep (-want +got):\n%s", diff)
	}
}
