package rules_test

import (
	"fmt"

	"github.com/ssoflow/ssoflow/pkg/events"
	"github.com/ssoflow/ssoflow/pkg/rules"
)

func ExampleNewSet() {
	trs, err := rules.ParseYAML([]byte(`
rules:
  - id: lockout-help
    event_types: [LOGIN_FAILURE]
    condition: client.geographicalContext.country != "Germany"
    flow_id: flow_mfa_remediation
    input:
      user_id: user_id
      reason: outcome.reason
  - id: onboard
    event_types: [user.lifecycle.create]
    flow_id: flow_new_hire_onboarding
    input:
      user_id: user_id
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	set, err := rules.NewSet(trs, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := events.Parse([]byte(`{"uuid": "evt-1", "published": "2024-03-01T10:00:00Z",
  "eventType": "user.session.start", "actor": {"id": "00u1", "type": "User"},
  "client": {"geographicalContext": {"country": "France"}},
  "outcome": {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(set)
	for _, m := range set.Match(&b.Events[0]) {
		fmt.Println(m.Rule.ID, "->", m.Rule.FlowID, m.Input, m.Err)
	}
	// Output:
	// 2 rules (2 enabled)
	// lockout-help -> flow_mfa_remediation map[reason:INVALID_CREDENTIALS user_id:00u1] <nil>
}
