package events_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ssoflow/ssoflow/pkg/events"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	type E = events.EventType
	tests := []struct {
		oktaType, outcome string
		want              []E
	}{
		{"user.session.start", "SUCCESS", []E{events.LoginSuccess}},
		{"user.session.start", "FAILURE", []E{events.LoginFailure}},
		{"user.session.start", "", nil},
		{"user.session.start", "DENY", nil},
		{"user.session.end", "SUCCESS", []E{events.Logout}},
		{"user.session.expire", "", []E{events.SessionExpired}},
		{"user.session.clear", "SUCCESS", nil},
		{"user.mfa.factor.activate", "SUCCESS", []E{events.MFAEnrolled}},
		{"user.authentication.auth_via_mfa", "SUCCESS", []E{events.MFAChallenge}},
		{"user.authentication.auth_via_mfa", "FAILURE", []E{events.MFAChallenge, events.MFAFailure}},
		{"system.push.send_factor_verify_push", "SUCCESS", []E{events.MFAChallenge}},
		{"system.sms.send_factor_verify_message", "SUCCESS", []E{events.MFAChallenge}},
		{"system.voice.send_mfa_challenge_call", "SUCCESS", []E{events.MFAChallenge}},
		{"system.email.send_factor_verify_message", "SUCCESS", []E{events.MFAChallenge}},
		{"user.lifecycle.create", "SUCCESS", []E{events.UserCreated}},
		{"user.lifecycle.activate", "SUCCESS", []E{events.UserActivated}},
		{"user.lifecycle.deactivate", "SUCCESS", []E{events.UserDeactivated}},
		{"user.lifecycle.suspend", "SUCCESS", []E{events.UserSuspended}},
		{"user.lifecycle.unsuspend", "SUCCESS", []E{events.UserUnsuspended}},
		{"application.user_membership.add", "SUCCESS", []E{events.AppAccessGranted}},
		{"application.user_membership.remove", "SUCCESS", []E{events.AppAccessRevoked}},
		{"group.user_membership.add", "SUCCESS", []E{events.GroupMembershipAdd}},
		{"group.user_membership.remove", "SUCCESS", []E{events.GroupMembershipRemove}},
		{"user.account.update_password", "SUCCESS", []E{events.PasswordChanged}},
		{"user.account.reset_password", "SUCCESS", []E{events.PasswordReset}},
		{"user.account.expire_password", "SUCCESS", nil}, // an admin expiring it, not a reminder
		{"policy.evaluate_sign_on", "DENY", []E{events.PolicyViolation}},
		{"policy.evaluate_sign_on", "CHALLENGE", []E{events.PolicyViolation}},
		{"policy.evaluate_sign_on", "ALLOW", nil},
		{"policy.evaluate_sign_on", "", nil},
		{"application.policy.sign_on.deny_access", "DENY", []E{events.PolicyViolation}},
		{"security.request.blocked", "", []E{events.PolicyViolation}},
		{"user.risk.detect", "", []E{events.RiskyLogin}},
		{"user.risk.change", "SUCCESS", []E{events.RiskyLogin}},
		{"security.threat.detected", "", []E{events.RiskyLogin}},
		{"LOGIN_FAILURE", "FAILURE", nil}, // seed names are not Okta types
		{"PASSWORD_EXPIRING", "", nil},
		{"user.session.start.extra", "SUCCESS", nil},
		{"", "", nil},
	}
	for _, tt := range tests {
		got := events.Classify(tt.oktaType, tt.outcome)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Classify(%q, %q) (-want +got):\n%s", tt.oktaType, tt.outcome, diff)
		}
	}
}

