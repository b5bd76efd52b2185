// Package ingest makes events durable: it records each event in the ledger
// and enqueues its processing task, and reports which events were new and
// which were duplicates. It answers only once both writes are in Redis.
package ingest

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/internal/tasks"
	"github.com/ssoflow/ssoflow/pkg/events"
)

// enqueueConcurrency bounds the enqueues in flight for one batch: asynq
// enqueues one task per round trip, so a large batch wants several at once.
const enqueueConcurrency = 8

// Ingester accepts events.
type Ingester struct {
	events *store.Events
	queue  tasks.Enqueuer
	now    func() time.Time
	log    zerolog.Logger
}

// New returns an Ingester writing to the ledger and the queue.
func New(ledger *store.Events, queue tasks.Enqueuer, now func() time.Time, log zerolog.Logger) *Ingester {
	return &Ingester{events: ledger, queue: queue, now: now, log: log}
}

// Result counts what became of a batch.
type Result struct {
	// Accepted events are new and queued for processing.
	Accepted int `json:"accepted"`
	// Duplicates were seen before (within the ledger's retention window) or
	// appeared twice in the batch.
	Duplicates int `json:"duplicates"`
}

// Ingest stores the events and queues them for processing. On a nil error
// every event is durable and queued (or was already). On an error, some may
// be stored and not queued; the same batch sent again completes them, and
// the scheduler's sweep re-queues any that are never sent again.
func (in *Ingester) Ingest(ctx context.Context, evs []events.SSOEvent) (Result, error) {
	now := in.now()
	var res Result
	batch := make([]events.SSOEvent, 0, len(evs))
	seen := make(map[string]bool, len(evs))
	for _, ev := range evs {
		if seen[ev.EventID] {
			res.Duplicates++
			continue
		}
		seen[ev.EventID] = true
		if ev.Timestamp.IsZero() {
			ev.Timestamp = now
		}
		batch = append(batch, ev)
	}
	if len(batch) == 0 {
		return res, nil
	}
	puts, err := in.events.Put(ctx, batch, now)
	if err != nil {
		return Result{}, err
	}
	// Queue the new events and any that an earlier attempt stored but may
	// not have queued; the TaskID makes a second enqueue a no-op.
	var toQueue []*events.SSOEvent
	for i, p := range puts {
		if p.NeedsQueueing() {
			toQueue = append(toQueue, &batch[i])
		} else {
			res.Duplicates++
		}
	}
	newCount, err := in.enqueueAll(ctx, toQueue)
	if err != nil {
		return Result{}, err
	}
	res.Accepted = newCount
	res.Duplicates += len(toQueue) - newCount
	in.markQueued(ctx, toQueue)
	return res, nil
}

// markQueued notes in the ledger that the events are queued, so that a
// redelivery counts as a duplicate without trying a second enqueue (which,
// once the first task has completed and freed its TaskID, would succeed).
// The events are durable and queued already, so a failure here only costs
// a redundant, idempotent task later: it is logged, not returned.
func (in *Ingester) markQueued(ctx context.Context, evs []*events.SSOEvent) {
	if len(evs) == 0 {
		return
	}
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.EventID
	}
	if err := in.events.MarkQueued(ctx, ids); err != nil {
		in.log.Warn().Err(err).Int("events", len(ids)).Msg("events queued but not marked so")
	}
}

// enqueueAll enqueues the events' tasks, a few at a time, and returns how
// many were newly queued.
func (in *Ingester) enqueueAll(ctx context.Context, evs []*events.SSOEvent) (int, error) {
	var (
		mu       sync.Mutex
		newCount int
		firstErr error
		failed   int
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, enqueueConcurrency)
	for _, ev := range evs {
		task, err := tasks.NewEventTask(ev)
		if err != nil {
			return 0, err
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			isNew, err := tasks.Enqueue(ctx, in.queue, task)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				firstErr = cmp.Or(firstErr, err)
			} else if isNew {
				newCount++
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, fmt.Errorf("%d of %d events not queued: %w", failed, len(evs), firstErr)
	}
	return newCount, nil
}

// Requeue enqueues the processing task of events that were stored but may
// never have been queued. It returns how many were queued now.
func (in *Ingester) Requeue(ctx context.Context, evs []events.SSOEvent) (int, error) {
	ptrs := make([]*events.SSOEvent, len(evs))
	for i := range evs {
		ptrs[i] = &evs[i]
	}
	return in.enqueueAll(ctx, ptrs)
}
