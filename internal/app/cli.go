package app

import (
	"context"
	"fmt"
	"io"
)

// CLI runs the ssoflow operator command with its arguments (without the
// program name) and returns the exit code.
func CLI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	usage := func(w io.Writer) {
		fmt.Fprintf(w, `usage: ssoflow <command> [flags]

Commands:
  dev       %s
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
