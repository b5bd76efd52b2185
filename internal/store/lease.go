package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Lease is a named lock in Redis held by one owner at a time, for as long as
// the owner keeps renewing it. It elects the scheduler's leader.
type Lease struct {
	rdb   redis.UniversalClient
	key   string
	owner string
	ttl   time.Duration
}

// NewLease returns the lease name under prefix (DefaultPrefix when empty)
// for owner, lasting ttl after each renewal.
func NewLease(rdb redis.UniversalClient, prefix, name, owner string, ttl time.Duration) *Lease {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Lease{rdb: rdb, key: keys{prefix}.lease(name), owner: owner, ttl: ttl}
}

// acquireLease takes a free lease or renews one the caller holds.
var acquireLease = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
`)

// releaseLease frees the lease if the caller holds it.
var releaseLease = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Acquire takes the lease if it is free, or renews it if the owner holds
// it. It reports whether the owner holds it now.
func (l *Lease) Acquire(ctx context.Context) (bool, error) {
	n, err := acquireLease.Run(ctx, l.rdb, []string{l.key}, l.owner, l.ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", l.key, err)
	}
	return n == 1, nil
}

// Release frees the lease if the owner holds it.
func (l *Lease) Release(ctx context.Context) error {
	if err := releaseLease.Run(ctx, l.rdb, []string{l.key}, l.owner).Err(); err != nil {
		return fmt.Errorf("release lease %s: %w", l.key, err)
	}
	return nil
}
