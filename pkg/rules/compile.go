package rules

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/ssoflow/ssoflow/pkg/events"
)

// Env is what rule expressions see: the SSOEvent's fields under their
// snake_case names and the LogEvent's fields under Okta's names.
type Env struct {
	EventID   string         `expr:"event_id"`
	EventType string         `expr:"event_type"`
	Types     []string       `expr:"types"`
	Timestamp time.Time      `expr:"timestamp"`
	UserID    string         `expr:"user_id"`
	UserEmail string         `expr:"user_email"`
	Metadata  map[string]any `expr:"metadata"`
	events.LogEvent
}

// NewEnv builds the expression environment of an event.
func NewEnv(ev *events.SSOEvent) *Env {
	env := &Env{
		EventID:   ev.EventID,
		EventType: ev.EventType,
		Types:     make([]string, len(ev.Types)),
		Timestamp: ev.Timestamp,
		UserID:    ev.UserID,
		UserEmail: ev.UserEmail,
		Metadata:  ev.Metadata,
	}
	for i, t := range ev.Types {
		env.Types[i] = string(t)
	}
	if ev.Okta != nil {
		env.LogEvent = *ev.Okta
	}
	env.Outcome.Result = ev.Outcome()
	return env
}

var exprOptions = []expr.Option{expr.Env(&Env{})}

// Rule is a compiled TriggerRule.
type Rule struct {
	TriggerRule
	condition *vm.Program
	input     map[string]*vm.Program
}

// Compile checks and compiles one rule. flowExists, when not nil, says
// whether a flow id is known; a rule naming an unknown flow is refused.
func Compile(r TriggerRule, flowExists func(string) bool) (*Rule, error) {
	return compile(r, 0, flowExists)
}

func compile(r TriggerRule, index int, flowExists func(string) bool) (*Rule, error) {
	if r.Version == 0 {
		r.Version = 1
	}
	errs := r.check(index, flowExists)
	c := &Rule{TriggerRule: r, input: make(map[string]*vm.Program, len(r.Input))}
	fieldErr := func(field string, err error) {
		errs = append(errs, &FieldError{RuleID: r.ID, Index: index, Field: field, Err: exprError(err)})
	}
	if strings.TrimSpace(r.Condition) != "" {
		p, err := expr.Compile(r.Condition, append(exprOptions, expr.AsBool())...)
		if err != nil {
			fieldErr("condition", err)
		}
		c.condition = p
	}
	for k, src := range r.Input {
		if strings.TrimSpace(src) == "" {
			fieldErr("input."+k, errors.New("expression is empty"))
			continue
		}
		p, err := expr.Compile(src, exprOptions...)
		if err != nil {
			fieldErr("input."+k, err)
		}
		c.input[k] = p
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// exprError keeps expr's message and position and drops its source excerpt,
// which repeats the rule's own text.
func exprError(err error) error {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return errors.New(msg)
}

// Matches reports whether the rule applies to the event: it is enabled, one
// of its event types matches and its condition holds.
func (r *Rule) Matches(ev *events.SSOEvent) (bool, error) {
	if !r.Enabled || !r.listensTo(ev) {
		return false, nil
	}
	return r.conditionHolds(NewEnv(ev))
}

func (r *Rule) listensTo(ev *events.SSOEvent) bool {
	for _, t := range r.EventTypes {
		if events.IsCatalogName(t) {
			if ev.Is(events.EventType(t)) {
				return true
			}
		} else if ok, _ := path.Match(t, ev.EventType); ok {
			return true
		}
	}
	return false
}

func (r *Rule) conditionHolds(env *Env) (bool, error) {
	if r.condition == nil {
		return true, nil
	}
	out, err := run(r.condition, env)
	if err != nil {
		return false, fmt.Errorf("rule %q: condition: %w", r.ID, err)
	}
	return out.(bool), nil
}

// BuildInput evaluates the rule's input expressions for an event.
func (r *Rule) BuildInput(ev *events.SSOEvent) (map[string]any, error) {
	return r.buildInput(NewEnv(ev))
}

func (r *Rule) buildInput(env *Env) (map[string]any, error) {
	in := make(map[string]any, len(r.input))
	var errs []error
	for k, p := range r.input {
		v, err := run(p, env)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %q: input.%s: %w", r.ID, k, err))
			continue
		}
		in[k] = v
	}
	return in, errors.Join(errs...)
}

// run evaluates a program against an environment; a panic in a builtin
// becomes an error.
func run(p *vm.Program, env *Env) (out any, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("evaluation panicked: %v", v)
		}
	}()
	return expr.Run(p, env)
}
