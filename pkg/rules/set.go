package rules

import (
	"errors"
	"fmt"
	"slices"

	"github.com/ssoflow/ssoflow/pkg/events"
)

// Set is a compiled, indexed set of rules: finding the rules an event
// triggers costs a map lookup per event type, not a pass over every rule.
// A Set is immutable and safe for concurrent use.
type Set struct {
	rules []*Rule
	byID  map[string]*Rule
	exact map[string][]int           // Okta type -> rule positions
	seed  map[events.EventType][]int // seed name -> rule positions
	globs []int                      // rules with a wildcard pattern
}

// NewSet checks and compiles rules. Every problem of every rule is reported
// at once, each naming its rule and field; a set with any problem is refused
// whole. flowExists, when not nil, says whether a flow id is known.
func NewSet(rules []TriggerRule, flowExists func(string) bool) (*Set, error) {
	s := &Set{
		byID:  make(map[string]*Rule, len(rules)),
		exact: map[string][]int{},
		seed:  map[events.EventType][]int{},
	}
	var errs []error
	seen := make(map[string]bool, len(rules))
	for i, r := range rules {
		if r.ID != "" && seen[r.ID] {
			errs = append(errs, &FieldError{RuleID: r.ID, Index: i, Field: "id", Err: errors.New("is used by an earlier rule")})
		}
		seen[r.ID] = true
		c, err := compile(r, i, flowExists)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(errs) == 0 {
			s.add(c)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func (s *Set) add(r *Rule) {
	pos := len(s.rules)
	s.rules = append(s.rules, r)
	s.byID[r.ID] = r
	for _, t := range r.EventTypes {
		switch {
		case events.IsCatalogName(t):
			s.seed[events.EventType(t)] = appendOnce(s.seed[events.EventType(t)], pos)
		case isPattern(t):
			s.globs = appendOnce(s.globs, pos)
		default:
			s.exact[t] = appendOnce(s.exact[t], pos)
		}
	}
}

func appendOnce(xs []int, x int) []int {
	if len(xs) > 0 && xs[len(xs)-1] == x {
		return xs
	}
	return append(xs, x)
}

func isPattern(t string) bool { return slices.Contains([]byte(t), '*') }

// Warnings lists what in the rules is legal but likely a mistake: an Okta
// event type ssoflow does not know (a misspelt type never matches), an
// empty set.
func (s *Set) Warnings() []string {
	var out []string
	enabled := 0
	for _, r := range s.rules {
		if r.Enabled {
			enabled++
		}
	}
	switch {
	case len(s.rules) == 0:
		out = append(out, "there are no rules: no event will run a flow")
	case enabled == 0:
		out = append(out, "every rule is disabled: no event will run a flow")
	}
	for _, r := range s.rules {
		for _, t := range r.EventTypes {
			if !events.IsCatalogName(t) && !isPattern(t) && !events.KnownOktaType(t) {
				out = append(out, fmt.Sprintf("rule %q: event type %q is not one ssoflow knows of; check its spelling", r.ID, t))
			}
		}
	}
	return out
}

// Rules returns the rules in the order they were given.
func (s *Set) Rules() []*Rule { return slices.Clone(s.rules) }

// Get returns the rule with this id.
func (s *Set) Get(id string) (*Rule, bool) {
	r, ok := s.byID[id]
	return r, ok
}

// Len returns the number of rules.
func (s *Set) Len() int { return len(s.rules) }

// Match is one rule that an event triggers.
type Match struct {
	// Rule is the rule.
	Rule *Rule
	// Input is what the flow is to receive.
	Input map[string]any
	// Err, when not nil, says why the condition or the input could not be
	// evaluated for this event. The caller should record it (as a failed
	// execution) rather than drop it.
	Err error
}

// Match returns the enabled rules that the event triggers, in rule order,
// each with the input built for it.
func (s *Set) Match(ev *events.SSOEvent) []Match {
	cands := s.candidates(ev)
	if len(cands) == 0 {
		return nil
	}
	env := NewEnv(ev)
	var out []Match
	for _, pos := range cands {
		r := s.rules[pos]
		if !r.Enabled {
			continue
		}
		ok, err := r.conditionHolds(env)
		if err != nil {
			out = append(out, Match{Rule: r, Err: err})
			continue
		}
		if !ok {
			continue
		}
		in, err := r.buildInput(env)
		out = append(out, Match{Rule: r, Input: in, Err: err})
	}
	return out
}

// candidates returns the positions of the rules whose event types match,
// sorted and without repeats.
func (s *Set) candidates(ev *events.SSOEvent) []int {
	var cands []int
	cands = append(cands, s.exact[ev.EventType]...)
	for _, t := range ev.Types {
		cands = append(cands, s.seed[t]...)
	}
	for _, pos := range s.globs {
		if s.rules[pos].listensTo(ev) {
			cands = append(cands, pos)
		}
	}
	slices.Sort(cands)
	return slices.Compact(cands)
}

// String describes the set for logs.
func (s *Set) String() string {
	enabled := 0
	for _, r := range s.rules {
		if r.Enabled {
			enabled++
		}
	}
	return fmt.Sprintf("%d rules (%d enabled)", len(s.rules), enabled)
}
