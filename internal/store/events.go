package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssoflow/ssoflow/pkg/events"
)

// Event states in the ledger.
const (
	// StateReceived: stored, its processing task maybe not yet enqueued.
	StateReceived = "received"
	// StateProcessed: rules evaluated, executions created.
	StateProcessed = "processed"
)

// DefaultEventRetention is how long an event's record, and so its
// deduplication, lasts.
const DefaultEventRetention = 7 * 24 * time.Hour

// Events is the event ledger in Redis. Each event's record (its JSON, state
// and the executions it triggered) expires after the retention window and
// is, until then, the proof that the event was seen: a second Put of the same
// event id is a duplicate. Sorted sets index events by time, type and user;
// a set of in-flight events lets a sweep find events whose processing task
// was never enqueued.
type Events struct {
	rdb       redis.UniversalClient
	keys      keys
	retention time.Duration
}

// NewEvents returns the ledger under prefix (DefaultPrefix when empty),
// keeping records for retention (DefaultEventRetention when zero).
func NewEvents(rdb redis.UniversalClient, prefix string, retention time.Duration) *Events {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if retention <= 0 {
		retention = DefaultEventRetention
	}
	return &Events{rdb: rdb, keys: keys{prefix}, retention: retention}
}

// putEvent stores an event unless its record exists, and returns the state
// it was found in ("queued" for a received event whose task was enqueued),
// or "new". A new event enters the in-flight set and the received set (by
// time of receipt) and its list indexes (by the event's own time).
// KEYS: event, in flight, received, index... ARGV: json, score, now, ttl ms, id, received member.
var putEvent = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if st == 'received' and redis.call('HEXISTS', KEYS[1], 'queued') == 1 then return 'queued' end
if st then return st end
redis.call('HSET', KEYS[1], 'json', ARGV[1], 'state', 'received', 'received_at', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[6])
for i = 4, #KEYS do redis.call('ZADD', KEYS[i], ARGV[2], ARGV[5]) end
return 'new'
`)

// indexes returns the list indexes an event belongs to: all events, its
// Okta type, each of its seed types, and its user.
func (k keys) indexes(ev *events.SSOEvent) []string {
	out := []string{k.eventsAll(), k.eventsByType(ev.EventType)}
	for _, t := range ev.Types {
		if string(t) != ev.EventType {
			out = append(out, k.eventsByType(string(t)))
		}
	}
	if ev.UserID != "" {
		out = append(out, k.eventsByUser(ev.UserID))
	}
	return out
}

// receivedEntry is a member of the received set: what the retention sweep
// needs to take an expired event out of its indexes.
type receivedEntry struct {
	ID      string   `json:"id"`
	Indexes []string `json:"indexes"`
}

// markQueued notes that an event's processing task was enqueued, so that a
// redelivery is a duplicate without a second enqueue. KEYS: event.
var markQueued = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') == 'received' then redis.call('HSET', KEYS[1], 'queued', 1) end
return 0
`)

// markProcessed records the executions an event triggered and takes it off
// the in-flight set. KEYS: event, in flight. ARGV: executions json, id.
var markProcessed = redis.NewScript(`
redis.call('ZREM', KEYS[2], ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'state', 'processed', 'executions', ARGV[1])
return 1
`)

// PutResult says what Put found.
type PutResult struct {
	// New is true when the event was stored now.
	New bool
	// State is the state the event was found in when it was not new:
	// received, processed, or "queued" for a received event whose task is
	// known to be queued.
	State string
}

// NeedsQueueing reports whether the event's processing task must be
// enqueued: it is new, or an earlier attempt stored it but may have failed
// before its enqueue.
func (r PutResult) NeedsQueueing() bool { return r.New || r.State == StateReceived }

