package rules_test

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/ssoflow/ssoflow/pkg/events"
	"github.com/ssoflow/ssoflow/pkg/rules"
)

// fieldErr is a *rules.FieldError in a form cmp can compare.
type fieldErr struct {
	RuleID string
	Index  int
	Field  string
	Msg    string
}

// fieldErrors returns every *FieldError in err's tree, sorted by rule
// position, field and message (input expressions compile in map order).
func fieldErrors(t *testing.T, err error) []fieldErr {
	t.Helper()
	var out []fieldErr
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*rules.FieldError); ok {
			out = append(out, fieldErr{fe.RuleID, fe.Index, fe.Field, fe.Err.Error()})
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		t.Errorf("error %v (%T) is not a *FieldError", err, err)
	}
	walk(err)
	slices.SortStableFunc(out, func(a, b fieldErr) int {
		return cmp.Or(cmp.Compare(a.Index, b.Index), cmp.Compare(a.Field, b.Field), cmp.Compare(a.Msg, b.Msg))
	})
	return out
}

func catalogNames() string {
	var names []string
	for _, d := range events.Catalog() {
		names = append(names, string(d.Type))
	}
	return strings.Join(names, ", ")
}

// ok is a rule with nothing wrong.
func ok(id string) rules.TriggerRule {
	return rules.TriggerRule{ID: id, EventTypes: []string{"user.lifecycle.create"}, FlowID: "flow_a", Enabled: true,
		Input: map[string]string{"user_id": "user_id"}}
}

func with(r rules.TriggerRule, edit func(*rules.TriggerRule)) rules.TriggerRule {
	r.Input = map[string]string{"user_id": "user_id"}
	edit(&r)
	return r
}

