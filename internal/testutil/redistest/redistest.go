// Package redistest gives tests a real Redis: a private redis-server on a
// free port that the test can stop and restart (for fault tests), or the
// server at REDIS_URL when that is set. Tests skip, saying why, only when
// neither can be had.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a Redis for one test.
type Server struct {
	t    testing.TB
	url  string
	port int
	dir  string
	cmd  *exec.Cmd
	own  bool
}

// Start returns a running Redis, stopped when the test ends. With REDIS_URL
// set, it is that server, flushed first: give the tests a database of their
// own and run them with -p 1. Such a server cannot be stopped, so fault
// tests skip.
func Start(t testing.TB) *Server {
	t.Helper()
	if url := os.Getenv("REDIS_URL"); url != "" {
		s := &Server{t: t, url: url}
		s.flush()
		return s
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("no redis-server on PATH and REDIS_URL is not set: install redis-server (Debian: apt-get install redis-server) to run this test")
	}
	s := &Server{t: t, port: freePort(t), dir: t.TempDir(), own: true}
	s.url = fmt.Sprintf("redis://127.0.0.1:%d/0", s.port)
	s.start(bin)
	t.Cleanup(s.stop)
	return s
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return s.url }

// Client returns a go-redis client for the server, closed when the test ends.
func (s *Server) Client() *redis.Client {
	opts, err := redis.ParseURL(s.url)
	if err != nil {
		s.t.Fatalf("parse %s: %v", s.url, err)
	}
	c := redis.NewClient(opts)
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop kills the server (SIGKILL: nothing is flushed) so that the test can
// see what a Redis outage does.
func (s *Server) Stop() {
	s.t.Helper()
	if !s.own {
		s.t.Skip("REDIS_URL is set: cannot stop that server for a fault test")
	}
	s.stop()
}

// Restart starts the server again on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	bin, _ := exec.LookPath("redis-server")
	s.start(bin)
}

func (s *Server) start(bin string) {
	s.t.Helper()
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--maxmemory-policy", "noeviction", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), 100*time.Millisecond)
		if err == nil {
			_ = conn.Close()
			break
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server did not listen on port %d within 10s", s.port)
		}
		time.Sleep(20 * time.Millisecond) // polling a port, not waiting on our own work
	}
	s.flush()
}

func (s *Server) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

func (s *Server) flush() {
	s.t.Helper()
	opts, err := redis.ParseURL(s.url)
	if err != nil {
		s.t.Fatalf("REDIS_URL: %v", err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.FlushDB(ctx).Err(); err != nil {
		s.t.Fatalf("flush %s: %v", s.url, err)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
