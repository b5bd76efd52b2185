package rules

import (
	"fmt"
	"testing"

	"github.com/ssoflow/ssoflow/pkg/events"
)

func benchEvent() *events.SSOEvent {
	le := &events.LogEvent{
		UUID: "bench-1", EventType: "user.authentication.auth_via_mfa",
		Actor:   events.Actor{ID: "00ubench", Type: "User", AlternateID: "bench@example.test"},
		Outcome: events.Outcome{Result: "FAILURE", Reason: "INVALID_CREDENTIALS"},
		Target:  []events.Target{{ID: "0oaapp", Type: "AppInstance", DisplayName: "Slack"}},
	}
	ev := events.FromLogEvent(le)
	return &ev
}

// benchSet returns n rules on n distinct event types, of which one matches
// the bench event with a condition and two input expressions.
func benchSet(b *testing.B, n int) *Set {
	rs := []TriggerRule{{
		ID: "match", EventTypes: []string{"user.authentication.auth_via_mfa"}, FlowID: "f", Enabled: true,
		Condition: `outcome.result == "FAILURE" && actor.type == "User"`,
		Input:     map[string]string{"user_id": "user_id", "app": `find(target, .type == "AppInstance")?.displayName`},
	}}
	for i := 1; i < n; i++ {
		rs = append(rs, TriggerRule{ID: fmt.Sprintf("r%d", i), EventTypes: []string{fmt.Sprintf("custom.type.%d", i)},
			FlowID: "f", Enabled: true, Condition: `outcome.result == "SUCCESS"`, Input: map[string]string{"user_id": "user_id"}})
	}
	s, err := NewSet(rs, nil)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkSetMatch matches one event against rule sets of growing size:
// the index keeps the cost flat.
func BenchmarkSetMatch(b *testing.B) {
	ev := benchEvent()
	for _, n := range []int{5, 100, 1000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			s := benchSet(b, n)
			b.ReportAllocs()
			for b.Loop() {
				if m := s.Match(ev); len(m) != 1 || m[0].Err != nil {
					b.Fatalf("matches: %+v", m)
				}
			}
		})
	}
}

// BenchmarkLinearMatch is the baseline the index is measured against: every
// rule of a 1000-rule set asked in turn whether it matches.
func BenchmarkLinearMatch(b *testing.B) {
	ev := benchEvent()
	s := benchSet(b, 1000)
	rules := s.Rules()
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, r := range rules {
			if ok, _ := r.Matches(ev); ok {
				n++
			}
		}
		if n != 1 {
			b.Fatalf("%d matches", n)
		}
	}
}