func knownFlows(ids ...string) func(string) bool {
	return func(id string) bool { return slices.Contains(ids, id) }
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		rule       rules.TriggerRule
		flowExists func(string) bool
		want       []fieldErr
	}{
		{
			name: "misspelt field in the condition",
			rule: with(ok("r1"), func(r *rules.TriggerRule) { r.Condition = `outcome.reslt == "FAILURE"` }),
			want: []fieldErr{{"r1", 0, "condition", "type events.Outcome has no field reslt (1:9)"}},
		},
		{
			name: "string plus int in an input",
			rule: with(ok("r1"), func(r *rules.TriggerRule) { r.Input["label"] = `user_id + 1` }),
			want: []fieldErr{{"r1", 0, "input.label", "invalid operation: + (mismatched types string and int) (1:9)"}},
		},
		{
			name: "unknown name",
			rule: with(ok("r1"), func(r *rules.TriggerRule) { r.Input["user_id"] = `usr_id` }),
			want: []fieldErr{{"r1", 0, "input.user_id", "unknown name usr_id (1:1)"}},
		},
		{
			name: "condition that is not a boolean",
			rule: with(ok("r1"), func(r *rules.TriggerRule) { r.Condition = `user_email` }),
			want: []fieldErr{{"r1", 0, "condition", "expected bool, but got string"}},
		},
		{
			name: "empty input expression",
			rule: with(ok("r1"), func(r *rules.TriggerRule) { r.Input["note"] = "  " }),
			want: []fieldErr{{"r1", 0, "input.note", "expression is empty"}},
		},
		{
			name: "input field that is no identifier",
			rule: with(ok("r1"), func(r *rules.TriggerRule) { r.Input["user-id"] = "user_id" }),
			want: []fieldErr{{"r1", 0, "input", `field name "user-id" must be an identifier`}},
		},
		{
			name: "unknown seed name",
			rule: with(ok("r1"), func(r *rules.TriggerRule) { r.EventTypes = []string{"LOGIN_FAIL"} }),
			want: []fieldErr{{"r1", 0, "event_types", `unknown event type "LOGIN_FAIL": upper-case names must be one of the seed's types (` + catalogNames() + ")"}},
		},
		{
			name: "mixed-case event type and an empty one",
			rule: with(ok("r1"), func(r *rules.TriggerRule) { r.EventTypes = []string{"User.Session.Start", ""} }),
			want: []fieldErr{
				{"r1", 0, "event_types", `"User.Session.Start" is neither an Okta event type (lower case, dots, * wildcards) nor a seed type name`},
				{"r1", 0, "event_types", "an event type is empty"},
			},
		},
		{
			name: "no event types",
			rule: with(ok("r1"), func(r *rules.TriggerRule) { r.EventTypes = nil }),
			want: []fieldErr{{"r1", 0, "event_types", "is required: name at least one event type"}},
		},
		{
			name:       "unknown flow",
			rule:       with(ok("r1"), func(r *rules.TriggerRule) { r.FlowID = "flow_nope" }),
			flowExists: knownFlows("flow_a"),
			want:       []fieldErr{{"r1", 0, "flow_id", `unknown flow "flow_nope"`}},
		},
		{
			name: "no flow",
			rule: with(ok("r1"), func(r *rules.TriggerRule) { r.FlowID = "" }),
			want: []fieldErr{{"r1", 0, "flow_id", "is required"}},
		},
		{
			name: "no id",
			rule: with(ok(""), func(*rules.TriggerRule) {}),
			want: []fieldErr{{"", 0, "id", "is required"}},
		},
		{
			name: "bad id",
			rule: with(ok("bad id!"), func(*rules.TriggerRule) {}),
			want: []fieldErr{{"bad id!", 0, "id", `"bad id!" may hold only letters, digits, '_', '.' and '-'`}},
		},
		{
			name: "id too long",
			rule: with(ok(strings.Repeat("r", rules.MaxIDLength+1)), func(*rules.TriggerRule) {}),
			want: []fieldErr{{strings.Repeat("r", rules.MaxIDLength+1), 0, "id", "is longer than 128 characters"}},
		},
		{
			name: "negative version",
			rule: with(ok("r1"), func(r *rules.TriggerRule) { r.Version = -1 }),
			want: []fieldErr{{"r1", 0, "version", "must not be negative"}},
		},
		{
			name: "everything wrong at once",
			rule: rules.TriggerRule{Condition: `outcome.result ==`, Input: map[string]string{"a": `1 + "x"`, "b": `nope`}},
			want: []fieldErr{
				{"", 0, "condition", "unexpected token EOF (1:17)"},
				{"", 0, "event_types", "is required: name at least one event type"},
				{"", 0, "flow_id", "is required"},
				{"", 0, "id", "is required"},
				{"", 0, "input.a", "invalid operation: + (mismatched types int and string) (1:3)"},
				{"", 0, "input.b", "unknown name nope (1:1)"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := rules.Compile(tt.rule, tt.flowExists)
			if err == nil {
				t.Fatalf("Compile = %+v, nil; want an error", r)
			}
			if r != nil {
				t.Errorf("Compile returned a rule with its error")
			}
			if diff := gocmp.Diff(tt.want, fieldErrors(t, err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			// The message names the rule and the field.
			who := `rule "` + tt.rule.ID + `"`
			if tt.rule.ID == "" {
				who = "rule #1"
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, who+": ") {
					t.Errorf("error line %q does not start with %q", line, who)
				}
			}
			// The same rule in a set is refused the same way.
			if s, err := rules.NewSet([]rules.TriggerRule{tt.rule}, tt.flowExists); s != nil || err == nil {
				t.Errorf("NewSet = %v, %v; want it refused", s, err)
			}
		})
	}
}

// TestNewSetReportsEverything: every problem of every rule, at once.
func TestNewSetReportsEverything(t *testing.T) {
	t.Parallel()
	in := []rules.TriggerRule{
		ok("good"),
		with(ok("typo"), func(r *rules.TriggerRule) { r.Condition = `outcome.reslt == "FAILURE"` }),
		with(ok("good"), func(*rules.TriggerRule) {}),
		with(ok(""), func(r *rules.TriggerRule) { r.EventTypes = []string{"LOGIN_FAIL"}; r.FlowID = "" }),
		with(ok("ghost-flow"), func(r *rules.TriggerRule) { r.FlowID = "flow_ghost"; r.Input["n"] = `"n" + 1` }),
		ok("also-good"),
	}
	s, err := rules.NewSet(in, knownFlows("flow_a"))
	if err == nil || s != nil {
		t.Fatalf("NewSet = %v, %v; want it refused", s, err)
	}
	want := []fieldErr{
		{"typo", 1, "condition", "type events.Outcome has no field reslt (1:9)"},
		{"good", 2, "id", "is used by an earlier rule"},
		{"", 3, "event_types", `unknown event type "LOGIN_FAIL": upper-case names must be one of the seed's types (` + catalogNames() + ")"},
		{"", 3, "flow_id", "is required"},
		{"", 3, "id", "is required"},
		{"ghost-flow", 4, "flow_id", `unknown flow "flow_ghost"`},
		{"ghost-flow", 4, "input.n", "invalid operation: + (mismatched types string and int) (1:5)"},
	}
	if diff := gocmp.Diff(want, fieldErrors(t, err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	for _, s := range []string{`rule "typo": condition: `, `rule "good": id: is used by an earlier rule`, `rule #4: id: is required`, `rule "ghost-flow": flow_id: unknown flow "flow_ghost"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not contain %q:\n%v", s, err)
		}
	}
	var fe *rules.FieldError
	if !errors.As(err, &fe) || fe.RuleID != "typo" {
		t.Errorf("errors.As(*FieldError) = %+v, want the first problem", fe)
	}
}

func TestFieldErrorFormat(t *testing.T) {
	t.Parallel()
	inner := errors.New("is required")
	e := &rules.FieldError{RuleID: "r", Index: 2, Field: "flow_id", Err: inner}
	if got := e.Error(); got != `rule "r": flow_id: is required` {
		t.Errorf("Error() = %q", got)
	}
	e.RuleID = ""
	if got := e.Error(); got != `rule #3: flow_id: is required` {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(e, inner) {
		t.Error("FieldError does not unwrap")
	}
}

func TestCompileDefaults(t *testing.T) {
	t.Parallel()
	r, err := rules.Compile(ok("r"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 1 {
		t.Errorf("Version = %d, want 1 by default", r.Version)
	}
	r, err = rules.Compile(with(ok("r"), func(r *rules.TriggerRule) { r.Version = 4; r.Condition = "  " }), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 4 {
		t.Errorf("Version = %d, want 4", r.Version)
	}
	// A blank condition means always.
	ev := normalized(events.SSOEvent{EventID: "e", EventType: "user.lifecycle.create"})
	if m, err := r.Matches(&ev); !m || err != nil {
		t.Errorf("Matches = %v, %v; want true", m, err)
	}
}

func normalized(ev events.SSOEvent) events.SSOEvent {
	ev.Normalize()
	return ev
}

// TestNewSetReportsDuplicateOfBrokenRule: a duplicate id is a problem of its
// own, reported with the others, even when one of the two rules has another
// problem.
func TestNewSetReportsDuplicateOfBrokenRule(t *testing.T) {
	t.Parallel()
	broken := with(ok("dup"), func(r *rules.TriggerRule) { r.Condition = "nope" })
	for name, in := range map[string][]rules.TriggerRule{
		"first broken":  {broken, ok("dup")},
		"second broken": {ok("dup"), broken},
	} {
		_, err := rules.NewSet(in, nil)
		if err == nil {
			t.Fatalf("%s: NewSet accepted the rules", name)
		}
		if !strings.Contains(err.Error(), `rule "dup": id: is used by an earlier rule`) {
			t.Errorf("%s: NewSet = %q, want it to report the duplicate id too", name, err)
		}
	}
}

// TestSetWarnings: a misspelt Okta type compiles (Okta has hundreds of
// types) but is reported, as is an empty set; known types, seed names and
// patterns are not.
func TestSetWarnings(t *testing.T) {
	set, err := rules.NewSet([]rules.TriggerRule{
		{ID: "typo", EventTypes: []string{"user.lifecycle.craete", "user.lifecycle.create"}, FlowID: "f", Enabled: true},
		{ID: "fine", EventTypes: []string{"LOGIN_FAILURE", "user.lifecycle.*", "user.account.lock"}, FlowID: "f", Enabled: true},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`rule "typo": event type "user.lifecycle.craete" is not one ssoflow knows of; check its spelling`}
	if diff := gocmp.Diff(want, set.Warnings()); diff != "" {
		t.Errorf("Warnings (-want +got):\n%s", diff)
	}
	empty, err := rules.NewSet(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := empty.Warnings(); len(w) != 1 || !strings.Contains(w[0], "no rules") {
		t.Errorf("Warnings of an empty set = %q", w)
	}
}
