package store_test

import (
	"testing"
	"time"

	"github.com/ssoflow/ssoflow/internal/store"
)

func TestLease(t *testing.T) {
	b := setup(t)
	const ttl = 10 * time.Second
	a := store.NewLease(b.rdb, prefix, "scheduler", "a", ttl)
	c := store.NewLease(b.rdb, prefix, "scheduler", "c", ttl)
	other := store.NewLease(b.rdb, prefix, "other", "c", ttl)

	acquire := func(step string, l *store.Lease, want bool) {
		t.Helper()
		got, err := l.Acquire(b.ctx)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got != want {
			t.Fatalf("%s: Acquire = %v, want %v", step, got, want)
		}
	}
	release := func(l *store.Lease) {
		t.Helper()
		if err := l.Release(b.ctx); err != nil {
			t.Fatal(err)
		}
	}

	acquire("a takes the free lease", a, true)
	acquire("c cannot take it", c, false)
	acquire("another name is another lease", other, true)
	acquire("a renews", a, true)

	// Renewal restarts the TTL: after 0.6 TTL twice, a still holds it.
	b.mr.FastForward(6 * time.Second)
	acquire("a renews before expiry", a, true)
	b.mr.FastForward(6 * time.Second)
	acquire("c, 12s after a first took it but 6s after its renewal", c, false)

	release(c) // not the owner: no effect
	acquire("c after its own release of a's lease", c, false)
	acquire("a still holds it", a, true)

	release(a)
	acquire("c after a released", c, true)
	acquire("a now that c holds it", a, false)

	// Takeover after expiry: c stops renewing.
	b.mr.FastForward(ttl + time.Millisecond)
	acquire("a after c's lease lapsed", a, true)
	acquire("c after losing it", c, false)

	if ttlLeft := b.mr.TTL(prefix + "lease:scheduler"); ttlLeft <= 0 || ttlLeft > ttl {
		t.Errorf("lease key TTL = %s, want in (0, %s]", ttlLeft, ttl)
	}
}
