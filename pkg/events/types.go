package events

import "slices"

// EventType is one of the seed's event type names (LOGIN_SUCCESS, USER_CREATED,
// ...). Okta itself speaks in its own event types (user.session.start, ...);
// the catalog maps each EventType to the Okta event types, and where needed the
// outcomes, that make it. An SSOEvent carries the EventTypes it belongs to in
// its Types field, so rules can match either vocabulary.
type EventType string

// The seed's event types.
const (
	LoginSuccess          EventType = "LOGIN_SUCCESS"
	LoginFailure          EventType = "LOGIN_FAILURE"
	Logout                EventType = "LOGOUT"
	SessionExpired        EventType = "SESSION_EXPIRED"
	MFAEnrolled           EventType = "MFA_ENROLLED"
	MFAChallenge          EventType = "MFA_CHALLENGE"
	MFAFailure            EventType = "MFA_FAILURE"
	UserCreated           EventType = "USER_CREATED"
	UserActivated         EventType = "USER_ACTIVATED"
	UserDeactivated       EventType = "USER_DEACTIVATED"
	UserSuspended         EventType = "USER_SUSPENDED"
	UserUnsuspended       EventType = "USER_UNSUSPENDED"
	AppAccessGranted      EventType = "APP_ACCESS_GRANTED"
	AppAccessRevoked      EventType = "APP_ACCESS_REVOKED"
	GroupMembershipAdd    EventType = "GROUP_MEMBERSHIP_ADD"
	GroupMembershipRemove EventType = "GROUP_MEMBERSHIP_REMOVE"
	PasswordChanged       EventType = "PASSWORD_CHANGED"
	PasswordReset         EventType = "PASSWORD_RESET"
	PasswordExpiring      EventType = "PASSWORD_EXPIRING"
	PolicyViolation       EventType = "POLICY_VIOLATION"
	RiskyLogin            EventType = "RISKY_LOGIN"
)

// Source is one Okta event type behind an EventType.
type Source struct {
	// OktaType is Okta's eventType, such as "user.session.start".
	OktaType string
	// Outcomes, when not empty, restrict the match to these outcome.result
	// values: LOGIN_FAILURE is user.session.start with outcome FAILURE.
	Outcomes []string
	// PollOnly is true for types that Okta does not deliver through event
	// hooks; they arrive only through System Log polling.
	PollOnly bool
}

// Definition says which Okta events make an EventType.
type Definition struct {
	// Type is the seed's name.
	Type EventType
	// Sources are the Okta event types behind it. The first is canonical: it
	// is used when an SSOEvent names the seed type instead of an Okta type.
	// PASSWORD_EXPIRING has none: Okta emits no reminder event, a scheduled
	// job is its real source.
	Sources []Source
}

func src(oktaType string, outcomes ...string) Source {
	return Source{OktaType: oktaType, Outcomes: outcomes}
}

func pollOnly(oktaType string, outcomes ...string) Source {
	return Source{OktaType: oktaType, Outcomes: outcomes, PollOnly: true}
}

var catalog = []Definition{
	{LoginSuccess, []Source{src("user.session.start", "SUCCESS")}},
	{LoginFailure, []Source{src("user.session.start", "FAILURE")}},
	{Logout, []Source{src("user.session.end")}},
	{SessionExpired, []Source{src("user.session.expire")}},
	{MFAEnrolled, []Source{src("user.mfa.factor.activate")}},
	{MFAChallenge, []Source{
		src("user.authentication.auth_via_mfa"),
		pollOnly("system.push.send_factor_verify_push"),
		pollOnly("system.sms.send_factor_verify_message"),
		pollOnly("system.voice.send_mfa_challenge_call"),
		pollOnly("system.email.send_factor_verify_message"),
	}},
	{MFAFailure, []Source{src("user.authentication.auth_via_mfa", "FAILURE")}},
	{UserCreated, []Source{src("user.lifecycle.create")}},
	{UserActivated, []Source{src("user.lifecycle.activate")}},
	{UserDeactivated, []Source{src("user.lifecycle.deactivate")}},
	{UserSuspended, []Source{src("user.lifecycle.suspend")}},
	{UserUnsuspended, []Source{src("user.lifecycle.unsuspend")}},
	{AppAccessGranted, []Source{src("application.user_membership.add")}},
	{AppAccessRevoked, []Source{src("application.user_membership.remove")}},
	{GroupMembershipAdd, []Source{src("group.user_membership.add")}},
	{GroupMembershipRemove, []Source{src("group.user_membership.remove")}},
	{PasswordChanged, []Source{src("user.account.update_password")}},
	{PasswordReset, []Source{src("user.account.reset_password")}},
	{PasswordExpiring, nil},
	{PolicyViolation, []Source{
		pollOnly("policy.evaluate_sign_on", "DENY", "CHALLENGE"),
		src("application.policy.sign_on.deny_access"),
		src("security.request.blocked"),
	}},
	{RiskyLogin, []Source{
		src("user.risk.detect"),
		src("user.risk.change"),
		pollOnly("security.threat.detected"),
	}},
}

