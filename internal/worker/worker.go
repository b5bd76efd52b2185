// Package worker runs the asynq server that handles ssoflow's tasks, with
// the settings its failure modes call for (see docs/operations.md).
package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/ssoflow/ssoflow/internal/logging"
	"github.com/ssoflow/ssoflow/internal/metrics"
	"github.com/ssoflow/ssoflow/internal/tasks"
)

// Defaults of Config.
const (
	DefaultConcurrency              = 20
	DefaultShutdownTimeout          = 10 * time.Second
	DefaultTaskCheckInterval        = 100 * time.Millisecond
	DefaultDelayedTaskCheckInterval = time.Second
)

// Config configures a worker.
type Config struct {
	// Concurrency is how many tasks run at once (default 20). Scale a fleet
	// with processes as well: each server has one dequeue loop.
	Concurrency int
	// ShutdownTimeout is how long running tasks get to finish at shutdown
	// (default 10 s) before they are pushed back to the queue. The process's
	// own grace period (docker stop, Kubernetes) must be longer.
	ShutdownTimeout time.Duration
	// TaskCheckInterval is how long an idle worker waits between looks at
	// empty queues (default 100 ms). asynq's own default, 1 s, makes an idle
	// worker pick up an event 0.5 to 1.5 s late, twice on the way to a flow
	// (event, then invocation); 100 ms costs about 60 more Redis commands a
	// second per idle worker (see BENCHMARKS.md).
	TaskCheckInterval time.Duration
	// DelayedTaskCheckInterval is how often scheduled polls and retries are
	// moved to their queue (default 1 s; asynq's own default of 5 s would
	// delay every poll by up to 5 s).
	DelayedTaskCheckInterval time.Duration
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.TaskCheckInterval == 0 {
		c.TaskCheckInterval = DefaultTaskCheckInterval
	}
	if c.DelayedTaskCheckInterval == 0 {
		c.DelayedTaskCheckInterval = DefaultDelayedTaskCheckInterval
	}
	return c
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Concurrency < 0 {
		errs = append(errs, fmt.Errorf("concurrency %d: must be positive", c.Concurrency))
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("shutdown timeout %s: must be positive", c.ShutdownTimeout))
	}
	if c.TaskCheckInterval < 0 || c.DelayedTaskCheckInterval < 0 {
		errs = append(errs, errors.New("check intervals must be positive"))
	}
	return errors.Join(errs...)
}

// Worker handles tasks until shut down.
type Worker struct {
	srv *asynq.Server
	mux *asynq.ServeMux
}

// New builds a worker on rdb (which it does not close) serving every queue.
func New(rdb redis.UniversalClient, h *tasks.Handlers, cfg Config, m *metrics.Metrics, log zerolog.Logger) *Worker {
	cfg = cfg.WithDefaults()
	log = log.With().Str("component", "worker").Logger()
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   tasks.QueuePriorities,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		TaskCheckInterval:        cfg.TaskCheckInterval,
		DelayedTaskCheckInterval: cfg.DelayedTaskCheckInterval,
		// A lapsed lease means the worker died, not that the task failed:
		// do not count it against MaxRetry, and run it again at once.
		IsFailure:      func(err error) bool { return !errors.Is(err, asynq.ErrLeaseExpired) },
		RetryDelayFunc: RetryDelay,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			n, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			id, _ := asynq.GetTaskID(ctx)
			ev := log.Warn()
			if n >= maxRetry || errors.Is(err, asynq.SkipRetry) {
				ev = log.Error()
			}
			ev.Str("task_id", id).Str("type", t.Type()).Int("retry", n).Int("max_retry", maxRetry).Err(err).Msg("task failed")
		}),
		Logger:   logging.Asynq{Log: log},
		LogLevel: logging.AsynqLevel(log.GetLevel()),
	})
	mux := asynq.NewServeMux()
	mux.Use(observe(m, log))
	h.Register(mux)
	return &Worker{srv: srv, mux: mux}
}

// RetryDelay is the retry schedule of every task type: exponential from
// 1 s, capped at 5 min, with jitter so a fleet does not retry in step; at
// once after a lapsed lease.
func RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	if errors.Is(err, asynq.ErrLeaseExpired) {
		return 0
	}
	d := time.Second << min(n, 9) // 1 s, 2 s, 4 s ... 512 s
	d = min(d, 5*time.Minute)
	return d + rand.N(d/2+time.Second)
}

// Start starts handling tasks. It returns once the server runs.
func (w *Worker) Start() error { return w.srv.Start(w.mux) }

// Shutdown stops taking tasks, waits up to the shutdown timeout for running
// ones, and pushes back the rest.
func (w *Worker) Shutdown() { w.srv.Shutdown() }

// observe is the middleware that logs and measures every task.
func observe(m *metrics.Metrics, log zerolog.Logger) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			start := time.Now()
			err := next.ProcessTask(ctx, t)
			took := time.Since(start)
			outcome := "ok"
			switch {
			case errors.Is(err, asynq.SkipRetry):
				outcome = "failed"
			case err != nil:
				outcome = "retry"
			}
			m.Tasks.WithLabelValues(t.Type(), outcome).Inc()
			m.TaskSeconds.WithLabelValues(t.Type()).Observe(took.Seconds())
			if log.GetLevel() <= zerolog.DebugLevel {
				id, _ := asynq.GetTaskID(ctx)
				log.Debug().Str("task_id", id).Str("type", t.Type()).Str("outcome", outcome).Float64("took_ms", float64(took.Microseconds())/1000).Msg("task")
			}
			return err
		})
	}
}
