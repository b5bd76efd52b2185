package flows

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
)

// Router is the Connector for a whole registry: it sends each call to the
// connector its flow names.
type Router struct {
	registry   *Registry
	connectors map[string]Connector
}

// NewRouter checks that every flow of the registry has its connector, and
// that the connector can run it (when it is a FlowChecker).
func NewRouter(registry *Registry, connectors map[string]Connector) (*Router, error) {
	var errs []error
	for _, f := range registry.List("") {
		c, ok := connectors[f.Connector]
		if !ok {
			errs = append(errs, fmt.Errorf("flow %q: unknown connector %q (have: %s)", f.ID, f.Connector, names(connectors)))
			continue
		}
		if fc, ok := c.(FlowChecker); ok {
			if err := fc.CheckFlow(f); err != nil {
				errs = append(errs, fmt.Errorf("flow %q: %w", f.ID, err))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Router{registry: registry, connectors: connectors}, nil
}

func names(m map[string]Connector) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

// Registry returns the registry the router serves.
func (r *Router) Registry() *Registry { return r.registry }

func (r *Router) connector(flowID string) (Connector, error) {
	f, ok := r.registry.Get(flowID)
	if !ok {
		return nil, Permanent(fmt.Errorf("%w %q", ErrUnknownFlow, flowID))
	}
	return r.connectors[f.Connector], nil
}

// Invoke implements Connector.
func (r *Router) Invoke(ctx context.Context, req InvokeRequest) (*Invocation, error) {
	c, err := r.connector(req.FlowID)
	if err != nil {
		return nil, err
	}
	return c.Invoke(ctx, req)
}

// Status implements Connector.
func (r *Router) Status(ctx context.Context, exec *ExecutionResult) (*Invocation, error) {
	c, err := r.connector(exec.FlowID)
	if err != nil {
		return nil, err
	}
	return c.Status(ctx, exec)
}

// List implements Connector: the registry's flows.
func (r *Router) List(_ context.Context, flowType string) ([]Flow, error) {
	return r.registry.List(flowType), nil
}

// Close closes every connector, once even when it serves under several
// names (when its type can be compared).
func (r *Router) Close() error {
	var errs []error
	closed := map[Connector]bool{}
	for _, c := range r.connectors {
		if reflect.TypeOf(c).Comparable() {
			if closed[c] {
				continue
			}
			closed[c] = true
		}
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
