// Package scheduler runs ssoflow's periodic work. Any number of replicas may
// run: they elect a leader through a lease in Redis, and only the leader
// works. A leader that dies loses the lease when it lapses, and another
// replica takes over.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/ssoflow/ssoflow/internal/ingest"
	"github.com/ssoflow/ssoflow/internal/store"
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
	// StrandedAfter is how long an event may stay stored but unprocessed
	// before the sweep queues it again (default 2 min).
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

// Scheduler runs periodic work while it leads.
type Scheduler struct {
	cfg      Config
	lease    *store.Lease
	events   *store.Events
	ingester *ingest.Ingester
	now      func() time.Time
	log      zerolog.Logger

	leading   bool
	lastSweep time.Time
}

// New returns a scheduler. lease elects the leader among replicas.
func New(cfg Config, lease *store.Lease, ledger *store.Events, in *ingest.Ingester, now func() time.Time, log zerolog.Logger) *Scheduler {
	return &Scheduler{cfg: cfg.WithDefaults(), lease: lease, events: ledger, ingester: in, now: now,
		log: log.With().Str("component", "scheduler").Logger()}
}

// Run works until ctx ends, then gives up the lease so that another replica
// can lead at once.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		s.tick(ctx)
		select {
		case <-ctx.Done():
			if s.leading {
				release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				defer cancel()
				if err := s.lease.Release(release); err != nil {
					s.log.Warn().Err(err).Msg("could not release the leader lease; it will lapse")
				}
			}
			return nil
		case <-t.C:
		}
	}
}

// Leading reports whether this replica held the lease at its last tick.
func (s *Scheduler) Leading() bool { return s.leading }

func (s *Scheduler) tick(ctx context.Context) {
	held, err := s.lease.Acquire(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("cannot reach Redis for the leader lease")
		}
		held = false
	}
	if held != s.leading {
		s.leading = held
		if held {
			s.log.Info().Msg("leading: running periodic work")
		} else {
			s.log.Info().Msg("standing by: another replica leads")
		}
	}
	if !held {
		return
	}
	if now := s.now(); now.Sub(s.lastSweep) >= s.cfg.SweepInterval {
		s.lastSweep = now
		s.sweepStranded(ctx, now)
	}
}

// sweepStranded queues again the events that were stored but never
// processed: an ingest whose enqueue failed after the store, with no
// redelivery to complete it.
func (s *Scheduler) sweepStranded(ctx context.Context, now time.Time) {
	evs, err := s.events.Stranded(ctx, now.Add(-s.cfg.StrandedAfter), 1000)
	if err != nil {
		s.log.Warn().Err(err).Msg("stranded-event sweep failed")
		return
	}
	if len(evs) == 0 {
		return
	}
	n, err := s.ingester.Requeue(ctx, evs)
	if err != nil {
		s.log.Warn().Err(err).Msg("stranded-event sweep could not queue events")
		return
	}
	if n > 0 {
		s.log.Warn().Int("requeued", n).Msg("queued stranded events again")
	}
}