// TestClassifyCatalogSources: every source of every definition classifies
// back to that definition, with each of its outcomes or any outcome.
func TestClassifyCatalogSources(t *testing.T) {
	t.Parallel()
	for _, d := range events.Catalog() {
		for _, s := range d.Sources {
			outcomes := s.Outcomes
			if len(outcomes) == 0 {
				outcomes = []string{"", "SUCCESS", "FAILURE"}
			}
			for _, o := range outcomes {
				if got := events.Classify(s.OktaType, o); !slices.Contains(got, d.Type) {
					t.Errorf("Classify(%q, %q) = %v, want it to hold %s", s.OktaType, o, got, d.Type)
				}
			}
		}
	}
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	cat := events.Catalog()
	var names []events.EventType
	for _, d := range cat {
		names = append(names, d.Type)
	}
	want := []events.EventType{
		events.LoginSuccess, events.LoginFailure, events.Logout, events.SessionExpired,
		events.MFAEnrolled, events.MFAChallenge, events.MFAFailure,
		events.UserCreated, events.UserActivated, events.UserDeactivated, events.UserSuspended, events.UserUnsuspended,
		events.AppAccessGranted, events.AppAccessRevoked, events.GroupMembershipAdd, events.GroupMembershipRemove,
		events.PasswordChanged, events.PasswordReset, events.PasswordExpiring, events.PolicyViolation, events.RiskyLogin,
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("Catalog names (-want +got):\n%s", diff)
	}
	for _, n := range want {
		if !events.IsCatalogName(string(n)) {
			t.Errorf("IsCatalogName(%q) = false", n)
		}
	}
	for _, n := range []string{"", "LOGIN_FAIL", "login_failure", "user.session.start"} {
		if events.IsCatalogName(n) {
			t.Errorf("IsCatalogName(%q) = true", n)
		}
	}

	// PollOnly marks what event hooks never deliver.
	d, ok := events.Lookup(events.PolicyViolation)
	if !ok {
		t.Fatal("Lookup(POLICY_VIOLATION) found nothing")
	}
	wantPV := []events.Source{
		{OktaType: "policy.evaluate_sign_on", Outcomes: []string{"DENY", "CHALLENGE"}, PollOnly: true},
		{OktaType: "application.policy.sign_on.deny_access"},
		{OktaType: "security.request.blocked"},
	}
	if diff := cmp.Diff(wantPV, d.Sources, cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })); diff != "" {
		t.Errorf("POLICY_VIOLATION sources (-want +got):\n%s", diff)
	}
	if d, ok := events.Lookup(events.PasswordExpiring); !ok || len(d.Sources) != 0 {
		t.Errorf("Lookup(PASSWORD_EXPIRING) = %+v, %v; want no sources", d, ok)
	}
	if _, ok := events.Lookup("NOPE"); ok {
		t.Error("Lookup(NOPE) found a definition")
	}

	// Catalog is a deep copy.
	cat[1].Sources[0].Outcomes[0] = "SUCCESS"
	cat[1].Sources[0].OktaType = "changed"
	if got := events.Classify("user.session.start", "FAILURE"); !slices.Equal(got, []events.EventType{events.LoginFailure}) {
		t.Errorf("after editing Catalog's result, Classify(user.session.start, FAILURE) = %v", got)
	}
	if again := events.Catalog(); again[1].Sources[0].OktaType != "user.session.start" || again[1].Sources[0].Outcomes[0] != "FAILURE" {
		t.Errorf("Catalog()[1] = %+v after editing an earlier copy", again[1])
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	type E = events.EventType
	tests := []struct {
		name string
		in   events.SSOEvent
		want events.SSOEvent
	}{
		{
			name: "USER_CREATED",
			in:   events.SSOEvent{EventID: "e", EventType: "USER_CREATED"},
			want: events.SSOEvent{EventID: "e", EventType: "user.lifecycle.create", Types: []E{events.UserCreated}},
		},
		{
			name: "LOGIN_FAILURE records its outcome",
			in:   events.SSOEvent{EventID: "e", EventType: "LOGIN_FAILURE"},
			want: events.SSOEvent{EventID: "e", EventType: "user.session.start", Metadata: map[string]any{"outcome": "FAILURE"}, Types: []E{events.LoginFailure}},
		},
		{
			name: "LOGIN_SUCCESS keeps other metadata",
			in:   events.SSOEvent{EventID: "e", EventType: "LOGIN_SUCCESS", Metadata: map[string]any{"ip_address": "192.0.2.1"}},
			want: events.SSOEvent{EventID: "e", EventType: "user.session.start", Metadata: map[string]any{"ip_address": "192.0.2.1", "outcome": "SUCCESS"}, Types: []E{events.LoginSuccess}},
		},
		{
			name: "MFA_FAILURE is also an MFA_CHALLENGE",
			in:   events.SSOEvent{EventID: "e", EventType: "MFA_FAILURE"},
			want: events.SSOEvent{EventID: "e", EventType: "user.authentication.auth_via_mfa", Metadata: map[string]any{"outcome": "FAILURE"}, Types: []E{events.MFAChallenge, events.MFAFailure}},
		},
		{
			name: "MFA_CHALLENGE implies no outcome",
			in:   events.SSOEvent{EventID: "e", EventType: "MFA_CHALLENGE"},
			want: events.SSOEvent{EventID: "e", EventType: "user.authentication.auth_via_mfa", Types: []E{events.MFAChallenge}},
		},
		{
			name: "POLICY_VIOLATION",
			in:   events.SSOEvent{EventID: "e", EventType: "POLICY_VIOLATION"},
			want: events.SSOEvent{EventID: "e", EventType: "policy.evaluate_sign_on", Metadata: map[string]any{"outcome": "DENY"}, Types: []E{events.PolicyViolation}},
		},
		{
			name: "RISKY_LOGIN",
			in:   events.SSOEvent{EventID: "e", EventType: "RISKY_LOGIN"},
			want: events.SSOEvent{EventID: "e", EventType: "user.risk.detect", Types: []E{events.RiskyLogin}},
		},
		{
			name: "SESSION_EXPIRED",
			in:   events.SSOEvent{EventID: "e", EventType: "SESSION_EXPIRED"},
			want: events.SSOEvent{EventID: "e", EventType: "user.session.expire", Types: []E{events.SessionExpired}},
		},
		{
			name: "GROUP_MEMBERSHIP_REMOVE",
			in:   events.SSOEvent{EventID: "e", EventType: "GROUP_MEMBERSHIP_REMOVE"},
			want: events.SSOEvent{EventID: "e", EventType: "group.user_membership.remove", Types: []E{events.GroupMembershipRemove}},
		},
		{
			name: "PASSWORD_EXPIRING has no Okta type and is kept",
			in:   events.SSOEvent{EventID: "e", EventType: "PASSWORD_EXPIRING"},
			want: events.SSOEvent{EventID: "e", EventType: "PASSWORD_EXPIRING", Types: []E{events.PasswordExpiring}},
		},
		{
			name: "Okta type with the outcome in metadata",
			in:   events.SSOEvent{EventID: "e", EventType: "user.session.start", Metadata: map[string]any{"outcome": "FAILURE"}},
			want: events.SSOEvent{EventID: "e", EventType: "user.session.start", Metadata: map[string]any{"outcome": "FAILURE"}, Types: []E{events.LoginFailure}},
		},
		{
			name: "the LogEvent's outcome wins over metadata",
			in: events.SSOEvent{EventID: "e", EventType: "user.session.start", Metadata: map[string]any{"outcome": "SUCCESS"},
				Okta: &events.LogEvent{Outcome: events.Outcome{Result: "FAILURE"}}},
			want: events.SSOEvent{EventID: "e", EventType: "user.session.start", Metadata: map[string]any{"outcome": "SUCCESS"}, Types: []E{events.LoginFailure},
				Okta: &events.LogEvent{Outcome: events.Outcome{Result: "FAILURE"}}},
		},
		{
			name: "stale Types are replaced",
			in:   events.SSOEvent{EventID: "e", EventType: "user.lifecycle.activate", Types: []E{events.RiskyLogin}},
			want: events.SSOEvent{EventID: "e", EventType: "user.lifecycle.activate", Types: []E{events.UserActivated}},
		},
		{
			name: "type outside the catalog",
			in:   events.SSOEvent{EventID: "e", EventType: "user.account.lock", Types: []E{events.RiskyLogin}},
			want: events.SSOEvent{EventID: "e", EventType: "user.account.lock"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.in
			got.Normalize()
			opt := cmpopts.IgnoreUnexported(events.LogEvent{})
			if diff := cmp.Diff(tt.want, got, opt); diff != "" {
				t.Errorf("Normalize (-want +got):\n%s", diff)
			}
			again := got
			again.Metadata = maps.Clone(got.Metadata)
			again.Normalize()
			if diff := cmp.Diff(got, again, opt); diff != "" {
				t.Errorf("Normalize is not idempotent (-first +second):\n%s", diff)
			}
		})
	}
}

func TestSSOEventOutcomeAndIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   events.SSOEvent
		want string
	}{
		{"none", events.SSOEvent{}, ""},
		{"metadata", events.SSOEvent{Metadata: map[string]any{"outcome": "DENY"}}, "DENY"},
		{"metadata not a string", events.SSOEvent{Metadata: map[string]any{"outcome": 3}}, ""},
		{"LogEvent", events.SSOEvent{Okta: &events.LogEvent{Outcome: events.Outcome{Result: "ALLOW"}}, Metadata: map[string]any{"outcome": "DENY"}}, "ALLOW"},
		{"LogEvent without outcome falls back", events.SSOEvent{Okta: &events.LogEvent{}, Metadata: map[string]any{"outcome": "DENY"}}, "DENY"},
	}
	for _, tt := range tests {
		if got := tt.ev.Outcome(); got != tt.want {
			t.Errorf("%s: Outcome() = %q, want %q", tt.name, got, tt.want)
		}
	}
	ev := events.SSOEvent{EventID: "e", EventType: "MFA_FAILURE"}
	ev.Normalize()
	if !ev.Is(events.MFAFailure) || !ev.Is(events.MFAChallenge) || ev.Is(events.LoginFailure) {
		t.Errorf("Is: Types = %v", ev.Types)
	}
}

