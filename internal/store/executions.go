package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssoflow/ssoflow/pkg/flows"
)

// Executions is the execution history in Redis: one hash per execution
// (its JSON, status and revision) and sorted sets by creation time, for all
// executions, per flow, per status and per flow and status. It implements
// flows.History.
type Executions struct {
	rdb  redis.UniversalClient
	keys keys
}

var _ flows.History = (*Executions)(nil)

// NewExecutions returns the history under prefix (DefaultPrefix when empty).
func NewExecutions(rdb redis.UniversalClient, prefix string) *Executions {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Executions{rdb: rdb, keys: keys{prefix}}
}

// createExec stores a new execution and its index entries, unless it exists.
// KEYS: exec, all, by flow, by status, by flow and status.
// ARGV: json, status, score, id.
var createExec = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'json', ARGV[1], 'status', ARGV[2], 'rev', 1)
for i = 2, 5 do redis.call('ZADD', KEYS[i], ARGV[3], ARGV[4]) end
return 1
`)

// updateExec replaces an execution if its revision is still the one read,
// and moves its index entries when the status changed.
// KEYS: exec, old by status, old by flow and status, new by status, new by flow and status.
// ARGV: json, status, expected rev, score, id.
// Returns -1 when the execution is gone, 0 on a revision conflict, 1 when done.
var updateExec = redis.NewScript(`
local rev = redis.call('HGET', KEYS[1], 'rev')
if not rev then return -1 end
if rev ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'json', ARGV[1], 'status', ARGV[2], 'rev', tonumber(rev) + 1)
if KEYS[2] ~= KEYS[4] then
  redis.call('ZREM', KEYS[2], ARGV[5])
  redis.call('ZREM', KEYS[3], ARGV[5])
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[5])
  redis.call('ZADD', KEYS[5], ARGV[4], ARGV[5])
