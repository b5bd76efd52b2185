package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ssoflow/ssoflow/internal/testutil/redistest"
	"github.com/ssoflow/ssoflow/pkg/events"
	"github.com/ssoflow/ssoflow/pkg/flows"
)

// benchCore builds the shared parts on a fresh real Redis, with one rule
// that sends every user.lifecycle.deactivate to the synchronous mock
// offboarding flow.
func benchCore(b *testing.B) *core { return benchCoreT(b) }

func benchCoreT(b testing.TB) *core {
	b.Helper()
	r := redistest.Start(b)
	cfg, _ := FromEnv(func(string) string { return "" })
	cfg.Worker.Concurrency = 50
	c, err := newCore(cfg, r.Client(), zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.close)
	return c
}

func benchEvents(prefix string, n int) []events.SSOEvent {
	out := make([]events.SSOEvent, n)
	for i := range out {
		out[i] = events.SSOEvent{
			EventID: fmt.Sprintf("%s-%d", prefix, i), EventType: "user.lifecycle.deactivate",
			Timestamp: time.Now(), UserID: fmt.Sprintf("00u%d", i), UserEmail: "bench@example.test",
		}
		out[i].Normalize()
	}
	return out
}

// BenchmarkIngest measures making events durable (ledger + queue) on a real
// Redis, by batch size.
func BenchmarkIngest(b *testing.B) {
	for _, size := range []int{1, 20, 200} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			c := benchCore(b)
			in := c.ingester()
			ctx := context.Background()
			i := 0
			for b.Loop() {
				res, err := in.Ingest(ctx, benchEvents(fmt.Sprintf("b%d", i), size))
				if err != nil || res.Accepted != size {
					b.Fatalf("%+v %v", res, err)
				}
				i++
			}
			b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkPipelineThroughput measures events per second from a queued
// event to a terminal execution, through one worker on a real Redis: 1000
// events are ingested while the worker is stopped, then timed from its start
// until every execution has succeeded.
func BenchmarkPipelineThroughput(b *testing.B) {
	c := benchCore(b)
	in := c.ingester()
	ctx := context.Background()
	const perRound = 1000
	for round := 0; round < b.N; round++ {
		b.StopTimer()
		evs := benchEvents(fmt.Sprintf("p%d", round), perRound)
		for i := 0; i < len(evs); i += 100 {
			if _, err := in.Ingest(ctx, evs[i:i+100]); err != nil {
				b.Fatal(err)
			}
		}
		w := c.worker()
		b.StartTimer()
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		waitSucceeded(b, c, int64((round+1)*perRound))
		b.StopTimer()
		w.Shutdown()
	}
	b.ReportMetric(float64(perRound*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkIdleLatency measures, for an idle worker, the time from ingest of
// one event to its execution's success, with asynq's default task check
// interval (1 s, the baseline) and with ssoflow's. It also reports the Redis
// commands per second an idle worker costs.
func BenchmarkIdleLatency(b *testing.B) {
	for _, interval := range []time.Duration{time.Second, 100 * time.Millisecond} {
		b.Run("check="+interval.String(), func(b *testing.B) {
			c := benchCore(b)
			c.cfg.Worker.TaskCheckInterval = interval
			w := c.worker()
			if err := w.Start(); err != nil {
				b.Fatal(err)
			}
			defer w.Shutdown()
			ctx := context.Background()
			in := c.ingester()
			var total time.Duration
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				if _, err := in.Ingest(ctx, benchEvents(fmt.Sprintf("l%d", i), 1)); err != nil {
					b.Fatal(err)
				}
				waitSucceeded(b, c, int64(i+1))
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/event")
			b.ReportMetric(idleCommandsPerSecond(b, c), "idle-redis-cmds/s")
		})
	}
}

// idleCommandsPerSecond counts the commands Redis serves over 2 s while the
// worker has nothing to do.
func idleCommandsPerSecond(b *testing.B, c *core) float64 {
	ctx := context.Background()
	count := func() float64 {
		info, err := c.rdb.Info(ctx, "stats").Result()
		if err != nil {
			b.Fatal(err)
		}
		var n float64
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
				n, _ = strconv.ParseFloat(v, 64)
			}
		}
		return n
	}
	before := count()
	time.Sleep(2 * time.Second) // measuring load over a fixed window
	return (count() - before - 1) / 2
}

func waitSucceeded(b *testing.B, c *core, want int64) {
	ctx := context.Background()
	for {
		n, err := c.executions.Count(ctx, "", flows.StatusSuccess)
		if err != nil {
			b.Fatal(err)
		}
		if n >= want {
			return
		}
		time.Sleep(time.Millisecond) // waiting on the pipeline inside a benchmark
	}
}
