// Package rules decides which flows an event triggers. A TriggerRule names
// the event types it listens to (Okta types, with * wildcards, or the seed's
// names such as LOGIN_FAILURE), an optional condition, the flow to run and
// the input to send it. Conditions and input fields are expr-lang
// expressions over the event, compiled and type-checked once when rules load,
// so a typo is an error at load time, not a silent non-match at run time.
//
// The expression environment holds the SSOEvent's fields (event_id,
// event_type, types, timestamp, user_id, user_email, metadata) and the Okta
// LogEvent's, spelt as Okta spells them (actor.alternateId, outcome.result,
// client.ipAddress, target, ...); for an event that came without a LogEvent
// those read as empty, except outcome.result, which comes from
// metadata.outcome. Targets are best found by type with expr's find builtin,
// which yields nil when there is none:
//
//	find(target, .type == "AppInstance")?.displayName ?? "unknown app"
package rules