func TestSSOEventValidate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", events.MaxIDLength+1)
	tests := []struct {
		name string
		ev   events.SSOEvent
		want string // "" for valid
	}{
		{"valid", events.SSOEvent{EventID: "e", EventType: "t"}, ""},
		{"at the length limit", events.SSOEvent{EventID: long[1:], EventType: long[1:]}, ""},
		{"missing both", events.SSOEvent{}, "event_id is required\nevent_type is required"},
		{"too long", events.SSOEvent{EventID: long, EventType: long}, "event_id is longer than 256 bytes\nevent_type is longer than 256 bytes"},
	}
	for _, tt := range tests {
		err := tt.ev.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: Validate() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSubject(t *testing.T) {
	t.Parallel()
	user := events.Actor{ID: "00u1", Type: "User", AlternateID: "ada@example.com"}
	admin := events.Actor{ID: "00uadmin", Type: "User", AlternateID: "admin@example.com"}
	system := events.Actor{ID: "0oa-system", Type: "SystemPrincipal", AlternateID: "system@okta.com"}
	userTarget := events.Target{ID: "00u2", Type: "User", AlternateID: "bob@example.com"}
	app := events.Target{ID: "0oa1", Type: "AppInstance", AlternateID: "Slack"}
	group := events.Target{ID: "00g1", Type: "UserGroup", AlternateID: "Engineering"}
	tests := []struct {
		name      string
		eventType string
		actor     events.Actor
		targets   []events.Target
		wantID    string
		wantLogin string
	}{
		{"sign-in: the actor", "user.session.start", user, nil, "00u1", "ada@example.com"},
		{"sign-in into an app: the actor, not the User target", "user.authentication.sso", user, []events.Target{app, userTarget}, "00u1", "ada@example.com"},
		{"MFA verify: the actor", "user.authentication.auth_via_mfa", user, nil, "00u1", "ada@example.com"},
		{"MFA enrol: the actor", "user.mfa.factor.activate", user, []events.Target{userTarget}, "00u1", "ada@example.com"},
		{"self-service password change: the actor", "user.account.update_password", user, []events.Target{userTarget}, "00u1", "ada@example.com"},
		{"lockout: the actor", "user.account.lock", user, []events.Target{userTarget}, "00u1", "ada@example.com"},
		{"MFA push sent: the actor", "system.push.send_factor_verify_push", user, nil, "00u1", "ada@example.com"},
		{"sign-on policy: the actor", "policy.evaluate_sign_on", user, []events.Target{{ID: "pol1", Type: "PolicyEntity"}}, "00u1", "ada@example.com"},
		{"admin resets a password: the User target", "user.account.reset_password", admin, []events.Target{userTarget}, "00u2", "bob@example.com"},
		{"admin creates a user: the User target", "user.lifecycle.create", admin, []events.Target{userTarget}, "00u2", "bob@example.com"},
		{"system deactivates: the User target", "user.lifecycle.deactivate", system, []events.Target{userTarget}, "00u2", "bob@example.com"},
		{"group membership, User target second", "group.user_membership.add", admin, []events.Target{group, userTarget}, "00u2", "bob@example.com"},
		{"app assignment, User target second", "application.user_membership.add", system, []events.Target{app, userTarget}, "00u2", "bob@example.com"},
		{"sign-in by a system actor: the User target", "user.session.start", system, []events.Target{userTarget}, "00u2", "bob@example.com"},
		{"admin action on an app: the actor is the only user", "application.lifecycle.update", admin, []events.Target{app}, "00uadmin", "admin@example.com"},
		{"User target without id: nobody, not the admin", "user.lifecycle.create", admin, []events.Target{{Type: "User"}}, "", ""},
		{"deactivation without a target: nobody, not the admin", "user.lifecycle.deactivate", admin, nil, "", ""},
		{"app assignment without a User target: nobody", "application.user_membership.add", admin, []events.Target{app}, "", ""},
		{"admin password reset without a target: nobody", "user.account.reset_password", admin, nil, "", ""},
		{"other admin event: the User target", "user.account.update_profile", admin, []events.Target{userTarget}, "00u2", "bob@example.com"},
		{"unlock by an admin: the User target, not the admin", "user.account.unlock_by_admin", admin, []events.Target{userTarget}, "00u2", "bob@example.com"},
		{"admin resets factors: the User target", "user.mfa.factor.reset_all", admin, []events.Target{userTarget}, "00u2", "bob@example.com"},
		{"admin clears sessions: the User target", "user.session.clear", admin, []events.Target{userTarget}, "00u2", "bob@example.com"},
		{"self-service unlock: the actor", "user.account.unlock", admin, nil, "00uadmin", "admin@example.com"},
		{"no user at all", "application.lifecycle.update", system, []events.Target{app}, "", ""},
		{"system actor, no target", "system.org.rate_limit.warning", system, nil, "", ""},
		{"User actor without id", "user.session.start", events.Actor{Type: "User"}, nil, "", ""},
	}
	for _, tt := range tests {
		le := &events.LogEvent{UUID: "u", EventType: tt.eventType, Actor: tt.actor, Target: tt.targets}
		id, login := le.Subject()
		if id != tt.wantID || login != tt.wantLogin {
			t.Errorf("%s: Subject() = %q, %q; want %q, %q", tt.name, id, login, tt.wantID, tt.wantLogin)
		}
		ev := events.FromLogEvent(le)
		if ev.UserID != tt.wantID || ev.UserEmail != tt.wantLogin {
			t.Errorf("%s: FromLogEvent user = %q, %q; want %q, %q", tt.name, ev.UserID, ev.UserEmail, tt.wantID, tt.wantLogin)
		}
		_, hasActorID := ev.Metadata["actor_id"]
		if wantActorID := tt.actor.ID != "" && tt.actor.ID != tt.wantID; hasActorID != wantActorID {
			t.Errorf("%s: metadata actor_id present = %v, want %v (metadata %v)", tt.name, hasActorID, wantActorID, ev.Metadata)
		}
	}
}

func TestTargetOf(t *testing.T) {
	t.Parallel()
	le := &events.LogEvent{Target: []events.Target{
		{ID: "0oa1", Type: "AppInstance"}, {ID: "00u1", Type: "User"}, {ID: "00u2", Type: "User"},
	}}
	if got := le.TargetOf("User"); got == nil || got.ID != "00u1" {
		t.Errorf("TargetOf(User) = %+v, want the first User target", got)
	}
	if got := le.TargetOf("UserGroup"); got != nil {
		t.Errorf("TargetOf(UserGroup) = %+v, want nil", got)
	}
	if got := (&events.LogEvent{}).TargetOf("User"); got != nil {
		t.Errorf("TargetOf on no targets = %+v, want nil", got)
	}
}

func TestLogEventValidate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("u", events.MaxIDLength+1)
	tests := []struct {
		name string
		le   events.LogEvent
		want string
	}{
		{"valid", events.LogEvent{UUID: "u", EventType: "t", Published: ts("2024-01-01T00:00:00Z")}, ""},
		{"empty", events.LogEvent{}, "uuid is required\neventType is required\npublished is required"},
		{"too long", events.LogEvent{UUID: long, EventType: long, Published: ts("2024-01-01T00:00:00Z")}, "uuid is longer than 256 bytes\neventType is longer than 256 bytes"},
	}
	for _, tt := range tests {
		got := ""
		if err := tt.le.Validate(); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: Validate() = %q, want %q", tt.name, got, tt.want)
		}
	}
}
