package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// CLI runs the ssoflow operator command with its arguments (without the
// program name) and returns the exit code.
func CLI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	usage := func(w io.Writer) {
		fmt.Fprintf(w, `usage: ssoflow <command> [flags]

Commands:
  dev       %s
  probe URL exit 0 if URL answers 2xx (a health check for minimal images)
  version   print the version
  help      print this help

Run "ssoflow <command> -h" for a command's flags.
`, Dev.Summary)
	}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "dev":
		return Main(ctx, Dev, args[1:], getenv, stderr, nil)
	case "probe":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "usage: ssoflow probe URL")
			return exitUsage
		}
		if err := probe(ctx, args[1]); err != nil {
			fmt.Fprintln(stderr, "ssoflow probe:", err)
			return exitError
		}
		return exitOK
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "ssoflow", Version())
		return exitOK
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "ssoflow: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

// probe GETs url and fails unless it answers 2xx within 5 s.
func probe(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