end
return 1
`)

// Create implements flows.History.
func (s *Executions) Create(ctx context.Context, e *flows.ExecutionResult) (bool, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrUnencodable, err)
	}
	k := s.keys
	st := string(e.Status)
	n, err := createExec.Run(ctx, s.rdb,
		[]string{k.exec(e.ExecutionID), k.execsAll(), k.execsByFlow(e.FlowID), k.execsByStatus(st), k.execsByFlowStatus(e.FlowID, st)},
		data, st, millis(e.CreatedAt), e.ExecutionID).Int()
	if err != nil {
		return false, fmt.Errorf("store execution %s: %w", e.ExecutionID, err)
	}
	return n == 1, nil
}

// Get implements flows.History.
func (s *Executions) Get(ctx context.Context, id string) (*flows.ExecutionResult, error) {
	e, _, err := s.get(ctx, id)
	return e, err
}

func (s *Executions) get(ctx context.Context, id string) (*flows.ExecutionResult, string, error) {
	vals, err := s.rdb.HMGet(ctx, s.keys.exec(id), "json", "rev").Result()
	if err != nil {
		return nil, "", fmt.Errorf("read execution %s: %w", id, err)
	}
	data, ok := vals[0].(string)
	if !ok {
		return nil, "", fmt.Errorf("%w: %s", flows.ErrNotFound, id)
	}
	rev, _ := vals[1].(string)
	var e flows.ExecutionResult
	if err := json.Unmarshal([]byte(data), &e); err != nil {
		return nil, "", fmt.Errorf("decode execution %s: %w", id, err)
	}
	return &e, rev, nil
}

// ErrUnencodable is returned for an execution that cannot be stored as JSON
// (its input or output holds NaN or an infinity, say). Retrying cannot help.
var ErrUnencodable = errors.New("execution cannot be encoded")

// maxUpdateAttempts bounds the retries of an update that keeps losing races.
const maxUpdateAttempts = 50

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Update implements flows.History with optimistic concurrency: the change is
// applied to the state read, and stored only if no one wrote in between.
func (s *Executions) Update(ctx context.Context, id string, change func(*flows.ExecutionResult) error) (*flows.ExecutionResult, error) {
	for attempt := range maxUpdateAttempts {
		e, rev, err := s.get(ctx, id)
		if err != nil {
			return nil, err
		}
		old, flowID := e.Status, e.FlowID
		if err := change(e); err != nil {
			return e, err
		}
		if e.ExecutionID != id || e.FlowID != flowID {
			return nil, errors.New("store: an update may not change the execution id or flow id")
		}
		data, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnencodable, err)
		}
		k := s.keys
		n, err := updateExec.Run(ctx, s.rdb,
			[]string{k.exec(id), k.execsByStatus(string(old)), k.execsByFlowStatus(e.FlowID, string(old)),
				k.execsByStatus(string(e.Status)), k.execsByFlowStatus(e.FlowID, string(e.Status))},
			data, string(e.Status), rev, millis(e.CreatedAt), id).Int()
		switch {
		case err != nil:
			return nil, fmt.Errorf("update execution %s: %w", id, err)
		case n == -1:
			return nil, fmt.Errorf("%w: %s", flows.ErrNotFound, id)
		case n == 1:
			return e, nil
		}
		// Another writer got there first: back off a little, with jitter so
		// that contending writers spread out, and try on the newer state.
		if err := sleepCtx(ctx, time.Duration(attempt+1)*time.Millisecond+rand.N(2*time.Millisecond)); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("update execution %s: still conflicting after %d attempts", id, maxUpdateAttempts)
}

// List implements flows.History.
func (s *Executions) List(ctx context.Context, q flows.Query) ([]*flows.ExecutionResult, error) {
	k := s.keys
	index := k.execsAll()
	switch {
	case q.FlowID != "" && q.Status != "":
		index = k.execsByFlowStatus(q.FlowID, string(q.Status))
	case q.FlowID != "":
		index = k.execsByFlow(q.FlowID)
	case q.Status != "":
		index = k.execsByStatus(string(q.Status))
	}
	ids, err := s.rdb.ZRevRange(ctx, index, 0, int64(q.EffectiveLimit()-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	return s.getMany(ctx, ids)
}

// getMany reads executions in one round trip, skipping any that are gone.
func (s *Executions) getMany(ctx context.Context, ids []string) ([]*flows.ExecutionResult, error) {
	if len(ids) == 0 {
		return []*flows.ExecutionResult{}, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGet(ctx, s.keys.exec(id), "json")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read executions: %w", err)
	}
	out := make([]*flows.ExecutionResult, 0, len(ids))
	for i, c := range cmds {
		data, err := c.Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read execution %s: %w", ids[i], err)
		}
		var e flows.ExecutionResult
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, fmt.Errorf("decode execution %s: %w", ids[i], err)
		}
		out = append(out, &e)
	}
	return out, nil
}

// Older returns up to limit executions with this status created before
// cutoff, oldest first: the candidates of the stuck-execution sweep.
func (s *Executions) Older(ctx context.Context, status flows.Status, cutoff time.Time, limit int) ([]*flows.ExecutionResult, error) {
	ids, err := s.rdb.ZRangeByScore(ctx, s.keys.execsByStatus(string(status)), &redis.ZRangeBy{
		Min: "-inf", Max: "(" + millis(cutoff), Count: int64(limit),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("list %s executions: %w", status, err)
	}
	return s.getMany(ctx, ids)
}

// GetMany returns the executions with these ids, in order, skipping any
// that do not exist.
func (s *Executions) GetMany(ctx context.Context, ids []string) ([]*flows.ExecutionResult, error) {
	return s.getMany(ctx, ids)
}

// Count returns how many executions the index of a query holds.
func (s *Executions) Count(ctx context.Context, flowID string, status flows.Status) (int64, error) {
	k := s.keys
	index := k.execsByFlowStatus(flowID, string(status))
	if flowID == "" {
		index = k.execsByStatus(string(status))
	}
	return s.rdb.ZCard(ctx, index).Result()
}
