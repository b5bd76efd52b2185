// Command ingest is ssoflow's ingest process; run it with -h for its flags.
package main

import (
	"context"
	"os"

	"github.com/ssoflow/ssoflow/internal/app"
)

func main() {
	os.Exit(app.Main(context.Background(), app.Ingest, os.Args[1:], os.Getenv, os.Stderr, nil))
}
