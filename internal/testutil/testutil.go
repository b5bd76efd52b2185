// Package testutil holds the helpers that tests of several packages share:
// a clock the test moves, the pending tasks of a queue, and the check that
// an error names every problem it should.
package testutil

import (
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

// Clock is a clock the test sets; its Now fits every Now func of the code.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// PendingTaskIDs returns the sorted ids of a queue's pending tasks (none
// for a queue that does not exist yet), failing the test for a task that
// is not of taskType.
func PendingTaskIDs(t testing.TB, insp *asynq.Inspector, queue, taskType string) []string {
	t.Helper()
	infos, err := insp.ListPendingTasks(queue, asynq.PageSize(1000))
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return []string{}
	}
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, ti := range infos {
		if ti.Type != taskType {
			t.Errorf("task %s has type %s, want %s", ti.ID, ti.Type, taskType)
		}
		out = append(out, ti.ID)
	}
	sort.Strings(out)
	return out
}

// ErrorMentions checks an error against the problems it must report: nil
// when want is empty, else an error whose text holds every one of them.
func ErrorMentions(t testing.TB, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Errorf("error %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one reporting %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not report %q", err, w)
		}
	}
}
