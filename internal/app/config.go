package app

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ssoflow/ssoflow/internal/httpapi"
	"github.com/ssoflow/ssoflow/internal/scheduler"
	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/internal/worker"
)

// Defaults of Config.
const (
	DefaultRedisURL = "redis://127.0.0.1:6379/0"
	DefaultAddr     = ":8080"
	DefaultDevAddr  = "127.0.0.1:8080"
)

// Config is the configuration of every ssoflow process, read from the
// environment and then from flags, which override it. Each command uses the
// fields it needs.
type Config struct {
	// RedisURL is REDIS_URL (redis:// or rediss://). Default
	// redis://127.0.0.1:6379/0; for `ssoflow dev`, empty means an embedded
	// Redis.
	RedisURL string
	// Addr is SSOFLOW_ADDR, where the HTTP API listens. Default :8080
	// (127.0.0.1:8080 for `ssoflow dev`).
	Addr string
	// RulesPath is SSOFLOW_RULES, the trigger rules YAML. Empty: the
	// built-in example rules (config/rules.yaml).
	RulesPath string
	// FlowsPath is SSOFLOW_FLOWS, the flow registry YAML. Empty: the five
	// built-in mock flows (config/flows.yaml).
	FlowsPath string
	// HookSecret is SSOFLOW_HOOK_SECRET, the Authorization header value Okta
	// sends to the event hook. Empty: not checked.
	HookSecret string
	// APIToken is SSOFLOW_API_TOKEN, the bearer token of the admin API.
	// Empty: not checked.
	APIToken string
	// LogLevel is LOG_LEVEL: debug, info (default), warn or error.
	LogLevel string
	// LogFormat is LOG_FORMAT: json (default) or console.
	LogFormat string
	// OktaOrgURL is OKTA_ORG_URL. OktaAPIToken is OKTA_API_TOKEN.
	OktaOrgURL   string
	OktaAPIToken string
	// FlowTimeout is OKTA_WORKFLOWS_TIMEOUT (seconds, or a duration such as
	// 5m): the timeout of flows whose registry entry names none. Default 300 s.
	FlowTimeout time.Duration
	// PollInterval is OKTA_WORKFLOWS_POLL_INTERVAL (seconds or a duration):
	// the poll interval of flows that name none. Default 2 s.
	PollInterval time.Duration
	// EventRetention is SSOFLOW_EVENT_RETENTION: how long events are kept,
	// and so deduplicated. Default 168h.
	EventRetention time.Duration
	// MaxBodyBytes is SSOFLOW_MAX_BODY_BYTES: the largest HTTP request body.
	// Default 10 MiB.
	MaxBodyBytes int64
	// MetricsAddr is SSOFLOW_METRICS_ADDR: where a worker or scheduler serves
	// /metrics and /healthz. Empty (the default): not served.
	MetricsAddr string
	// Worker configures the task worker.
	Worker worker.Config
	// Scheduler configures the scheduler.
	Scheduler scheduler.Config
}

// envHelp describes the environment variables, for -h.
const envHelp = `  REDIS_URL                     Redis, redis:// or rediss:// (default redis://127.0.0.1:6379/0; dev: embedded)
  SSOFLOW_ADDR                  HTTP API address (default :8080; dev: 127.0.0.1:8080)
  SSOFLOW_RULES                 trigger rules YAML (default: the built-in example rules)
  SSOFLOW_FLOWS                 flow registry YAML (default: the built-in mock flows)
  SSOFLOW_HOOK_SECRET           Authorization value Okta sends to the event hook (default: not checked)
  SSOFLOW_API_TOKEN             bearer token of the admin API (default: not checked)
  SSOFLOW_EVENT_RETENTION       how long events are kept and deduplicated (default 168h)
  SSOFLOW_MAX_BODY_BYTES        largest accepted request body (default 10485760)
  SSOFLOW_METRICS_ADDR          worker/scheduler /metrics and /healthz address (default: off)
  OKTA_WORKFLOWS_TIMEOUT        flow timeout when its registry entry names none, seconds (default 300)
  OKTA_WORKFLOWS_POLL_INTERVAL  poll interval when its registry entry names none, seconds (default 2)
  OKTA_ORG_URL, OKTA_API_TOKEN  the Okta org (not used by the mock flows)
  LOG_LEVEL, LOG_FORMAT         debug|info|warn|error, json|console
`

