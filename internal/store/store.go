// Package store keeps ssoflow's state in Redis: the event ledger (each
// event's record, which doubles as the deduplication window) and the
// execution history with its indexes by flow and status. Every change that
// touches more than one key is one Lua script, so a crash never leaves a
// record without its index entries or the other way round.
package store

import (
	"strconv"
	"time"
)

// DefaultPrefix starts every key ssoflow writes.
const DefaultPrefix = "ssoflow:"

// keys builds key names under a prefix, so that tests and tenants can share
// one Redis without meeting.
type keys struct{ prefix string }

func (k keys) exec(id string) string          { return k.prefix + "exec:" + id }
func (k keys) execsAll() string               { return k.prefix + "execs" }
func (k keys) execsByFlow(flow string) string { return k.prefix + "execs:flow:" + flow }
func (k keys) execsByStatus(s string) string  { return k.prefix + "execs:status:" + s }
func (k keys) execsByFlowStatus(flow, s string) string {
	return k.prefix + "execs:flow:" + flow + ":status:" + s
}
func (k keys) event(id string) string       { return k.prefix + "event:" + id }
func (k keys) eventsAll() string            { return k.prefix + "events" }
func (k keys) eventsByType(t string) string { return k.prefix + "events:type:" + t }
func (k keys) eventsByUser(u string) string { return k.prefix + "events:user:" + u }
func (k keys) eventsInflight() string       { return k.prefix + "events:inflight" }
func (k keys) eventsReceived() string       { return k.prefix + "events:received" }
func (k keys) lease(name string) string     { return k.prefix + "lease:" + name }

func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
