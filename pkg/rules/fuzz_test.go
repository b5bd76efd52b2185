package rules_test

import (
	"testing"

	"github.com/ssoflow/ssoflow/config"
	"github.com/ssoflow/ssoflow/pkg/events"
	"github.com/ssoflow/ssoflow/pkg/rules"
)

// FuzzRulesYAML: whatever a rules file holds, loading it returns rules or an
// error, never a panic; and a set that compiles can match events.
func FuzzRulesYAML(f *testing.F) {
	f.Add(config.Rules)
	f.Add([]byte("rules:\n  - id: a\n    event_types: [\"*\"]\n    condition: user_id != \"\"\n    flow_id: f\n    input: {x: 'find(target, .type == \"User\")?.id'}\n"))
	f.Add([]byte("rules:\n  - id: b\n    event_types: [LOGIN_FAILURE]\n    input: {n: '1 / 0', s: 'metadata.x[0]'}\n    flow_id: f\n"))
	f.Add([]byte("rules: [{id: c, event_types: [user.*], condition: 'outcome.result ==', flow_id: f}]"))
	f.Add([]byte("rules:\n- &a {id: d}\n- *a\n"))
	ev := events.FromLogEvent(&events.LogEvent{
		UUID: "u", EventType: "user.session.start",
		Actor:   events.Actor{ID: "00u1", Type: "User"},
		Outcome: events.Outcome{Result: "FAILURE"},
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := rules.ParseYAML(data)
		if err != nil {
			return
		}
		set, err := rules.NewSet(rs, nil)
		if err != nil {
			return
		}
		for _, m := range set.Match(&ev) {
			if m.Rule == nil {
				t.Fatal("a match without its rule")
			}
		}
		_ = set.Warnings()
	})
}