// FromEnv reads the configuration from the environment, with defaults.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		RedisURL:       getenv("REDIS_URL"),
		Addr:           getenv("SSOFLOW_ADDR"),
		RulesPath:      getenv("SSOFLOW_RULES"),
		FlowsPath:      getenv("SSOFLOW_FLOWS"),
		HookSecret:     getenv("SSOFLOW_HOOK_SECRET"),
		APIToken:       getenv("SSOFLOW_API_TOKEN"),
		LogLevel:       getenv("LOG_LEVEL"),
		LogFormat:      getenv("LOG_FORMAT"),
		OktaOrgURL:     getenv("OKTA_ORG_URL"),
		OktaAPIToken:   getenv("OKTA_API_TOKEN"),
		MetricsAddr:    getenv("SSOFLOW_METRICS_ADDR"),
		EventRetention: store.DefaultEventRetention,
		MaxBodyBytes:   httpapi.DefaultMaxBodyBytes,
	}
	var errs []error
	dur := func(name string, dst *time.Duration) {
		v := getenv(name)
		if v == "" {
			return
		}
		d, err := parseSeconds(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			return
		}
		*dst = d
	}
	dur("OKTA_WORKFLOWS_TIMEOUT", &c.FlowTimeout)
	dur("OKTA_WORKFLOWS_POLL_INTERVAL", &c.PollInterval)
	dur("SSOFLOW_EVENT_RETENTION", &c.EventRetention)
	if v := getenv("SSOFLOW_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("SSOFLOW_MAX_BODY_BYTES: %q is not a number of bytes", v))
		}
		c.MaxBodyBytes = n
	}
	return c, errors.Join(errs...)
}

// parseSeconds reads a number of seconds ("300", "0.5") or a Go duration ("5m").
func parseSeconds(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is neither seconds nor a duration such as 5m", v)
	}
	return d, nil
}

// flagSet names the flags a command takes.
type flagSet uint

const (
	flagAddr flagSet = 1 << iota
	flagRules
	flagWorker
	flagMetrics
)

// registerFlags adds a command's flags to fs, defaulting to c's values.
func (c *Config) registerFlags(fs *flag.FlagSet, which flagSet) {
	fs.StringVar(&c.RedisURL, "redis-url", c.RedisURL, "Redis URL (env REDIS_URL)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (env LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "json or console (env LOG_FORMAT)")
	fs.StringVar(&c.FlowsPath, "flows", c.FlowsPath, "flow registry YAML; empty: the built-in mock flows (env SSOFLOW_FLOWS)")
	if which&flagAddr != 0 {
		fs.StringVar(&c.Addr, "addr", c.Addr, "HTTP listen address (env SSOFLOW_ADDR)")
		fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest accepted request body (env SSOFLOW_MAX_BODY_BYTES)")
	}
	if which&flagRules != 0 {
		fs.StringVar(&c.RulesPath, "rules", c.RulesPath, "trigger rules YAML; empty: the built-in example rules (env SSOFLOW_RULES)")
	}
	if which&flagMetrics != 0 {
		fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "serve /metrics and /healthz here; empty: off (env SSOFLOW_METRICS_ADDR)")
	}
	if which&flagWorker != 0 {
		fs.IntVar(&c.Worker.Concurrency, "concurrency", c.Worker.Concurrency, fmt.Sprintf("tasks handled at once (default %d)", worker.DefaultConcurrency))
		fs.DurationVar(&c.Worker.TaskCheckInterval, "task-check-interval", c.Worker.TaskCheckInterval, fmt.Sprintf("how often an idle worker looks for tasks (default %s)", worker.DefaultTaskCheckInterval))
		fs.DurationVar(&c.Worker.ShutdownTimeout, "shutdown-timeout", c.Worker.ShutdownTimeout, fmt.Sprintf("time running tasks get to finish at shutdown (default %s)", worker.DefaultShutdownTimeout))
	}
}

// Validate reports every problem of c at once.
func (c *Config) Validate() error {
	var errs []error
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil {
			errs = append(errs, errors.New("REDIS_URL is not a URL: want redis://host:port/db or rediss://host:port/db"))
		} else if u.Scheme != "redis" && u.Scheme != "rediss" {
			errs = append(errs, fmt.Errorf("REDIS_URL %q: want redis://host:port/db or rediss://host:port/db", u.Redacted()))
		}
	}
	if c.Addr != "" && !strings.Contains(c.Addr, ":") {
		errs = append(errs, fmt.Errorf("SSOFLOW_ADDR %q: want host:port or :port", c.Addr))
	}
	if c.MetricsAddr != "" && !strings.Contains(c.MetricsAddr, ":") {
		errs = append(errs, fmt.Errorf("SSOFLOW_METRICS_ADDR %q: want host:port or :port", c.MetricsAddr))
	}
	if c.FlowTimeout < 0 || (c.FlowTimeout > 0 && c.FlowTimeout < time.Second) {
		errs = append(errs, fmt.Errorf("OKTA_WORKFLOWS_TIMEOUT %s: must be at least 1s", c.FlowTimeout))
	}
	if c.PollInterval < 0 || (c.PollInterval > 0 && c.PollInterval < time.Second) {
		errs = append(errs, fmt.Errorf("OKTA_WORKFLOWS_POLL_INTERVAL %s: must be at least 1s (the queue schedules in whole seconds)", c.PollInterval))
	}
	if c.EventRetention < time.Minute {
		errs = append(errs, fmt.Errorf("SSOFLOW_EVENT_RETENTION %s: must be at least 1m", c.EventRetention))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("max body bytes must be positive"))
	}
	if err := c.Worker.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Scheduler.WithDefaults().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
