package flows_test

import (
	"testing"

	"github.com/ssoflow/ssoflow/config"
	"github.com/ssoflow/ssoflow/pkg/flows"
)

// FuzzRegistryYAML: whatever a flow registry file holds, loading it returns
// a registry whose flows all have an id, a connector and timeouts of at
// least a second, or an error; never a panic.
func FuzzRegistryYAML(f *testing.F) {
	f.Add(config.Flows)
	f.Add([]byte("flows:\n  - id: a\n    connector: mock\n    timeout: 500ms\n"))
	f.Add([]byte("flows: [{id: a, connector: mock, poll_interval: -1s}, {id: a}]"))
	f.Add([]byte("flows:\n  - id: x\n    connector: mock\n    timeout: 99999999999h\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reg, err := flows.ParseRegistryYAML(data)
		if err != nil {
			return
		}
		for _, fl := range reg.List("") {
			if fl.ID == "" || fl.Connector == "" || fl.Timeout < 1e9 || fl.PollInterval < 1e9 {
				t.Fatalf("registry accepted %+v", fl)
			}
		}
	})
}
