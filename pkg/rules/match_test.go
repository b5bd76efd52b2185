package rules_test

import (
	"strings"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/ssoflow/ssoflow/pkg/events"
	"github.com/ssoflow/ssoflow/pkg/rules"
)

// Test LogEvents.
const (
	leLoginOK = `{"uuid":"evt-ok","published":"2024-03-01T10:00:00Z","eventType":"user.session.start","version":"0","severity":"INFO",
		"actor":{"id":"00u1","type":"User","alternateId":"ada@example.com"},
		"client":{"zone":"null","ipAddress":"198.51.100.7","geographicalContext":{"city":"Berlin","country":"Germany"}},
		"outcome":{"result":"SUCCESS","reason":null},"target":null,
		"debugContext":{"debugData":{"threatSuspected":"false","risk":"{level=LOW}"}},
		"request":{"ipChain":[{"ip":"198.51.100.7"}]}}`
	leLoginFail = `{"uuid":"evt-fail","published":"2024-03-01T10:01:00Z","eventType":"user.session.start","version":"0","severity":"WARN",
		"actor":{"id":"00u1","type":"User","alternateId":"ada@example.com"},
		"client":{"ipAddress":"203.0.113.9","geographicalContext":{"country":"France"}},
		"outcome":{"result":"FAILURE","reason":"INVALID_CREDENTIALS"},
		"debugContext":{"debugData":{"threatSuspected":"true","risk":"HIGH"}}}`
	leMFAFail = `{"uuid":"evt-mfa","published":"2024-03-01T10:02:00Z","eventType":"user.authentication.auth_via_mfa","version":"0","severity":"WARN",
		"actor":{"id":"00u1","type":"User","alternateId":"ada@example.com"},"outcome":{"result":"FAILURE","reason":"INVALID_OTP"}}`
	leCreate = `{"uuid":"evt-create","published":"2024-03-01T10:03:00Z","eventType":"user.lifecycle.create","version":"0","severity":"INFO",
		"actor":{"id":"00uadmin","type":"User","alternateId":"admin@example.com"},"outcome":{"result":"SUCCESS"},
		"target":[{"id":"00u2","type":"User","alternateId":"bob@example.com","displayName":"Bob"}]}`
	leAppAdd = `{"uuid":"evt-app","published":"2024-03-01T10:04:00Z","eventType":"application.user_membership.add","version":"0","severity":"INFO",
		"actor":{"id":"00uadmin","type":"User","alternateId":"admin@example.com"},"outcome":{"result":"SUCCESS"},
		"target":[{"id":"0oa1","type":"AppInstance","alternateId":"Slack","displayName":"Slack"},{"id":"00u2","type":"User","alternateId":"bob@example.com"}]}`
	// leNulls has every optional field null, and a system actor.
	leNulls = `{"uuid":"evt-nulls","published":"2024-03-01T10:05:00Z","eventType":"user.session.start","version":"0","severity":"INFO",
		"actor":{"id":"0oa-system","type":"SystemPrincipal","alternateId":null,"displayName":null,"detailEntry":null},
		"client":{"userAgent":null,"zone":"null","device":null,"id":null,"ipAddress":null,"geographicalContext":null},
		"outcome":null,"target":null,"transaction":null,"debugContext":{"debugData":null},"authenticationContext":null,
		"securityContext":null,"request":{"ipChain":[]}}`
)

// parseOne parses one LogEvent or SSOEvent.
func parseOne(t testing.TB, in string) *events.SSOEvent {
	t.Helper()
	b, err := events.Parse([]byte(in))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(b.Events) != 1 {
		t.Fatalf("Parse: %d events, rejected %v", len(b.Events), b.Err())
	}
	return &b.Events[0]
}

func matchedIDs(ms []rules.Match) []string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.Rule.ID)
	}
	return ids
}

func rule(id string, types ...string) rules.TriggerRule {
	return rules.TriggerRule{ID: id, EventTypes: types, FlowID: "flow_" + id, Enabled: true}
}

