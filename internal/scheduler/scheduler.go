// Package scheduler runs ssoflow's periodic work. Any number of replicas may
// run: they elect a leader through a lease in Redis, and only the leader
// works. A leader that dies loses the lease when it lapses, and another
// replica takes over.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/ssoflow/ssoflow/internal/ingest"
	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/internal/tasks"
	"github.com/ssoflow/ssoflow/pkg/flows"
)

// Defaults of Config.
const (
	DefaultLeaseTTL      = 15 * time.Second
	DefaultTick          = 5 * time.Second
	DefaultSweepInterval = 30 * time.Second
	DefaultStrandedAfter = 2 * time.Minute
)

// Config configures the scheduler.
type Config struct {
	// LeaseTTL is how long leadership lasts without renewal (default 15 s):
	// the longest a dead leader's work waits for a successor.
	LeaseTTL time.Duration
	// Tick is how often a replica renews or tries for the lease (default
	// 5 s); it must be well under LeaseTTL.
	Tick time.Duration
	// SweepInterval is how often the leader looks for stranded events
	// (default 30 s).
	SweepInterval time.Duration
	// StrandedAfter is how long an event may stay stored but unprocessed, or
	// an execution pending (or running past its deadline), before a sweep
	// queues its task again (default 2 min).
	StrandedAfter time.Duration
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.LeaseTTL == 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.Tick == 0 {
		c.Tick = DefaultTick
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.StrandedAfter == 0 {
		c.StrandedAfter = DefaultStrandedAfter
	}
	return c
}

// Validate reports every problem of c at once; call it on WithDefaults.
func (c Config) Validate() error {
	var errs []error
	if c.Tick <= 0 || c.LeaseTTL <= 0 || c.SweepInterval <= 0 || c.StrandedAfter <= 0 {
		errs = append(errs, errors.New("scheduler intervals must be positive"))
	}
	if c.Tick*2 > c.LeaseTTL {
		errs = append(errs, fmt.Errorf("scheduler tick %s must be at most half the lease TTL %s", c.Tick, c.LeaseTTL))
	}
	return errors.Join(errs...)
}

// Deps are what the scheduler works on. All must be set.
type Deps struct {
	// Lease elects the leader among replicas.
	Lease *store.Lease
	// Events is the event ledger, Ingester re-queues its stranded events.
	Events   *store.Events
	Ingester *ingest.Ingester
	// Executions is the history, Queue re-queues its stuck executions, and
	// Registry gives their flows' timeouts.
	Executions *store.Executions
	Queue      tasks.Enqueuer
	Registry   *flows.Registry
	// Now reads the clock.
	Now func() time.Time
	// Log is the scheduler's logger.
	Log zerolog.Logger
}

// Scheduler runs periodic work while it leads.
type Scheduler struct {
	cfg  Config
	deps Deps
	log  zerolog.Logger

	leading   atomic.Bool
	lastSweep time.Time
}

// New returns a scheduler.
func New(cfg Config, deps Deps) *Scheduler {
	return &Scheduler{cfg: cfg.WithDefaults(), deps: deps, log: deps.Log.With().Str("component", "scheduler").Logger()}
}

// Run works until ctx ends, then gives up the lease (if it holds it) so that
// another replica can lead at once.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		s.tick(ctx)
		select {
		case <-ctx.Done():
			// Release even when the last tick lost track of the lease (a
			// renewal cut short by the ending ctx): Release checks the owner.
			release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := s.deps.Lease.Release(release); err != nil {
				s.log.Warn().Err(err).Msg("could not release the leader lease; it will lapse")
			}
			s.leading.Store(false)
			return nil
		case <-t.C:
		}
	}
}

// Leading reports whether this replica held the lease at its last tick.
func (s *Scheduler) Leading() bool { return s.leading.Load() }

func (s *Scheduler) tick(ctx context.Context) {
	held, err := s.deps.Lease.Acquire(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("cannot reach Redis for the leader lease: not leading")
		}
		held = false
	}
	if s.leading.Swap(held) != held {
		switch {
		case held:
			s.log.Info().Msg("leading: running periodic work")
		case err == nil:
			s.log.Info().Msg("standing by: another replica leads")
		default:
			s.log.Warn().Msg("stopped leading: Redis is unreachable")
		}
	}
	if !held {
		return
	}
	if now := s.deps.Now(); now.Sub(s.lastSweep) >= s.cfg.SweepInterval {
		s.lastSweep = now
		s.sweepStranded(ctx, now)
		s.sweepStuckExecutions(ctx, now)
		s.trimExpiredEvents(ctx, now)
	}
}

