package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/ssoflow/ssoflow/config"
	"github.com/ssoflow/ssoflow/internal/httpapi"
	"github.com/ssoflow/ssoflow/internal/ingest"
	"github.com/ssoflow/ssoflow/internal/metrics"
	"github.com/ssoflow/ssoflow/internal/scheduler"
	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/internal/tasks"
	"github.com/ssoflow/ssoflow/internal/worker"
	"github.com/ssoflow/ssoflow/pkg/flows"
	"github.com/ssoflow/ssoflow/pkg/rules"
)

// core is what every process builds on: Redis, the queue client, the stores,
// the flow registry and connector, the rules and the metrics.
type core struct {
	cfg        Config
	log        zerolog.Logger
	rdb        redis.UniversalClient
	queue      *asynq.Client
	events     *store.Events
	executions *store.Executions
	registry   *flows.Registry
	connector  flows.Connector
	rules      *rules.Set
	metrics    *metrics.Metrics
	gatherer   *prometheus.Registry
	now        func() time.Time
}

// openRedis connects to a Redis URL. It does not wait for Redis to answer.
func openRedis(rawURL string) (redis.UniversalClient, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return redis.NewClient(withTimeouts(opts)), nil
}

// withTimeouts bounds every Redis call: a stalled Redis must turn into an
// error the API can answer 503 with before Okta's 3 s are up, not into a
// request that hangs. Calls honour their context's deadline too.
func withTimeouts(opts *redis.Options) *redis.Options {
	opts.ContextTimeoutEnabled = true
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 2 * time.Second
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = 3 * time.Second
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = 3 * time.Second
	}
	return opts
}

// newCore loads the configuration files and builds the shared parts on rdb.
func newCore(cfg Config, rdb redis.UniversalClient, log zerolog.Logger) (*core, error) {
	registry, err := loadRegistry(cfg)
	if err != nil {
		return nil, err
	}
	set, err := loadRules(cfg, registry)
	if err != nil {
		return nil, err
	}
	for _, w := range set.Warnings() {
		log.Warn().Msg(w)
	}
	router, err := flows.NewRouter(registry, map[string]flows.Connector{flows.MockConnectorName: flows.NewMock()})
	if err != nil {
		if cfg.FlowsPath != "" {
			err = fmt.Errorf("%s: %w", cfg.FlowsPath, err)
		}
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &core{
		cfg:        cfg,
		log:        log,
		rdb:        rdb,
		queue:      asynq.NewClientFromRedisClient(rdb),
		events:     store.NewEvents(rdb, "", cfg.EventRetention),
		executions: store.NewExecutions(rdb, ""),
		registry:   registry,
		connector:  router,
		rules:      set,
		metrics:    metrics.New(reg),
		gatherer:   reg,
		now:        func() time.Time { return time.Now().UTC() },
	}, nil
}

func loadRegistry(cfg Config) (*flows.Registry, error) {
	defaults := flows.WithDefaults(cfg.FlowTimeout, cfg.PollInterval)
	if cfg.FlowsPath == "" {
		return flows.ParseRegistryYAML(config.Flows, defaults)
	}
	return flows.LoadRegistry(cfg.FlowsPath, defaults)
}

func loadRules(cfg Config, registry *flows.Registry) (*rules.Set, error) {
	if cfg.RulesPath != "" {
		return rules.LoadFile(cfg.RulesPath, registry.Has)
	}
	rs, err := rules.ParseYAML(config.Rules)
	if err != nil {
		return nil, err
	}
	return rules.NewSet(rs, registry.Has)
}

func (c *core) close() {
	_ = c.queue.Close()
	_ = c.connector.Close()
}

func (c *core) ingester() *ingest.Ingester {
	return ingest.New(c.events, c.queue, c.now, c.log.With().Str("component", "ingest").Logger())
}

func (c *core) api() *httpapi.Server {
	return httpapi.New(httpapi.Config{
		HookSecret:   c.cfg.HookSecret,
		APIToken:     c.cfg.APIToken,
		MaxBodyBytes: c.cfg.MaxBodyBytes,
	}, httpapi.Deps{
		Ingester:   c.ingester(),
		Events:     c.events,
		Executions: c.executions,
		Registry:   c.registry,
		Ready:      func(ctx context.Context) error { return c.rdb.Ping(ctx).Err() },
		Metrics:    c.metrics,
		Gatherer:   c.gatherer,
		Log:        c.log.With().Str("component", "api").Logger(),
	})
}

func (c *core) worker() *worker.Worker {
	h := &tasks.Handlers{
		Events:    c.events,
		History:   c.executions,
		Rules:     func() *rules.Set { return c.rules },
		Flows:     c.registry,
		Connector: c.connector,
		Queue:     c.queue,
		Now:       c.now,
		Log:       c.log.With().Str("component", "tasks").Logger(),
	}
	return worker.New(c.rdb, h, c.cfg.Worker, c.metrics, c.log)
}

func (c *core) scheduler(owner string) *scheduler.Scheduler {
	return scheduler.New(c.cfg.Scheduler, scheduler.Deps{
		Lease:      store.NewLease(c.rdb, "", "scheduler", owner, c.cfg.Scheduler.WithDefaults().LeaseTTL),
		Events:     c.events,
		Ingester:   c.ingester(),
		Executions: c.executions,
		Queue:      c.queue,
		Registry:   c.registry,
		Now:        c.now,
		Log:        c.log,
	})
}

// waitForRedis pings Redis until it answers or ctx ends, so that a process
// started before its Redis (docker compose) waits instead of failing. An
// error Redis itself answers (a database index out of range, a wrong
// password) is a configuration error and returned at once.
func waitForRedis(ctx context.Context, rdb redis.UniversalClient, log zerolog.Logger) error {
	delay := 250 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := rdb.Ping(pctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		var rerr redis.Error
		if errors.As(err, &rerr) {
			return fmt.Errorf("refused by Redis: %w", err)
		}
		if ctx.Err() != nil {
			return errors.Join(ctx.Err(), err)
		}
		log.Warn().Err(err).Int64("retry_in_ms", delay.Milliseconds()).Msg("Redis is not reachable yet")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}
