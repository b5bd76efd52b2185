package events

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MaxIDLength bounds event ids and event types. Both become parts of Redis
// keys and task ids, so they must stay short.
const MaxIDLength = 256

// SSOEvent is one identity event as ssoflow handles it: the seed's fields,
// the seed event types it belongs to, and the Okta LogEvent it came from when
// there was one, so that rules can look at all of it.
type SSOEvent struct {
	// EventID is the event's identity: the LogEvent's uuid. Redelivery and
	// replay are deduplicated on it.
	EventID string `json:"event_id"`
	// EventType is Okta's eventType (user.session.start). An SSOEvent that
	// names a seed type instead (LOGIN_FAILURE) is normalised to the Okta type
	// behind it.
	EventType string `json:"event_type"`
	// Timestamp is when the event happened (the LogEvent's published).
	Timestamp time.Time `json:"timestamp"`
	// UserID is the Okta id of the user the event is about, empty when the
	// event is about no user.
	UserID string `json:"user_id"`
	// UserEmail is that user's login, usually an email address.
	UserEmail string `json:"user_email"`
	// Metadata holds extra facts: outcome, reason, severity, ip_address, ...
	Metadata map[string]any `json:"metadata,omitempty"`
	// Types are the seed event types the event belongs to, derived from
	// EventType and the outcome; Normalize sets them.
	Types []EventType `json:"types,omitempty"`
	// Okta is the LogEvent the event came from; nil for events that arrived
	// as SSOEvent JSON.
	Okta *LogEvent `json:"okta,omitempty"`
}

// Outcome returns the event's outcome.result, from the LogEvent or, for an
// event without one, from metadata["outcome"].
func (e *SSOEvent) Outcome() string {
	if e.Okta != nil && e.Okta.Outcome.Result != "" {
		return e.Okta.Outcome.Result
	}
	s, _ := e.Metadata["outcome"].(string)
	return s
}

// Is reports whether the event belongs to the seed event type t.
func (e *SSOEvent) Is(t EventType) bool { return slices.Contains(e.Types, t) }

// Normalize maps a seed type name in EventType to its canonical Okta type
// (recording the outcome it implies when metadata has none) and sets Types.
// It is idempotent.
func (e *SSOEvent) Normalize() {
	if def, ok := Lookup(EventType(e.EventType)); ok && len(def.Sources) > 0 {
		canonical := def.Sources[0]
		e.EventType = canonical.OktaType
		if len(canonical.Outcomes) > 0 && e.Outcome() == "" {
			if e.Metadata == nil {
				e.Metadata = map[string]any{}
			}
			e.Metadata["outcome"] = canonical.Outcomes[0]
		}
	}
	types := Classify(e.EventType, e.Outcome())
	if IsCatalogName(e.EventType) && !slices.Contains(types, EventType(e.EventType)) {
		types = append(types, EventType(e.EventType)) // PASSWORD_EXPIRING
	}
	e.Types = types
}

// Validate reports every problem that makes the event unusable, joined.
func (e *SSOEvent) Validate() error {
	errs := []error{checkID("event_id", e.EventID), checkID("event_type", e.EventType)}
	if LooksLikeCatalogName(e.EventType) && !IsCatalogName(e.EventType) {
		errs = append(errs, fmt.Errorf("event_type %q is not one of the seed's types; Okta's own types are lower case (user.session.start)", e.EventType))
	}
	return errors.Join(errs...)
}

// checkID reports a required, bounded identifier that is missing or too long.
func checkID(field, v string) error {
	switch {
	case v == "":
		return fmt.Errorf("%s is required", field)
	case len(v) > MaxIDLength:
		return fmt.Errorf("%s is longer than %d bytes", field, MaxIDLength)
	}
	return nil
}

// Validate reports every missing required field of a LogEvent, joined.
func (e *LogEvent) Validate() error {
	errs := []error{checkID("uuid", e.UUID), checkID("eventType", e.EventType)}
	if e.Published.IsZero() {
		errs = append(errs, errors.New("published is required"))
	}
	return errors.Join(errs...)
}

// actorIsSubject lists the Okta event type prefixes where the actor is the
// user the event is about: the user signs in, verifies a factor, changes
// their own password. Everywhere else (lifecycle, membership, admin actions)
// the actor is an admin or the system and the user is the User target.
var actorIsSubject = []string{
	"user.session.",
	"user.authentication.",
	"user.mfa.",
	"user.account.update_password",
	"user.account.lock",
	"user.account.unlock",
	"system.push.",
	"system.sms.",
	"system.voice.",
	"system.email.",
	"policy.evaluate_sign_on",
	"security.threat.detected",
	"security.breached_credential.detected",
}

// targetIsSubject lists the Okta event type prefixes where the user the
// event is about can only be the User target: the actor is the admin or the
// system that created, changed or assigned that user. Without a User target
// such an event concerns no user we know, never its actor.
var targetIsSubject = []string{
	"user.lifecycle.",
	"group.user_membership.",
	"application.user_membership.",
	"user.account.reset_password",
	"user.account.expire_password",
	"user.account.unlock_by_admin",
	"user.account.privilege.",
	"user.risk.",
	"user.session.clear",
	"user.mfa.factor.reset_all",
	"user.mfa.factor.deactivate",
}

// Subject returns who a LogEvent is about: the actor for sign-in, MFA and
// self-service password events; the User target for lifecycle, membership
// and admin events (and nobody when they have none); for other events the
// User target, else the actor if it is a user. It returns the user's id and
// login, or empty strings when the event concerns no user.
func (e *LogEvent) Subject() (id, login string) {
	actorIsUser := e.Actor.Type == "User" && e.Actor.ID != ""
	targetOnly := hasAnyPrefix(e.EventType, targetIsSubject) // checked first: unlock_by_admin is no self-service unlock
	if actorIsUser && !targetOnly && hasAnyPrefix(e.EventType, actorIsSubject) {
		return e.Actor.ID, e.Actor.AlternateID
	}
	if t := e.TargetOf("User"); t != nil && t.ID != "" {
		return t.ID, t.AlternateID
	}
	if actorIsUser && !targetOnly {
		return e.Actor.ID, e.Actor.AlternateID
	}
	return "", ""
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// FromLogEvent builds the SSOEvent for an Okta LogEvent. It does not
// validate; call Validate on the LogEvent first.
func FromLogEvent(le *LogEvent) SSOEvent {
	userID, login := le.Subject()
	meta := map[string]any{"outcome": le.Outcome.Result}
	setIf := func(k, v string) {
		if v != "" {
			meta[k] = v
		}
	}
	setIf("reason", le.Outcome.Reason)
	setIf("severity", le.Severity)
	setIf("ip_address", le.Client.IPAddress)
	setIf("country", le.Client.GeographicalContext.Country)
	if le.Actor.ID != userID {
		setIf("actor_id", le.Actor.ID)
	}
	ev := SSOEvent{
		EventID:   le.UUID,
		EventType: le.EventType,
		Timestamp: le.Published,
		UserID:    userID,
		UserEmail: login,
		Metadata:  meta,
		Okta:      le,
	}
	ev.Normalize()
	return ev
}