// sweepStranded queues again the events that were stored but never
// processed: an ingest whose enqueue failed after the store, with no
// redelivery to complete it.
func (s *Scheduler) sweepStranded(ctx context.Context, now time.Time) {
	evs, err := s.deps.Events.Stranded(ctx, now.Add(-s.cfg.StrandedAfter), now, sweepBatch)
	if err != nil {
		s.log.Warn().Err(err).Msg("stranded-event sweep failed")
		return
	}
	if len(evs) == 0 {
		return
	}
	n, err := s.deps.Ingester.Requeue(ctx, evs)
	if err != nil {
		s.log.Warn().Err(err).Msg("stranded-event sweep could not queue events")
		return
	}
	if n > 0 {
		s.log.Warn().Int("requeued", n).Msg("queued stranded events again")
	}
}

// sweepBatch bounds the work of one sweep.
const sweepBatch = 1000

// sweepStuckExecutions finds executions whose task chain broke (a crash
// between recording a state and queueing the next task, a task archived
// after its retries): pending ones get their invocation queued again, and
// running ones past their deadline a poll, which ends them as timed out or
// records the result the flow has. Both tasks are no-ops when a task of that
// identity is already queued, or when the execution moved on meanwhile.
func (s *Scheduler) sweepStuckExecutions(ctx context.Context, now time.Time) {
	requeued := 0
	pending, err := s.deps.Executions.Older(ctx, flows.StatusPending, now.Add(-s.cfg.StrandedAfter), sweepBatch)
	if err != nil {
		s.log.Warn().Err(err).Msg("stuck-execution sweep failed")
		return
	}
	for _, e := range pending {
		task, err := tasks.NewInvokeTask(e.ExecutionID)
		if !s.requeue(ctx, task, err, &requeued) {
			return
		}
	}
	// Any running execution created this long ago is past its deadline.
	var longest time.Duration
	for _, f := range s.deps.Registry.List("") {
		longest = max(longest, f.Timeout)
	}
	running, err := s.deps.Executions.Older(ctx, flows.StatusRunning, now.Add(-longest-s.cfg.StrandedAfter), sweepBatch)
	if err != nil {
		s.log.Warn().Err(err).Msg("stuck-execution sweep failed")
		return
	}
	for _, e := range running {
		if e.Deadline.IsZero() || now.Before(e.Deadline.Add(s.cfg.StrandedAfter)) {
			continue
		}
		task, err := tasks.NewPollTask(e.ExecutionID, e.Polls+1, 0)
		if !s.requeue(ctx, task, err, &requeued) {
			return
		}
	}
	if requeued > 0 {
		s.log.Warn().Int("requeued", requeued).Msg("queued tasks again for stuck executions")
	}
}

// requeue enqueues a task that a constructor returned with err, counting
// it in *n when it is new. It reports false, having logged why, when the
// sweep should stop.
func (s *Scheduler) requeue(ctx context.Context, task *asynq.Task, err error, n *int) bool {
	if err == nil {
		var isNew bool
		if isNew, err = tasks.Enqueue(ctx, s.deps.Queue, task); isNew {
			*n++
		}
	}
	if err != nil {
		s.log.Warn().Err(err).Msg("stuck-execution sweep could not queue a task")
		return false
	}
	return true
}

// trimExpiredEvents takes events past their retention out of the list
// indexes, a batch at a time, for at most ten batches a sweep.
func (s *Scheduler) trimExpiredEvents(ctx context.Context, now time.Time) {
	total := 0
	for range 10 {
		n, err := s.deps.Events.TrimExpired(ctx, now, sweepBatch)
		total += n
		if err != nil {
			s.log.Warn().Err(err).Msg("event retention sweep failed")
			break
		}
		if n < sweepBatch {
			break
		}
	}
	if total > 0 {
		s.log.Debug().Int("trimmed", total).Msg("expired events taken out of the indexes")
	}
}
