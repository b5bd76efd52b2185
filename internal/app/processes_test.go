package app

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ssoflow/ssoflow/internal/testutil/redistest"
)

// TestSeparateProcesses builds the ingest, worker and scheduler binaries and
// runs them as separate processes (two workers, two schedulers) on one real
// Redis: together they must do what `ssoflow dev` does, and stop cleanly on
// SIGTERM.
func TestSeparateProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries; skipped with -short")
	}
	r := redistest.Start(t)
	bins := buildBinaries(t, "ingest", "worker", "scheduler")
	port := freeTCPPort(t)
	env := testEnv(t, map[string]string{"REDIS_URL": r.URL(), "SSOFLOW_ADDR": fmt.Sprintf("127.0.0.1:%d", port)})

	var procs []*exec.Cmd
	for _, name := range []string{"ingest", "worker", "worker", "scheduler", "scheduler"} {
		procs = append(procs, startBinary(t, bins[name], env))
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	c := newClient(t, base)
	waitHealthy(t, c)
	postDeliveries(t, c)
	waitForExecutions(t, c, wantFromDeliveries)

	for _, p := range procs {
		if err := p.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range procs {
		done := make(chan error, 1)
		go func() { done <- p.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s did not stop cleanly: %v", filepath.Base(p.Path), err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not stop within 30s of SIGTERM", filepath.Base(p.Path))
		}
	}
}

func buildBinaries(t *testing.T, names ...string) map[string]string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build the binaries")
	}
	dir := t.TempDir()
	out := map[string]string{}
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	for _, n := range names {
		args = append(args, "github.com/ssoflow/ssoflow/cmd/"+n)
		out[n] = filepath.Join(dir, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ctx, gobin, args...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func startBinary(t *testing.T, path string, env map[string]string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(path)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout = t.Output()
	cmd.Stderr = t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

func waitHealthy(t *testing.T, c *client) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := c.http.Get(c.base + "/readyz")
		if req != nil {
			req.Body.Close()
			if req.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("ingest was not ready within 30s")
		}
		time.Sleep(50 * time.Millisecond) // polling a condition with a deadline
	}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
