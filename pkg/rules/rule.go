package rules

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ssoflow/ssoflow/pkg/events"
)

// TriggerRule says: when an event of these types happens and the condition
// holds, run this flow with this input.
type TriggerRule struct {
	// ID names the rule; it is part of every execution's identity.
	ID string `json:"id" yaml:"id"`
	// Description says what the rule is for.
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// EventTypes are Okta event types ("user.lifecycle.create"), patterns
	// with * ("user.lifecycle.*", "*") or seed names ("LOGIN_FAILURE"). The
	// rule considers an event that any of them matches.
	EventTypes []string `json:"event_types" yaml:"event_types"`
	// Condition is a boolean expression; empty means always.
	Condition string `json:"condition,omitempty" yaml:"condition,omitempty"`
	// Input maps each field of the flow's input to an expression.
	Input map[string]string `json:"input,omitempty" yaml:"input,omitempty"`
	// FlowID is the flow to run.
	FlowID string `json:"flow_id" yaml:"flow_id"`
	// Enabled rules trigger flows; disabled ones are kept but ignored.
	Enabled bool `json:"enabled" yaml:"enabled"`
	// Version is part of every execution's identity: bump it to let the
	// same event run the changed rule again. Defaults to 1.
	Version int `json:"version" yaml:"version"`
}

// MaxIDLength bounds rule ids, which appear in URLs and logs.
const MaxIDLength = 128

var (
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	oktaTypePattern = regexp.MustCompile(`^[a-z0-9_.*]+$`)
	inputKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// FieldError is a problem with one field of one rule.
type FieldError struct {
	// RuleID names the rule, or is empty when the rule has no id.
	RuleID string
	// Index is the rule's 0-based position in its file or list.
	Index int
	// Field is the field at fault: id, event_types, condition, input.user_id ...
	Field string
	// Err is the problem.
	Err error
}

func (e *FieldError) Error() string {
	who := fmt.Sprintf("rule %q", e.RuleID)
	if e.RuleID == "" {
		who = fmt.Sprintf("rule #%d", e.Index+1)
	}
	return fmt.Sprintf("%s: %s: %v", who, e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// check reports the problems of a rule that need no compiling, one error per
// field.
func (r *TriggerRule) check(index int, flowExists func(string) bool) []error {
	var errs []error
	bad := func(field string, format string, args ...any) {
		errs = append(errs, &FieldError{RuleID: r.ID, Index: index, Field: field, Err: fmt.Errorf(format, args...)})
	}
	switch {
	case r.ID == "":
		bad("id", "is required")
	case len(r.ID) > MaxIDLength:
		bad("id", "is longer than %d characters", MaxIDLength)
	case !idPattern.MatchString(r.ID):
		bad("id", "%q may hold only letters, digits, '_', '.' and '-'", r.ID)
	}
	if len(r.EventTypes) == 0 {
		bad("event_types", "is required: name at least one event type")
	}
	for _, t := range r.EventTypes {
		if err := checkEventType(t); err != nil {
			bad("event_types", "%v", err)
		}
	}
	switch {
	case r.FlowID == "":
		bad("flow_id", "is required")
	case flowExists != nil && !flowExists(r.FlowID):
		bad("flow_id", "unknown flow %q", r.FlowID)
	}
	if r.Version < 0 {
		bad("version", "must not be negative")
	}
	for k := range r.Input {
		if !inputKeyPattern.MatchString(k) {
			bad("input", "field name %q must be an identifier", k)
		}
	}
	return errs
}

func checkEventType(t string) error {
	switch {
	case t == "":
		return errors.New("an event type is empty")
	case events.LooksLikeCatalogName(t):
		if !events.IsCatalogName(t) {
			return fmt.Errorf("unknown event type %q: upper-case names must be one of the seed's types (%s)", t, catalogNames())
		}
	case !oktaTypePattern.MatchString(t):
		return fmt.Errorf("%q is neither an Okta event type (lower case, dots, * wildcards) nor a seed type name", t)
	}
	return nil
}

func catalogNames() string {
	var names []string
	for _, d := range events.Catalog() {
		names = append(names, string(d.Type))
	}
	return strings.Join(names, ", ")
}
