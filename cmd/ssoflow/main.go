// Command ssoflow is the operator's command: `ssoflow dev` runs the whole
// product in one process on an embedded Redis with the mock flows.
package main

import (
	"context"
	"os"

	"github.com/ssoflow/ssoflow/internal/app"
)

func main() {
	os.Exit(app.CLI(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
