// Package app wires ssoflow's processes from their configuration: the
// ingest API, the worker, the scheduler, and `ssoflow dev`, which runs all
// three in one process. The binaries in cmd/ are thin shells around it.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/ssoflow/ssoflow/internal/logging"
)

// Command is one of ssoflow's programs.
type Command struct {
	// Name is how the command is invoked.
	Name string
	// Summary says what it does, in one line.
	Summary string
	flags   flagSet
	dev     bool
	run     func(ctx context.Context, cfg Config, log zerolog.Logger, ready func(addr string)) error
}

// The commands.
var (
	Ingest = Command{Name: "ingest", Summary: "serve the event hook and the HTTP API; write events to Redis",
		flags: flagAddr, run: runIngest}
	Worker = Command{Name: "worker", Summary: "handle queued tasks: match rules, invoke and poll flows",
		flags: flagRules | flagWorker | flagMetrics, run: runWorker}
	Scheduler = Command{Name: "scheduler", Summary: "run periodic work (leader-elected among replicas)",
		flags: flagMetrics, run: runScheduler}
	Dev = Command{Name: "dev", Summary: "run ingest, worker and scheduler in one process on an embedded Redis",
		flags: flagAddr | flagRules | flagWorker, dev: true, run: runDev}
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// Main runs cmd with command-line args (without the program name) and the
// environment, until SIGINT or SIGTERM, and returns the exit code. ready,
// when not nil, is called with the HTTP address once the command serves.
func Main(ctx context.Context, cmd Command, args []string, getenv func(string) string, stderr io.Writer, ready func(addr string)) int {
	cfg, err := FromEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd.Name, err)
		return exitUsage
	}
	if cmd.dev {
		if cfg.Addr == "" {
			cfg.Addr = DefaultDevAddr
		}
		if cfg.LogFormat == "" {
			cfg.LogFormat = "console"
		}
	} else {
		if cfg.RedisURL == "" {
			cfg.RedisURL = DefaultRedisURL
		}
		if cfg.Addr == "" {
			cfg.Addr = DefaultAddr
		}
	}
	fs := cmd.flagSet(&cfg, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q\n", cmd.Name, fs.Args())
		return exitUsage
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "%s: invalid configuration:\n%v\n", cmd.Name, err)
		return exitUsage
	}
	log, err := logging.New(stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd.Name, err)
		return exitUsage
	}
	log = log.With().Str("process", cmd.Name).Logger()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if ready == nil {
		ready = func(string) {}
	}
	redis.SetLogger(logging.Redis{Log: log.With().Str("component", "redis").Logger()})
	if err := cmd.run(ctx, cfg, log, ready); err != nil && (ctx.Err() == nil || !errors.Is(err, context.Canceled)) {
		log.Error().Err(err).Msg("stopped with an error")
		return exitError
	}
	log.Info().Msg("stopped")
	return exitOK
}

// flagSet returns the command's flags, writing into cfg.
func (cmd Command) flagSet(cfg *Config, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd.Name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: %s [flags]\n\n%s.\nFlags override the environment.\n\nFlags:\n", cmd.Name, cmd.Summary)
		fs.PrintDefaults()
		fmt.Fprintf(out, "\nEnvironment:\n%s", envHelp)
	}
	cfg.registerFlags(fs, cmd.flags)
	return fs
}

// Version returns the module version the binary was built from.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return bi.Main.Version + " (" + s.Value[:12] + ")"
			}
		}
		return bi.Main.Version
	}
	return "unknown"
}