// Put stores events that are not yet in the ledger, in one round trip, and
// reports for each whether it was new. A nil error means every event is
// durable in Redis.
func (s *Events) Put(ctx context.Context, evs []events.SSOEvent, now time.Time) ([]PutResult, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(evs))
	k := s.keys
	for i := range evs {
		ev := &evs[i]
		data, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("encode event %s: %w", ev.EventID, err)
		}
		indexes := k.indexes(ev)
		member, err := json.Marshal(receivedEntry{ID: ev.EventID, Indexes: indexes})
		if err != nil {
			return nil, err
		}
		// Eval, not EvalSha: a pipeline cannot fall back on NOSCRIPT, and
		// the script is small beside the event it carries.
		cmds[i] = putEvent.Eval(ctx, pipe,
			append([]string{k.event(ev.EventID), k.eventsInflight(), k.eventsReceived()}, indexes...),
			data, millis(ev.Timestamp), millis(now), s.retention.Milliseconds(), ev.EventID, member)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("store events: %w", err)
	}
	out := make([]PutResult, len(evs))
	for i, c := range cmds {
		st, err := c.Text()
		if err != nil {
			return nil, fmt.Errorf("store event %s: %w", evs[i].EventID, err)
		}
		out[i] = PutResult{New: st == "new", State: st}
	}
	return out, nil
}

// MarkQueued notes that the events' processing tasks are queued.
func (s *Events) MarkQueued(ctx context.Context, ids []string) error {
	pipe := s.rdb.Pipeline()
	for _, id := range ids {
		markQueued.Eval(ctx, pipe, []string{s.keys.event(id)})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("mark events queued: %w", err)
	}
	return nil
}

// MarkProcessed records the executions an event triggered.
func (s *Events) MarkProcessed(ctx context.Context, eventID string, executionIDs []string) error {
	if executionIDs == nil {
		executionIDs = []string{}
	}
	data, err := json.Marshal(executionIDs)
	if err != nil {
		return err
	}
	k := s.keys
	if err := markProcessed.Run(ctx, s.rdb, []string{k.event(eventID), k.eventsInflight()}, data, eventID).Err(); err != nil {
		return fmt.Errorf("mark event %s processed: %w", eventID, err)
	}
	return nil
}

// ErrEventNotFound is returned for an event the ledger does not hold.
var ErrEventNotFound = errors.New("event not found")

// EventRecord is an event as the ledger holds it.
type EventRecord struct {
	Event        events.SSOEvent
	State        string
	ReceivedAt   time.Time
	ExecutionIDs []string
}

// Get returns one event's record.
func (s *Events) Get(ctx context.Context, id string) (*EventRecord, error) {
	m, err := s.rdb.HGetAll(ctx, s.keys.event(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("read event %s: %w", id, err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrEventNotFound, id)
	}
	return decodeRecord(id, m)
}

func decodeRecord(id string, m map[string]string) (*EventRecord, error) {
	r := &EventRecord{State: m["state"]}
	if err := json.Unmarshal([]byte(m["json"]), &r.Event); err != nil {
		return nil, fmt.Errorf("decode event %s: %w", id, err)
	}
	if ms, err := strconv.ParseInt(m["received_at"], 10, 64); err == nil {
		r.ReceivedAt = time.UnixMilli(ms).UTC()
	}
	if x := m["executions"]; x != "" {
		if err := json.Unmarshal([]byte(x), &r.ExecutionIDs); err != nil {
			return nil, fmt.Errorf("decode executions of event %s: %w", id, err)
		}
	}
	return r, nil
}

// EventQuery selects events from the ledger.
type EventQuery struct {
	// EventType and UserID, when not empty, filter the events. EventType is
	// an Okta type, a pattern with * (user.lifecycle.*) or a seed name
	// (USER_CREATED).
	EventType string
	UserID    string
	// Limit bounds the result; zero means 100, and it is capped at 10000.
	Limit int
}

// List returns events newest first (by when they happened).
func (s *Events) List(ctx context.Context, q EventQuery) ([]*EventRecord, error) {
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = 100
	case limit > 10000:
		limit = 10000
	}
	k := s.keys
	pattern := strings.Contains(q.EventType, "*")
	index, filterType := k.eventsAll(), pattern
	switch {
	case q.UserID != "":
		index, filterType = k.eventsByUser(q.UserID), q.EventType != ""
	case q.EventType != "" && !pattern:
		index = k.eventsByType(q.EventType)
	}
	var out []*EventRecord
	const page = 500
	for start := int64(0); len(out) < limit; start += page {
		ids, err := s.rdb.ZRevRange(ctx, index, start, start+page-1).Result()
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		recs, err := s.getMany(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if filterType && !typeMatches(q.EventType, &r.Event) {
				continue
			}
			if len(out) < limit {
				out = append(out, r)
			}
		}
		if len(ids) < page {
			break // the index is exhausted
		}
	}
	if out == nil {
		out = []*EventRecord{}
	}
	return out, nil
}

