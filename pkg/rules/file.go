package rules

import (
	"fmt"
	"os"

	"github.com/ssoflow/ssoflow/internal/yamlx"
)

// yamlRule is TriggerRule as written in YAML, where enabled defaults to true.
type yamlRule struct {
	ID          string            `yaml:"id"`
	Description string            `yaml:"description"`
	EventTypes  []string          `yaml:"event_types"`
	Condition   string            `yaml:"condition"`
	Input       map[string]string `yaml:"input"`
	FlowID      string            `yaml:"flow_id"`
	Enabled     *bool             `yaml:"enabled"`
	Version     int               `yaml:"version"`
}

// ParseYAML reads a rules file:
//
//	rules:
//	  - id: offboard-user
//	    event_types: [user.lifecycle.deactivate]
//	    flow_id: flow_offboarding
//	    input:
//	      user_id: user_id
//
// Unknown fields are errors, so that a misspelt key is not silently ignored.
// The rules are only parsed here; NewSet checks and compiles them.
func ParseYAML(data []byte) ([]TriggerRule, error) {
	var doc struct {
		Rules []yamlRule `yaml:"rules"`
	}
	if err := yamlx.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("rules YAML: %w", err)
	}
	out := make([]TriggerRule, len(doc.Rules))
	for i, r := range doc.Rules {
		out[i] = TriggerRule{
			ID:          r.ID,
			Description: r.Description,
			EventTypes:  r.EventTypes,
			Condition:   r.Condition,
			Input:       r.Input,
			FlowID:      r.FlowID,
			Enabled:     r.Enabled == nil || *r.Enabled,
			Version:     r.Version,
		}
	}
	return out, nil
}

// LoadFile reads, checks and compiles a rules file. Errors name the file.
func LoadFile(path string, flowExists func(string) bool) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rules, err := ParseYAML(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	set, err := NewSet(rules, flowExists)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return set, nil
}