// serveHTTP listens on addr and serves h until ctx ends, then shuts down
// gracefully. ready is called with the bound address once it listens.
func serveHTTP(ctx context.Context, what, addr string, h http.Handler, log zerolog.Logger, ready func(string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info().Str("addr", ln.Addr().String()).Msg(what + " listening")
	ready(ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("HTTP shutdown: %w", err)
	}
	return nil
}

// openService connects to REDIS_URL and builds the core of a service
// process; close releases both.
func openService(cfg Config, log zerolog.Logger) (*core, func(), error) {
	rdb, err := openRedis(cfg.RedisURL)
	if err != nil {
		return nil, nil, err
	}
	c, err := newCore(cfg, rdb, log)
	if err != nil {
		_ = rdb.Close()
		return nil, nil, err
	}
	return c, func() { c.close(); _ = rdb.Close() }, nil
}

func runIngest(ctx context.Context, cfg Config, log zerolog.Logger, ready func(string)) error {
	c, closeAll, err := openService(cfg, log)
	if err != nil {
		return err
	}
	defer closeAll()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	err = c.rdb.Ping(pctx).Err()
	cancel()
	var rerr redis.Error
	switch {
	case errors.As(err, &rerr):
		return fmt.Errorf("refused by Redis: %w", err)
	case err != nil:
		log.Warn().Err(err).Msg("Redis is not reachable: serving, but events get 503 until it is")
	}
	warnOpen(cfg, log)
	return serveHTTP(ctx, "HTTP API", cfg.Addr, c.api(), log, ready)
}

func warnOpen(cfg Config, log zerolog.Logger) {
	if cfg.HookSecret == "" {
		log.Warn().Msg("SSOFLOW_HOOK_SECRET is not set: the event hook accepts deliveries from anyone")
	}
	if cfg.APIToken == "" {
		log.Warn().Msg("SSOFLOW_API_TOKEN is not set: the admin API is open")
	}
}

func runWorker(ctx context.Context, cfg Config, log zerolog.Logger, ready func(string)) error {
	c, closeAll, err := openService(cfg, log)
	if err != nil {
		return err
	}
	defer closeAll()
	if cfg.FlowsPath == "" {
		log.Warn().Msg("SSOFLOW_FLOWS is not set: running the built-in mock flows")
	}
	if err := waitForRedis(ctx, c.rdb, log); err != nil {
		return err
	}
	w := c.worker()
	if err := w.Start(); err != nil {
		return err
	}
	log.Info().Str("rules", c.rules.String()).Int("flows", len(c.registry.List(""))).Msg("worker started")
	err = c.serveMetrics(ctx, ready)
	w.Shutdown()
	return err
}

// serveMetrics serves /metrics and /healthz on the metrics address until ctx
// ends; with no address it just waits.
func (c *core) serveMetrics(ctx context.Context, ready func(string)) error {
	if c.cfg.MetricsAddr == "" {
		<-ctx.Done()
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(c.gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	return serveHTTP(ctx, "metrics and health", c.cfg.MetricsAddr, mux, c.log, ready)
}

func runScheduler(ctx context.Context, cfg Config, log zerolog.Logger, ready func(string)) error {
	c, closeAll, err := openService(cfg, log)
	if err != nil {
		return err
	}
	defer closeAll()
	if err := waitForRedis(ctx, c.rdb, log); err != nil {
		return err
	}
	host, _ := os.Hostname()
	log.Info().Msg("scheduler started")
	mctx, stopMetrics := context.WithCancel(ctx)
	metricsDone := make(chan error, 1)
	go func() { metricsDone <- c.serveMetrics(mctx, ready) }()
	err = c.scheduler(fmt.Sprintf("%s-%d", host, os.Getpid())).Run(ctx)
	stopMetrics()
	return errors.Join(err, <-metricsDone)
}

func runDev(ctx context.Context, cfg Config, log zerolog.Logger, ready func(string)) error {
	var rdb redis.UniversalClient
	if cfg.RedisURL == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return fmt.Errorf("start embedded Redis: %w", err)
		}
		defer mr.Close()
		rdb = redis.NewClient(withTimeouts(&redis.Options{Addr: mr.Addr()}))
		log.Info().Str("addr", mr.Addr()).Msg("embedded Redis (miniredis) started; its data is gone when dev stops")
	} else {
		var err error
		if rdb, err = openRedis(cfg.RedisURL); err != nil {
			return err
		}
		if err := waitForRedis(ctx, rdb, log); err != nil {
			return err
		}
	}
	defer rdb.Close()
	c, err := newCore(cfg, rdb, log)
	if err != nil {
		return err
	}
	defer c.close()
	w := c.worker()
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Shutdown()
	sctx, stopScheduler := context.WithCancel(ctx)
	schedDone := make(chan error, 1)
	go func() { schedDone <- c.scheduler("dev").Run(sctx) }()
	defer func() {
		stopScheduler()
		<-schedDone
	}()
	log.Info().Str("rules", c.rules.String()).Int("flows", len(c.registry.List(""))).Msg("dev stack running: ingest, worker and scheduler")
	return serveHTTP(ctx, "HTTP API", cfg.Addr, c.api(), log, ready)
}
