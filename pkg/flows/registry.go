package flows

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/ssoflow/ssoflow/internal/yamlx"
)

// Registry is the set of flows ssoflow knows. Okta Workflows offers no API
// that lists flows, so the registry is configuration: a YAML file
// (SSOFLOW_FLOWS), or the mock's demo flows. A Registry is immutable.
type Registry struct {
	flows []Flow
	byID  map[string]int
}

// RegistryOption configures NewRegistry.
type RegistryOption func(*registryOptions)

type registryOptions struct{ timeout, pollInterval time.Duration }

// WithDefaults sets the timeout and poll interval of flows that name none
// (OKTA_WORKFLOWS_TIMEOUT and OKTA_WORKFLOWS_POLL_INTERVAL). Zero keeps
// DefaultTimeout and DefaultPollInterval.
func WithDefaults(timeout, pollInterval time.Duration) RegistryOption {
	return func(o *registryOptions) {
		if timeout > 0 {
			o.timeout = timeout
		}
		if pollInterval > 0 {
			o.pollInterval = pollInterval
		}
	}
}

// NewRegistry checks flows and fills in default timeouts. Every problem is
// reported at once.
func NewRegistry(flows []Flow, opts ...RegistryOption) (*Registry, error) {
	o := registryOptions{timeout: DefaultTimeout, pollInterval: DefaultPollInterval}
	for _, opt := range opts {
		opt(&o)
	}
	r := &Registry{byID: make(map[string]int, len(flows))}
	var errs []error
	for i, f := range flows {
		who := fmt.Sprintf("flow %q", f.ID)
		if f.ID == "" {
			who = fmt.Sprintf("flow #%d", i+1)
			errs = append(errs, fmt.Errorf("%s: id is required", who))
		}
		if _, dup := r.byID[f.ID]; dup && f.ID != "" {
			errs = append(errs, fmt.Errorf("%s: id is used by an earlier flow", who))
		}
		if f.Connector == "" {
			errs = append(errs, fmt.Errorf("%s: connector is required", who))
		}
		if f.Timeout == 0 {
			f.Timeout = o.timeout
		}
		if f.PollInterval == 0 {
			f.PollInterval = o.pollInterval
		}
		if f.Timeout < time.Second {
			errs = append(errs, fmt.Errorf("%s: timeout %s is under 1s", who, f.Timeout))
		}
		if f.PollInterval < time.Second {
			errs = append(errs, fmt.Errorf("%s: poll_interval %s is under 1s (the queue schedules in whole seconds)", who, f.PollInterval))
		}
		r.byID[f.ID] = len(r.flows)
		r.flows = append(r.flows, f)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// Get returns the flow with this id.
func (r *Registry) Get(id string) (Flow, bool) {
	i, ok := r.byID[id]
	if !ok {
		return Flow{}, false
	}
	return r.flows[i], true
}

// Has reports whether the flow exists; it fits rules.NewSet's flowExists.
func (r *Registry) Has(id string) bool {
	_, ok := r.byID[id]
	return ok
}

// List returns the flows, only those of flowType when it is not empty.
func (r *Registry) List(flowType string) []Flow {
	if flowType == "" {
		return slices.Clone(r.flows)
	}
	out := []Flow{}
	for _, f := range r.flows {
		if f.Type == flowType {
			out = append(out, f)
		}
	}
	return out
}

// ParseRegistryYAML reads a flow registry file:
//
//	flows:
//	  - id: flow_offboarding
//	    name: Offboarding
//	    type: lifecycle
//	    connector: mock
//	    timeout: 5m
//	    poll_interval: 2s
func ParseRegistryYAML(data []byte, opts ...RegistryOption) (*Registry, error) {
	var doc struct {
		Flows []Flow `yaml:"flows"`
	}
	if err := yamlx.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("flows YAML: %w", err)
	}
	return NewRegistry(doc.Flows, opts...)
}

// LoadRegistry reads a flow registry file. Errors name the file.
func LoadRegistry(path string, opts ...RegistryOption) (*Registry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := ParseRegistryYAML(data, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// MarshalJSON writes durations as seconds.
func (f Flow) MarshalJSON() ([]byte, error) {
	type plain Flow
	return json.Marshal(struct {
		plain
		Timeout      float64 `json:"timeout_seconds"`
		PollInterval float64 `json:"poll_interval_seconds"`
	}{plain(f), f.Timeout.Seconds(), f.PollInterval.Seconds()})
}