// Catalog returns the definitions of all the seed's event types, in the
// seed's order. The result is a deep copy.
func Catalog() []Definition {
	out := make([]Definition, len(catalog))
	for i, d := range catalog {
		out[i] = Definition{Type: d.Type, Sources: make([]Source, len(d.Sources))}
		for j, s := range d.Sources {
			s.Outcomes = slices.Clone(s.Outcomes)
			out[i].Sources[j] = s
		}
	}
	return out
}

// Lookup returns the definition of a seed event type name.
func Lookup(t EventType) (Definition, bool) {
	for _, d := range catalog {
		if d.Type == t {
			return d, true
		}
	}
	return Definition{}, false
}

// IsCatalogName reports whether s is one of the seed's event type names.
func IsCatalogName(s string) bool {
	_, ok := Lookup(EventType(s))
	return ok
}

// LooksLikeCatalogName reports whether s is spelt like a seed type name
// (upper-case letters and underscores). Okta's own types are lower case, so
// such a name must be in the catalog.
func LooksLikeCatalogName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'A' || c > 'Z') && c != '_' {
			return false
		}
	}
	return true
}

// KnownOktaType reports whether t is an Okta event type ssoflow knows of:
// one behind the catalog, or another commonly hooked or polled. Okta has
// hundreds; an unknown one is not an error, but worth a second look in a
// rule, where a misspelt type never matches.
func KnownOktaType(t string) bool {
	if _, ok := knownOktaTypes[t]; ok {
		return true
	}
	for _, d := range catalog {
		for _, s := range d.Sources {
			if s.OktaType == t {
				return true
			}
		}
	}
	return false
}

var knownOktaTypes = map[string]struct{}{
	"user.lifecycle.delete.initiated": {}, "user.lifecycle.delete.completed": {}, "user.lifecycle.reactivate": {},
	"user.lifecycle.password_mass_expiry": {}, "user.account.expire_password": {}, "user.account.lock": {},
	"user.account.unlock": {}, "user.account.unlock_by_admin": {}, "user.account.update_profile": {},
	"user.account.update_primary_email": {}, "user.account.privilege.grant": {}, "user.account.privilege.revoke": {},
	"user.account.report_suspicious_activity_by_enduser": {}, "user.authentication.sso": {},
	"user.authentication.auth_via_IDP": {}, "user.authentication.auth_via_social": {},
	"user.authentication.auth_via_radius": {}, "user.authentication.authenticate": {},
	"user.authentication.verify": {}, "user.session.clear": {}, "user.session.access_admin_app": {},
	"user.session.impersonation.initiate": {}, "user.session.impersonation.end": {},
	"user.mfa.factor.deactivate": {}, "user.mfa.factor.reset_all": {}, "user.mfa.factor.suspend": {},
	"user.mfa.factor.unsuspend": {}, "user.mfa.okta_verify.deny_push": {}, "user.mfa.attempt_bypass": {},
	"group.lifecycle.create": {}, "group.lifecycle.delete": {}, "group.profile.update": {},
	"group.application_assignment.add": {}, "group.application_assignment.remove": {},
	"application.lifecycle.create": {}, "application.lifecycle.update": {}, "application.lifecycle.delete": {},
	"application.lifecycle.activate": {}, "application.lifecycle.deactivate": {},
	"application.user_membership.change_username": {}, "application.user_membership.change_password": {},
	"application.provision.user.push": {}, "application.provision.user.deactivate": {},
	"app.oauth2.as.token.grant": {}, "app.oauth2.token.grant": {}, "policy.lifecycle.create": {},
	"policy.lifecycle.update": {}, "policy.rule.add": {}, "policy.rule.update": {}, "policy.rule.delete": {},
	"security.breached_credential.detected": {}, "security.session.detect_client_roaming": {},
	"security.attack.start": {}, "security.attack.end": {}, "system.api_token.create": {},
	"system.api_token.revoke": {}, "system.org.rate_limit.warning": {}, "system.org.rate_limit.violation": {},
	"event_hook.delivery": {}, "event_hook.created": {}, "event_hook.activated": {}, "event_hook.deactivated": {},
	"zone.make_blacklist": {}, "zone.update": {}, "device.enrollment.create": {}, "device.user.add": {},
}

// Classify returns the seed event types that an Okta event of this type and
// outcome belongs to, in catalog order. An event may belong to several (a
// failed MFA verify is both MFA_CHALLENGE and MFA_FAILURE) or to none.
func Classify(oktaType, outcome string) []EventType {
	var out []EventType
	for _, d := range catalog {
		for _, s := range d.Sources {
			if s.OktaType == oktaType && (len(s.Outcomes) == 0 || slices.Contains(s.Outcomes, outcome)) {
				out = append(out, d.Type)
				break
			}
		}
	}
	return out
}
