package app

import (
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/ssoflow/ssoflow/internal/worker"
)

// composeFile is the part of docker-compose.yml this test reads.
type composeFile struct {
	Services map[string]struct {
		Build           any               `yaml:"build"`
		Image           string            `yaml:"image"`
		Command         []string          `yaml:"command"`
		Environment     map[string]string `yaml:"environment"`
		StopGracePeriod string            `yaml:"stop_grace_period"`
		Healthcheck     struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		Deploy struct {
			Replicas int `yaml:"replicas"`
		} `yaml:"deploy"`
	} `yaml:"services"`
}

var commandsByName = map[string]Command{"ingest": Ingest, "worker": Worker, "scheduler": Scheduler}

// envNames returns the environment variables the binaries read.
func envNames(t *testing.T) []string {
	t.Helper()
	var names []string
	_, err := FromEnv(func(k string) string { names = append(names, k); return "" })
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// composeDefault resolves ${VAR:-default} to default, as compose does when
// VAR is unset.
func composeDefault(v string) string {
	return regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`).ReplaceAllString(v, "$1")
}

// TestComposeFile checks docker-compose.yml against the real binaries:
// every service command is a binary with flags it accepts, every variable
// is one the binaries read and the resulting configuration is valid, the
// health checks probe the ports the services listen on, and Redis runs the
// way ssoflow needs.
func TestComposeFile(t *testing.T) {
	data, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(data, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, want := range []string{"redis", "ingest", "worker", "scheduler"} {
		if _, ok := cf.Services[want]; !ok {
			t.Errorf("no %s service", want)
		}
	}
	redis := cf.Services["redis"]
	if cmd := strings.Join(redis.Command, " "); !strings.Contains(cmd, "--appendonly yes") || !strings.Contains(cmd, "--maxmemory-policy noeviction") {
		t.Errorf("redis runs %q: want appendonly yes and maxmemory-policy noeviction", cmd)
	}
	known := envNames(t)
	for name, svc := range cf.Services {
		if name == "redis" {
			continue
		}
		if svc.Build == nil {
			t.Errorf("%s: not built from this repository", name)
		}
		if len(svc.Command) == 0 {
			t.Errorf("%s: no command", name)
			continue
		}
		cmd, ok := commandsByName[svc.Command[0]]
		if !ok {
			t.Errorf("%s: command %q is not one of ssoflow's binaries", name, svc.Command[0])
			continue
		}
		env := map[string]string{}
		for k, v := range svc.Environment {
			if !slices.Contains(known, k) {
				t.Errorf("%s: environment variable %s is read by no binary", name, k)
			}
			env[k] = composeDefault(v)
		}
		cfg, err := FromEnv(getenvFrom(env))
		if err != nil {
			t.Errorf("%s: environment: %v", name, err)
			continue
		}
		fs := cmd.flagSet(&cfg, io.Discard)
		if err := fs.Parse(svc.Command[1:]); err != nil || fs.NArg() > 0 {
			t.Errorf("%s: %s does not accept %q: %v", name, cmd.Name, svc.Command[1:], err)
			continue
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: configuration is invalid: %v", name, err)
		}
		for _, p := range []string{cfg.RulesPath, cfg.FlowsPath} {
			if p != "" && !strings.HasPrefix(p, "/etc/ssoflow/") {
				t.Errorf("%s: %s is not in /etc/ssoflow, where the image puts config/", name, p)
			}
		}
		checkHealthcheck(t, name, svc.Healthcheck.Test, cfg)
		if svc.StopGracePeriod == "" {
			t.Errorf("%s: no stop_grace_period", name)
		} else if d, err := time.ParseDuration(svc.StopGracePeriod); err != nil || d <= worker.DefaultShutdownTimeout {
			t.Errorf("%s: stop_grace_period %q must exceed the worker shutdown timeout %s", name, svc.StopGracePeriod, worker.DefaultShutdownTimeout)
		}
	}
	if cf.Services["worker"].Deploy.Replicas < 2 || cf.Services["scheduler"].Deploy.Replicas < 2 {
		t.Error("the stack should run at least two workers and two schedulers, as users do")
	}
}

// checkHealthcheck: a health check is `ssoflow probe URL` on the port the
// service serves.
func checkHealthcheck(t *testing.T, name string, test []string, cfg Config) {
	t.Helper()
	if len(test) != 4 || test[0] != "CMD" || test[1] != "ssoflow" || test[2] != "probe" {
		t.Errorf("%s: health check %q: want [CMD ssoflow probe URL]", name, test)
		return
	}
	u, err := url.Parse(test[3])
	if err != nil {
		t.Errorf("%s: health check URL: %v", name, err)
		return
	}
	addr := cfg.MetricsAddr
	if name == "ingest" {
		addr = cfg.Addr
	}
	if _, port, _ := strings.Cut(addr, ":"); port == "" || port != u.Port() {
		t.Errorf("%s: health check probes port %s but the service listens on %q", name, u.Port(), addr)
	}
}

// TestDockerfile checks that the image builds every binary with the Go
// version go.mod names, and carries the config files the compose file uses.
func TestDockerfile(t *testing.T) {
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if goVersion == nil {
		t.Fatal("go.mod has no go directive")
	}
	text := string(df)
	if !strings.Contains(text, "FROM golang:"+string(goVersion[1])) {
		t.Errorf("Dockerfile does not build with golang:%s", goVersion[1])
	}
	for _, c := range []string{"ingest", "worker", "scheduler", "ssoflow"} {
		if !strings.Contains(text, "./cmd/"+c) {
			t.Errorf("Dockerfile does not build cmd/%s", c)
		}
	}
	if !strings.Contains(text, "COPY config/ /etc/ssoflow/") {
		t.Error("Dockerfile does not copy config/ to /etc/ssoflow/")
	}
}