func TestSetMatchEventTypes(t *testing.T) {
	t.Parallel()
	disabled := rule("disabled", "user.session.start", "LOGIN_FAILURE", "*")
	disabled.Enabled = false
	set, err := rules.NewSet([]rules.TriggerRule{
		rule("session", "user.session.start"),
		rule("lifecycle", "user.lifecycle.*"),
		rule("login-failure", "LOGIN_FAILURE"),
		disabled,
		rule("both", "user.session.start", "LOGIN_FAILURE"), // matches once
		rule("mfa-failure", "MFA_FAILURE"),
		rule("mfa-any", "user.authentication.*", "MFA_CHALLENGE"),
		rule("pw-expiring", "PASSWORD_EXPIRING"),
		rule("session-wide", "user.session.*", "user.session.start"),
		rule("everything", "*"),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ev   string
		want []string
	}{
		{"login success", leLoginOK, []string{"session", "both", "session-wide", "everything"}},
		{"login failure", leLoginFail, []string{"session", "login-failure", "both", "session-wide", "everything"}},
		{"seed-style LOGIN_FAILURE SSOEvent", `{"event_id":"s1","event_type":"LOGIN_FAILURE","user_id":"00u1"}`,
			[]string{"session", "login-failure", "both", "session-wide", "everything"}},
		{"SSOEvent with metadata outcome FAILURE", `{"event_id":"s2","event_type":"user.session.start","metadata":{"outcome":"FAILURE"}}`,
			[]string{"session", "login-failure", "both", "session-wide", "everything"}},
		{"SSOEvent with metadata outcome SUCCESS", `{"event_id":"s3","event_type":"user.session.start","metadata":{"outcome":"SUCCESS"}}`,
			[]string{"session", "both", "session-wide", "everything"}},
		{"MFA failure", leMFAFail, []string{"mfa-failure", "mfa-any", "everything"}},
		{"user created", leCreate, []string{"lifecycle", "everything"}},
		{"seed-style USER_DEACTIVATED", `{"event_id":"s4","event_type":"USER_DEACTIVATED"}`, []string{"lifecycle", "everything"}},
		{"PASSWORD_EXPIRING", `{"event_id":"s5","event_type":"PASSWORD_EXPIRING"}`, []string{"pw-expiring", "everything"}},
		{"app assignment", leAppAdd, []string{"everything"}},
		{"no dot after the prefix", `{"event_id":"s6","event_type":"user.lifecycle"}`, []string{"everything"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := parseOne(t, tt.ev)
			ms := set.Match(ev)
			if diff := gocmp.Diff(tt.want, matchedIDs(ms)); diff != "" {
				t.Errorf("Match (-want +got):\n%s", diff)
			}
			for _, m := range ms {
				if m.Err != nil {
					t.Errorf("rule %s: Err = %v", m.Rule.ID, m.Err)
				}
			}
			// Rule.Matches agrees with the set's index.
			var each []string
			for _, r := range set.Rules() {
				ok, err := r.Matches(ev)
				if err != nil {
					t.Errorf("rule %s: Matches: %v", r.ID, err)
				}
				if ok {
					each = append(each, r.ID)
				}
			}
			if diff := gocmp.Diff(tt.want, each); diff != "" {
				t.Errorf("Rule.Matches one by one (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetMatchNothing(t *testing.T) {
	t.Parallel()
	set, err := rules.NewSet([]rules.TriggerRule{rule("a", "user.lifecycle.create")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ms := set.Match(parseOne(t, leLoginOK)); ms != nil {
		t.Errorf("Match = %v, want nil", matchedIDs(ms))
	}
	empty, err := rules.NewSet(nil, nil)
	if err != nil || empty.Len() != 0 || empty.Match(parseOne(t, leLoginOK)) != nil {
		t.Errorf("empty set: %v, %v", empty, err)
	}
}

// TestConditions: conditions over Okta's nested fields, on full events and on
// events whose fields are null.
func TestConditions(t *testing.T) {
	t.Parallel()
	conds := []string{
		`actor.alternateId == "ada@example.com"`,                                  // 0
		`client.geographicalContext.country == "Germany"`,                         // 1
		`debugContext.debugData.threatSuspected == "true"`,                        // 2
		`debugContext.debugData["risk"] == "HIGH"`,                                // 3
		`"LOGIN_FAILURE" in types`,                                                // 4
		`outcome.result == "FAILURE" && outcome.reason != ""`,                     // 5
		`target == nil || len(target) == 0`,                                       // 6
		`(find(target, .type == "User")?.alternateId ?? "") == "bob@example.com"`, // 7
		`user_email endsWith "@example.com"`,                                      // 8
		`severity in ["WARN", "ERROR"]`,                                           // 9
		`len(request.ipChain) > 0 && request.ipChain[0].ip == client.ipAddress`,   // 10
		`metadata.outcome == "FAILURE"`,                                           // 11
		`actor.type == "SystemPrincipal" && client.zone == ""`,                    // 12
		`timestamp.Year() == 2024 && event_type startsWith "user."`,               // 13
	}
	tests := []struct {
		name string
		ev   string
		want []bool // per condition
	}{
		{"login success", leLoginOK, []bool{true, true, false, false, false, false, true, false, true, false, true, false, false, true}},
		{"login failure", leLoginFail, []bool{true, false, true, true, true, true, true, false, true, true, false, true, false, true}},
		{"user created", leCreate, []bool{false, false, false, false, false, false, false, true, true, false, false, false, false, true}},
		{"null fields", leNulls, []bool{false, false, false, false, false, false, true, false, false, false, false, false, true, true}},
		{"seed-style SSOEvent", `{"event_id":"s1","event_type":"LOGIN_FAILURE","timestamp":"2024-05-01T00:00:00Z","user_email":"cy@example.com"}`,
			[]bool{false, false, false, false, true, false, true, false, true, false, false, true, false, true}},
	}
	var trs []rules.TriggerRule
	for i, c := range conds {
		r := rule(string(rune('a'+i)), "*")
		r.Condition = c
		trs = append(trs, r)
	}
	set, err := rules.NewSet(trs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := parseOne(t, tt.ev)
			got := make([]bool, len(conds))
			for _, m := range set.Match(ev) {
				if m.Err != nil {
					t.Errorf("condition %q: %v", m.Rule.Condition, m.Err)
					continue
				}
				got[m.Rule.ID[0]-'a'] = true
			}
			for i := range conds {
				if got[i] != tt.want[i] {
					t.Errorf("condition %d %q = %v, want %v", i, conds[i], got[i], tt.want[i])
				}
			}
		})
	}
}

func TestBuildInput(t *testing.T) {
	t.Parallel()
	r, err := rules.Compile(rules.TriggerRule{
		ID: "in", EventTypes: []string{"*"}, FlowID: "f", Enabled: true,
		Input: map[string]string{
			"user_id":  "user_id",
			"email":    "user_email",
			"app":      `find(target, .type == "AppInstance")`,
			"app_name": `find(target, .type == "AppInstance")?.displayName ?? "unknown app"`,
			"country":  "client.geographicalContext.country",
			"outcome":  "outcome.result",
			"types":    "types",
			"ip":       "metadata.ip_address",
			"actor":    "actor.alternateId",
			"when":     `timestamp.Format("2006-01-02")`,
			"n":        "len(target)",
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ev   string
		want map[string]any
	}{
		{
			name: "app assignment",
			ev:   leAppAdd,
			want: map[string]any{
				"user_id": "00u2", "email": "bob@example.com",
				"app":      events.Target{ID: "0oa1", Type: "AppInstance", AlternateID: "Slack", DisplayName: "Slack"},
				"app_name": "Slack", "country": "", "outcome": "SUCCESS", "types": []string{"APP_ACCESS_GRANTED"},
				"ip": nil, "actor": "admin@example.com", "when": "2024-03-01", "n": 2,
			},
		},
		{
			name: "no AppInstance target",
			ev:   leLoginFail,
			want: map[string]any{
				"user_id": "00u1", "email": "ada@example.com", "app": nil, "app_name": "unknown app",
				"country": "France", "outcome": "FAILURE", "types": []string{"LOGIN_FAILURE"},
				"ip": "203.0.113.9", "actor": "ada@example.com", "when": "2024-03-01", "n": 0,
			},
		},
		{
			name: "null fields",
			ev:   leNulls,
			want: map[string]any{
				"user_id": "", "email": "", "app": nil, "app_name": "unknown app",
				"country": "", "outcome": "", "types": []string{},
				"ip": nil, "actor": "", "when": "2024-03-01", "n": 0,
			},
		},
		{
			name: "SSOEvent without a LogEvent",
			ev:   `{"event_id":"s1","event_type":"LOGIN_FAILURE","timestamp":"2024-05-01T00:00:00Z","user_id":"00u9","user_email":"cy@example.com","metadata":{"ip_address":"192.0.2.1"}}`,
			want: map[string]any{
				"user_id": "00u9", "email": "cy@example.com", "app": nil, "app_name": "unknown app",
				"country": "", "outcome": "FAILURE", "types": []string{"LOGIN_FAILURE"},
				"ip": "192.0.2.1", "actor": "", "when": "2024-05-01", "n": 0,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := r.BuildInput(parseOne(t, tt.ev))
			if err != nil {
				t.Fatalf("BuildInput: %v", err)
			}
			if diff := gocmp.Diff(tt.want, got); diff != "" {
				t.Errorf("input (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEvaluationErrors: expressions that type-check but fail at run time
// come back as Match.Err; the other rules still match.
func TestEvaluationErrors(t *testing.T) {
	t.Parallel()
	badCond := rule("bad-condition", "user.session.start")
	badCond.Condition = `request.ipChain[1].ip == "x"` // ipChain has one hop
	badInput := rule("bad-input", "user.session.start")
	badInput.Input = map[string]string{"user_id": "user_id", "hop": `request.ipChain[5].ip`, "ratio": `10 % (len(target) - len(target))`}
	nonBool := rule("non-bool", "user.session.start")
	nonBool.Condition = `debugContext.debugData.threatSuspected` // a string, not a bool
	set, err := rules.NewSet([]rules.TriggerRule{badCond, badInput, nonBool, rule("fine", "user.session.start")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev := parseOne(t, leLoginOK)
	ms := set.Match(ev)
	if diff := gocmp.Diff([]string{"bad-condition", "bad-input", "non-bool", "fine"}, matchedIDs(ms)); diff != "" {
		t.Fatalf("Match (-want +got):\n%s", diff)
	}
	errHas := map[string][]string{
		"bad-condition": {`rule "bad-condition": condition: `, "index out of range"},
		"bad-input":     {`rule "bad-input": input.hop: `, "index out of range", `rule "bad-input": input.ratio: `, "integer divide by zero"},
		"non-bool":      {`rule "non-bool": condition: `},
	}
	for _, m := range ms {
		want := errHas[m.Rule.ID]
		if len(want) == 0 {
			if m.Err != nil {
				t.Errorf("rule %s: Err = %v", m.Rule.ID, m.Err)
			}
			continue
		}
		if m.Err == nil {
			t.Errorf("rule %s: Err = nil, want an evaluation error", m.Rule.ID)
			continue
		}
		for _, s := range want {
			if !strings.Contains(m.Err.Error(), s) {
				t.Errorf("rule %s: Err = %q, want it to contain %q", m.Rule.ID, m.Err, s)
			}
		}
	}
	// The inputs that could be built are still there.
	if got := ms[1].Input; gocmp.Diff(map[string]any{"user_id": "00u1"}, got) != "" {
		t.Errorf("bad-input Input = %v, want the fields that evaluated", got)
	}
	if ms[0].Input != nil {
		t.Errorf("bad-condition Input = %v, want nil", ms[0].Input)
	}
	// Rule.Matches reports the same error.
	r, _ := set.Get("bad-condition")
	if ok, err := r.Matches(ev); ok || err == nil {
		t.Errorf("Matches = %v, %v; want false and an error", ok, err)
	}
}

func TestSetAccessors(t *testing.T) {
	t.Parallel()
	off := rule("b", "user.session.end")
	off.Enabled = false
	set, err := rules.NewSet([]rules.TriggerRule{rule("a", "*"), off, rule("c", "LOGOUT")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 3 || set.String() != "3 rules (2 enabled)" {
		t.Errorf("Len() = %d, String() = %q", set.Len(), set.String())
	}
	var ids []string
	for _, r := range set.Rules() {
		ids = append(ids, r.ID)
	}
	if diff := gocmp.Diff([]string{"a", "b", "c"}, ids); diff != "" {
		t.Errorf("Rules (-want +got):\n%s", diff)
	}
	rs := set.Rules()
	rs[0] = rs[2]
	if set.Rules()[0].ID != "a" {
		t.Error("Rules() returned the set's own slice")
	}
	if r, ok := set.Get("b"); !ok || r.Enabled || r.Version != 1 {
		t.Errorf("Get(b) = %+v, %v", r, ok)
	}
	if _, ok := set.Get("z"); ok {
		t.Error("Get(z) found a rule")
	}
}

// TestSetConcurrentMatch runs Match from many goroutines; run with -race.
func TestSetConcurrentMatch(t *testing.T) {
	t.Parallel()
	r := rule("cc", "LOGIN_FAILURE", "user.*")
	r.Condition = `outcome.result == "FAILURE"`
	r.Input = map[string]string{"user": "user_id", "app": `find(target, .type == "AppInstance")?.id ?? ""`}
	set, err := rules.NewSet([]rules.TriggerRule{r}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev := parseOne(t, leLoginFail)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				ms := set.Match(ev)
				if len(ms) != 1 || ms[0].Err != nil || ms[0].Input["user"] != "00u1" {
					t.Errorf("Match = %+v", ms)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNewEnv(t *testing.T) {
	t.Parallel()
	ev := events.SSOEvent{EventID: "e", EventType: "user.session.start", UserID: "u", Metadata: map[string]any{"outcome": "FAILURE"}}
	ev.Normalize()
	env := rules.NewEnv(&ev)
	if env.Outcome.Result != "FAILURE" || env.EventID != "e" || env.UserID != "u" || env.Actor.ID != "" {
		t.Errorf("NewEnv = %+v", env)
	}
	if diff := gocmp.Diff([]string{"LOGIN_FAILURE"}, env.Types); diff != "" {
		t.Errorf("Types (-want +got):\n%s", diff)
	}
	full := parseOne(t, leLoginFail)
	env = rules.NewEnv(full)
	if env.Actor.AlternateID != "ada@example.com" || env.Outcome.Reason != "INVALID_CREDENTIALS" || env.EventType != "user.session.start" {
		t.Errorf("NewEnv(LogEvent) = %+v", env)
	}
	// The environment is a copy: the event is not changed through it.
	env.Outcome.Result = "SUCCESS"
	if full.Okta.Outcome.Result != "FAILURE" {
		t.Error("NewEnv shares the LogEvent")
	}
}