// typeMatches reports whether an event is of the queried type: its Okta
// type, a pattern over it, or one of its seed types.
func typeMatches(query string, ev *events.SSOEvent) bool {
	if ok, _ := path.Match(query, ev.EventType); ok {
		return true
	}
	return ev.Is(events.EventType(query))
}

func (s *Events) getMany(ctx context.Context, ids []string) ([]*EventRecord, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, s.keys.event(id))
	}
	if len(ids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
	}
	out := make([]*EventRecord, 0, len(ids))
	for i, c := range cmds {
		m := c.Val()
		if len(m) == 0 {
			continue // expired: its index entry outlived it
		}
		r, err := decodeRecord(ids[i], m)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Stranded returns up to limit events that were stored (or last swept)
// before cutoff and are still not processed: their processing task may never
// have been enqueued (the enqueue failed after the store), or is waiting in a
// backlog. The events returned count as swept at now. Entries whose record
// has expired are dropped from the in-flight set.
func (s *Events) Stranded(ctx context.Context, cutoff, now time.Time, limit int) ([]events.SSOEvent, error) {
	k := s.keys
	ids, err := s.rdb.ZRangeByScore(ctx, k.eventsInflight(), &redis.ZRangeBy{
		Min: "-inf", Max: millis(cutoff), Count: int64(limit),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("list in-flight events: %w", err)
	}
	recs, err := s.getMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	found := make(map[string]bool, len(recs))
	var out []events.SSOEvent
	var bump []redis.Z
	for _, r := range recs {
		found[r.Event.EventID] = true
		if r.State == StateReceived {
			out = append(out, r.Event)
			bump = append(bump, redis.Z{Score: float64(now.UnixMilli()), Member: r.Event.EventID})
		}
	}
	// Move the returned events to the back of the set, so that the next
	// sweep looks at others: events whose task is stuck (archived) cannot
	// keep newer stranded ones from being found.
	if len(bump) > 0 {
		if err := s.rdb.ZAddXX(ctx, k.eventsInflight(), bump...).Err(); err != nil {
			return nil, fmt.Errorf("bump in-flight events: %w", err)
		}
	}
	var gone []any
	for _, id := range ids {
		if !found[id] {
			gone = append(gone, id)
		}
	}
	if len(gone) > 0 {
		if err := s.rdb.ZRem(ctx, k.eventsInflight(), gone...).Err(); err != nil {
			return nil, fmt.Errorf("drop expired in-flight events: %w", err)
		}
	}
	return out, nil
}

// TrimExpired takes events whose retention has passed out of the list
// indexes, up to limit of them, oldest first, and returns how many. Event
// records expire by themselves; their index entries do not, so without this
// the indexes would grow for ever. An event whose record still exists (a
// clock that disagrees, an embedded Redis whose TTLs stand still) is kept.
func (s *Events) TrimExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	k := s.keys
	members, err := s.rdb.ZRangeByScore(ctx, k.eventsReceived(), &redis.ZRangeBy{
		Min: "-inf", Max: millis(now.Add(-s.retention)), Count: int64(limit),
	}).Result()
	if err != nil || len(members) == 0 {
		return 0, err
	}
	entries := make([]receivedEntry, len(members))
	exists := s.rdb.Pipeline()
	checks := make([]*redis.IntCmd, len(members))
	for i, m := range members {
		if err := json.Unmarshal([]byte(m), &entries[i]); err != nil {
			return 0, fmt.Errorf("decode received entry %q: %w", m, err)
		}
		checks[i] = exists.Exists(ctx, k.event(entries[i].ID))
	}
	if _, err := exists.Exec(ctx); err != nil {
		return 0, fmt.Errorf("check expired events: %w", err)
	}
	trim := s.rdb.TxPipeline()
	n := 0
	for i, e := range entries {
		if checks[i].Val() > 0 {
			continue
		}
		for _, idx := range e.Indexes {
			trim.ZRem(ctx, idx, e.ID)
		}
		trim.ZRem(ctx, k.eventsReceived(), members[i])
		n++
	}
	if n == 0 {
		return 0, nil
	}
	if _, err := trim.Exec(ctx); err != nil {
		return 0, fmt.Errorf("trim expired events: %w", err)
	}
	return n, nil
}
