// Command scheduler is ssoflow's scheduler process; run it with -h for its flags.
package main

import (
	"context"
	"os"

	"github.com/ssoflow/ssoflow/internal/app"
)

func main() {
	os.Exit(app.Main(context.Background(), app.Scheduler, os.Args[1:], os.Getenv, os.Stderr, nil))
}
