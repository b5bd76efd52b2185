package events_test

import (
	"fmt"

	"github.com/ssoflow/ssoflow/pkg/events"
)

func ExampleParse() {
	body := []byte(`{
  "eventType": "com.okta.event_hook",
  "eventTypeVersion": "1.0",
  "eventId": "b5a188b9-5ece-4636-b041-482ffda96311",
  "data": {"events": [
    {"uuid": "2a1b3c4d", "published": "2024-03-01T10:00:00.000Z", "eventType": "user.session.start",
     "version": "0", "severity": "WARN",
     "actor": {"id": "00u1ab", "type": "User", "alternateId": "ada@example.com"},
     "outcome": {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"}},
    {"uuid": "5e6f7a8b", "published": "2024-03-01T10:05:00.000Z", "eventType": "user.lifecycle.create",
     "version": "0", "severity": "INFO",
     "actor": {"id": "00uadmin", "type": "User", "alternateId": "admin@example.com"},
     "target": [{"id": "00u2cd", "type": "User", "alternateId": "bob@example.com"}],
     "outcome": {"result": "SUCCESS"}}
  ]}
}`)
	b, err := events.Parse(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ev := range b.Events {
		fmt.Println(ev.EventID, ev.EventType, ev.UserEmail, ev.Types)
	}
	// Output:
	// 2a1b3c4d user.session.start ada@example.com [LOGIN_FAILURE]
	// 5e6f7a8b user.lifecycle.create bob@example.com [USER_CREATED]
}

func ExampleClassify() {
	fmt.Println(events.Classify("user.session.start", "SUCCESS"))
	fmt.Println(events.Classify("user.session.start", "FAILURE"))
	fmt.Println(events.Classify("user.authentication.auth_via_mfa", "FAILURE"))
	fmt.Println(events.Classify("policy.evaluate_sign_on", "DENY"))
	fmt.Println(events.Classify("policy.evaluate_sign_on", "ALLOW"))
	// Output:
	// [LOGIN_SUCCESS]
	// [LOGIN_FAILURE]
	// [MFA_CHALLENGE MFA_FAILURE]
	// [POLICY_VIOLATION]
	// []
}

func ExampleParseHookDelivery() {
	body := []byte(`{
  "eventType": "com.okta.event_hook",
  "eventId": "b5a188b9-5ece-4636-b041-482ffda96311",
  "data": {"events": [
    {"uuid": "9c0d1e2f", "published": "2024-03-01T10:00:00Z", "eventType": "user.lifecycle.deactivate",
     "actor": {"id": "00uadmin", "type": "User"}, "target": [{"id": "00u2cd", "type": "User"}]},
    {"uuid": "3f4a5b6c", "published": "last Tuesday", "eventType": "user.lifecycle.suspend"}
  ]}
}`)
	d, err := events.ParseHookDelivery(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("delivery", d.EventID)
	for _, ev := range d.Events {
		fmt.Println("kept", ev.EventID, ev.Types, "for", ev.UserID)
	}
	for _, r := range d.Rejected {
		fmt.Println("rejected:", r)
	}
	// Output:
	// delivery b5a188b9-5ece-4636-b041-482ffda96311
	// kept 9c0d1e2f [USER_DEACTIVATED] for 00u2cd
	// rejected: event 2 (line 7, id "3f4a5b6c"): time "last Tuesday" is not RFC 3339
}
