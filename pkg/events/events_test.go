package events_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ssoflow/ssoflow/pkg/events"
)

// Test LogEvents, one JSON object per line so that line numbers in the inputs
// built from them can be counted by hand.
const (
	// leLoginOK has every field Okta usually fills in.
	leLoginOK = `{"uuid":"evt-login-ok","published":"2024-03-01T10:00:00Z","eventType":"user.session.start","version":"0","severity":"INFO","displayMessage":"User login to Okta","legacyEventType":"core.user_auth.login_success","actor":{"id":"00u1","type":"User","alternateId":"ada@example.com","displayName":"Ada Lovelace","detailEntry":null},"client":{"userAgent":{"rawUserAgent":"Mozilla/5.0","os":"Mac OS X","browser":"SAFARI"},"zone":"null","device":"Computer","id":null,"ipAddress":"198.51.100.7","geographicalContext":{"city":"London","state":"England","country":"United Kingdom","postalCode":"EC1A","geolocation":{"lat":51.5,"lon":-0.12}}},"outcome":{"result":"SUCCESS","reason":null},"target":null,"transaction":{"type":"WEB","id":"tx1","detail":{}},"debugContext":{"debugData":{"requestUri":"/api/v1/authn","threatSuspected":"false"}},"authenticationContext":{"authenticationProvider":null,"credentialProvider":null,"credentialType":null,"issuer":null,"interface":null,"authenticationStep":0,"externalSessionId":"sess1"},"securityContext":{"asNumber":64496,"asOrg":"example org","isp":"example isp","domain":"example.com","isProxy":false},"request":{"ipChain":[{"ip":"198.51.100.7","geographicalContext":{"country":"United Kingdom"},"version":"V4","source":null}]}}`
	// leLoginFail is a failed sign-in: LOGIN_FAILURE.
	leLoginFail = `{"uuid":"evt-login-fail","published":"2024-03-01T10:01:00Z","eventType":"user.session.start","version":"0","severity":"WARN","actor":{"id":"00u1","type":"User","alternateId":"ada@example.com"},"client":{"ipAddress":"203.0.113.9","zone":"null"},"outcome":{"result":"FAILURE","reason":"INVALID_CREDENTIALS"},"target":null}`
	// leCreate is an admin creating a user: the user is the User target.
	leCreate = `{"uuid":"evt-create","published":"2024-03-01T10:02:00Z","eventType":"user.lifecycle.create","version":"0","severity":"INFO","actor":{"id":"00uadmin","type":"User","alternateId":"admin@example.com"},"outcome":{"result":"SUCCESS"},"target":[{"id":"00u2","type":"User","alternateId":"bob@example.com","displayName":"Bob"}]}`
	// leNoUUID misses its uuid.
	leNoUUID = `{"published":"2024-03-01T10:03:00Z","eventType":"user.session.start","version":"0","severity":"INFO","actor":{"id":"00u1","type":"User"}}`
	// leNoPublished has a uuid but no published.
	leNoPublished = `{"uuid":"evt-no-published","eventType":"user.session.start","version":"0","severity":"INFO","actor":{"id":"00u1","type":"User"}}`

	// SSOEvents as an operator would post them.
	ssoCreated = `{"event_id":"sso-1","event_type":"USER_CREATED","timestamp":"2024-03-02T09:00:00Z","user_id":"00u9","user_email":"cy@example.com","metadata":{"department":"R&D","attempts":3}}`
	ssoFailure = `{"event_id":"sso-2","event_type":"LOGIN_FAILURE","timestamp":"2024-03-02T09:01:00Z","user_id":"00u9","user_email":"cy@example.com"}`
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The SSOEvents the constants above parse to, without their Okta field.
var (
	wantLoginOK = events.SSOEvent{
		EventID: "evt-login-ok", EventType: "user.session.start", Timestamp: ts("2024-03-01T10:00:00Z"),
		UserID: "00u1", UserEmail: "ada@example.com",
		Metadata: map[string]any{"outcome": "SUCCESS", "severity": "INFO", "ip_address": "198.51.100.7", "country": "United Kingdom"},
		Types:    []events.EventType{events.LoginSuccess},
	}
	wantLoginFail = events.SSOEvent{
		EventID: "evt-login-fail", EventType: "user.session.start", Timestamp: ts("2024-03-01T10:01:00Z"),
		UserID: "00u1", UserEmail: "ada@example.com",
		Metadata: map[string]any{"outcome": "FAILURE", "reason": "INVALID_CREDENTIALS", "severity": "WARN", "ip_address": "203.0.113.9"},
		Types:    []events.EventType{events.LoginFailure},
	}
	wantCreate = events.SSOEvent{
		EventID: "evt-create", EventType: "user.lifecycle.create", Timestamp: ts("2024-03-01T10:02:00Z"),
		UserID: "00u2", UserEmail: "bob@example.com",
		Metadata: map[string]any{"outcome": "SUCCESS", "severity": "INFO", "actor_id": "00uadmin"},
		Types:    []events.EventType{events.UserCreated},
	}
	wantSSOCreated = events.SSOEvent{
		EventID: "sso-1", EventType: "user.lifecycle.create", Timestamp: ts("2024-03-02T09:00:00Z"),
		UserID: "00u9", UserEmail: "cy@example.com",
		Metadata: map[string]any{"department": "R&D", "attempts": float64(3)},
		Types:    []events.EventType{events.UserCreated},
	}
	wantSSOFailure = events.SSOEvent{
		EventID: "sso-2", EventType: "user.session.start", Timestamp: ts("2024-03-02T09:01:00Z"),
		UserID: "00u9", UserEmail: "cy@example.com",
		Metadata: map[string]any{"outcome": "FAILURE"},
		Types:    []events.EventType{events.LoginFailure},
	}
)

// delivery wraps LogEvents in an event hook delivery, one event a line. The
// first event is on line 11, the next on line 12, and so on.
func delivery(idKey, id string, evs ...string) string {
	return `{
  "eventType": "com.okta.event_hook",
  "eventTypeVersion": "1.0",
  "cloudEventsVersion": "0.1",
  "source": "https://example.okta.com/api/v1/eventHooks/who1",
  "` + idKey + `": "` + id + `",
  "eventTime": "2024-03-01T10:02:01.000Z",
  "contentType": "application/json",
  "data": {
    "events": [
      ` + strings.Join(evs, ",\n      ") + `
    ]
  }
}`
}

// compact returns s on one line.
func compact(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		panic(err)
	}
	return b.String()
}

// stripOkta returns the events without their LogEvents, for cmp.Diff, and
// checks that each has (or lacks) the LogEvent it came from.
func stripOkta(t *testing.T, evs []events.SSOEvent, wantOkta bool) []events.SSOEvent {
	t.Helper()
	out := slices.Clone(evs)
	for i := range out {
		switch {
		case wantOkta && out[i].Okta == nil:
			t.Errorf("event %d (%s): Okta is nil, want the LogEvent", i, out[i].EventID)
		case wantOkta && out[i].Okta.UUID != out[i].EventID:
			t.Errorf("event %d: Okta.UUID = %q, want %q", i, out[i].Okta.UUID, out[i].EventID)
		case !wantOkta && out[i].Okta != nil:
			t.Errorf("event %d (%s): Okta = %+v, want nil for an SSOEvent", i, out[i].EventID, out[i].Okta)
		}
		out[i].Okta = nil
	}
	return out
}

func TestParseFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		want     []events.SSOEvent
		wantOkta bool
	}{
		{
			name:     "hook delivery, eventId",
			in:       delivery("eventId", "dlv-1", leLoginOK, leCreate),
			want:     []events.SSOEvent{wantLoginOK, wantCreate},
			wantOkta: true,
		},
		{
			name:     "hook delivery, early eventID spelling",
			in:       delivery("eventID", "dlv-1", leLoginOK, leCreate),
			want:     []events.SSOEvent{wantLoginOK, wantCreate},
			wantOkta: true,
		},
		{
			name:     "hook delivery on one line",
			in:       compact(delivery("eventId", "dlv-1", leLoginFail)),
			want:     []events.SSOEvent{wantLoginFail},
			wantOkta: true,
		},
		{
			name:     "System Log page",
			in:       "[\n" + leLoginOK + ",\n" + leLoginFail + ",\n" + leCreate + "\n]\n",
			want:     []events.SSOEvent{wantLoginOK, wantLoginFail, wantCreate},
			wantOkta: true,
		},
		{
			name:     "System Log page on one line",
			in:       "[" + leCreate + "," + leLoginFail + "]",
			want:     []events.SSOEvent{wantCreate, wantLoginFail},
			wantOkta: true,
		},
		{
			name:     "NDJSON of LogEvents",
			in:       leLoginOK + "\n" + leLoginFail + "\n" + leCreate + "\n",
			want:     []events.SSOEvent{wantLoginOK, wantLoginFail, wantCreate},
			wantOkta: true,
		},
		{
			name:     "NDJSON of LogEvents with CRLF, blank lines and no final newline",
			in:       leLoginFail + "\r\n\r\n" + leCreate,
			want:     []events.SSOEvent{wantLoginFail, wantCreate},
			wantOkta: true,
		},
		{
			name: "NDJSON of deliveries",
			in: compact(delivery("eventId", "dlv-1", leLoginOK, leLoginFail)) + "\n" +
				compact(delivery("eventId", "dlv-2", leCreate)) + "\n",
			want:     []events.SSOEvent{wantLoginOK, wantLoginFail, wantCreate},
			wantOkta: true,
		},
		{
			name: "SSOEvent object",
			in:   ssoCreated,
			want: []events.SSOEvent{wantSSOCreated},
		},
		{
			name: "SSOEvent array",
			in:   "[" + ssoCreated + ",\n" + ssoFailure + "]",
			want: []events.SSOEvent{wantSSOCreated, wantSSOFailure},
		},
		{
			name: "SSOEvent NDJSON",
			in:   ssoFailure + "\n" + ssoCreated + "\n",
			want: []events.SSOEvent{wantSSOFailure, wantSSOCreated},
		},
		{
			name: "SSOEvent with an Okta type and a metadata outcome",
			in:   `{"event_id":"sso-3","event_type":"user.authentication.auth_via_mfa","timestamp":"2024-03-02T09:02:00Z","user_id":"00u9","metadata":{"outcome":"FAILURE"}}`,
			want: []events.SSOEvent{{
				EventID: "sso-3", EventType: "user.authentication.auth_via_mfa", Timestamp: ts("2024-03-02T09:02:00Z"),
				UserID: "00u9", Metadata: map[string]any{"outcome": "FAILURE"},
				Types: []events.EventType{events.MFAChallenge, events.MFAFailure},
			}},
		},
		{
			name: "SSOEvent PASSWORD_EXPIRING keeps its name",
			in:   `{"event_id":"sso-4","event_type":"PASSWORD_EXPIRING","timestamp":"2024-03-02T09:03:00Z","user_id":"00u9","metadata":{"days_left":7}}`,
			want: []events.SSOEvent{{
				EventID: "sso-4", EventType: "PASSWORD_EXPIRING", Timestamp: ts("2024-03-02T09:03:00Z"),
				UserID: "00u9", Metadata: map[string]any{"days_left": float64(7)},
				Types: []events.EventType{events.PasswordExpiring},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := events.Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(b.Rejected) > 0 {
				t.Fatalf("Rejected = %v, want none", b.Err())
			}
			if b.Err() != nil {
				t.Errorf("Batch.Err() = %v, want nil", b.Err())
			}
			got := stripOkta(t, b.Events, tt.wantOkta)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseConcatenatedMixed reads values of every kind, back to back with no
// separator at all.
func TestParseConcatenatedMixed(t *testing.T) {
	t.Parallel()
	in := leLoginOK + ssoCreated + "[" + leLoginFail + "]" + compact(delivery("eventId", "d", leCreate)) + "[" + ssoFailure + "]"
	b, err := events.Parse([]byte(in))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(b.Rejected) > 0 {
		t.Fatalf("Rejected = %v", b.Err())
	}
	want := []events.SSOEvent{wantLoginOK, wantSSOCreated, wantLoginFail, wantCreate, wantSSOFailure}
	hasOkta := []bool{true, false, true, true, false}
	for i, ev := range b.Events {
		if i < len(hasOkta) && (ev.Okta != nil) != hasOkta[i] {
			t.Errorf("event %d (%s): has Okta = %v, want %v", i, ev.EventID, ev.Okta != nil, hasOkta[i])
		}
		b.Events[i].Okta = nil
	}
	if diff := cmp.Diff(want, b.Events); diff != "" {
		t.Errorf("Parse events (-want +got):\n%s", diff)
	}
}

// TestParseNullFields: every field OKTA.md says may be null or missing.
func TestParseNullFields(t *testing.T) {
	t.Parallel()
	const head = `"uuid":"evt-n","published":"2024-03-01T11:00:00.123Z","version":"0","severity":"INFO"`
	userActor := `"actor":{"id":"00u1","type":"User","alternateId":"ada@example.com","displayName":"Ada","detailEntry":null}`
	systemActor := `"actor":{"id":"0oa-system","type":"SystemPrincipal","alternateId":"system@okta.com","displayName":"Okta System","detailEntry":null}`
	nullClient := `"client":{"userAgent":null,"zone":null,"device":null,"id":null,"ipAddress":null,"geographicalContext":null}`
	published := ts("2024-03-01T11:00:00.123Z")
	tests := []struct {
		name string
		in   string
		want events.SSOEvent
		// check looks at the LogEvent.
		check func(t *testing.T, le *events.LogEvent)
	}{
		{
			name: "only the required fields",
			in:   `{` + head + `,"eventType":"user.session.start","actor":{"id":"00u1","type":"User"}}`,
			want: events.SSOEvent{EventID: "evt-n", EventType: "user.session.start", Timestamp: published, UserID: "00u1",
				Metadata: map[string]any{"outcome": "", "severity": "INFO"}},
		},
		{
			name: "client null",
			in:   `{` + head + `,"eventType":"user.session.start",` + userActor + `,"client":null,"outcome":{"result":"SUCCESS","reason":null}}`,
			want: events.SSOEvent{EventID: "evt-n", EventType: "user.session.start", Timestamp: published, UserID: "00u1", UserEmail: "ada@example.com",
				Metadata: map[string]any{"outcome": "SUCCESS", "severity": "INFO"}, Types: []events.EventType{events.LoginSuccess}},
		},
		{
			name: "SystemPrincipal actor, every client field null",
			in:   `{` + head + `,"eventType":"user.lifecycle.suspend",` + systemActor + `,` + nullClient + `,"outcome":{"result":"SUCCESS","reason":null},"target":[{"id":"00u2","type":"User","alternateId":"bob@example.com","displayName":"Bob","detailEntry":null}],"transaction":{"type":"JOB","id":"job1","detail":null}}`,
			want: events.SSOEvent{EventID: "evt-n", EventType: "user.lifecycle.suspend", Timestamp: published, UserID: "00u2", UserEmail: "bob@example.com",
				Metadata: map[string]any{"outcome": "SUCCESS", "severity": "INFO", "actor_id": "0oa-system"}, Types: []events.EventType{events.UserSuspended}},
			check: func(t *testing.T, le *events.LogEvent) {
				if diff := cmp.Diff(events.Client{}, le.Client); diff != "" {
					t.Errorf("Client (-want +got):\n%s", diff)
				}
				if le.Transaction.Type != "JOB" || le.Transaction.Detail != nil {
					t.Errorf("Transaction = %+v", le.Transaction)
				}
			},
		},
		{
			name: "target null, outcome null",
			in:   `{` + head + `,"eventType":"user.session.end",` + userActor + `,"target":null,"outcome":null}`,
			want: events.SSOEvent{EventID: "evt-n", EventType: "user.session.end", Timestamp: published, UserID: "00u1", UserEmail: "ada@example.com",
				Metadata: map[string]any{"outcome": "", "severity": "INFO"}, Types: []events.EventType{events.Logout}},
			check: func(t *testing.T, le *events.LogEvent) {
				if le.Target != nil || le.TargetOf("User") != nil {
					t.Errorf("Target = %v, want nil", le.Target)
				}
			},
		},
		{
			name: `zone "null", geographicalContext null, empty ipChain`,
			in:   `{` + head + `,"eventType":"user.session.start",` + userActor + `,"client":{"zone":"null","ipAddress":"192.0.2.1","geographicalContext":null,"userAgent":{"rawUserAgent":null,"os":null,"browser":null}},"outcome":{"result":"FAILURE","reason":null},"request":{"ipChain":[]}}`,
			want: events.SSOEvent{EventID: "evt-n", EventType: "user.session.start", Timestamp: published, UserID: "00u1", UserEmail: "ada@example.com",
				Metadata: map[string]any{"outcome": "FAILURE", "severity": "INFO", "ip_address": "192.0.2.1"}, Types: []events.EventType{events.LoginFailure}},
			check: func(t *testing.T, le *events.LogEvent) {
				want := events.Client{IPAddress: "192.0.2.1"} // zone "null" reads as empty
				if diff := cmp.Diff(want, le.Client); diff != "" {
					t.Errorf("Client (-want +got):\n%s", diff)
				}
				if len(le.Request.IPChain) != 0 {
					t.Errorf("IPChain = %v, want empty", le.Request.IPChain)
				}
			},
		},
		{
			name: "ipChain hop with null geographicalContext, null contexts",
			in:   `{` + head + `,"eventType":"user.mfa.factor.activate",` + userActor + `,"outcome":{"result":"SUCCESS","reason":null},"debugContext":null,"authenticationContext":null,"securityContext":{"asNumber":null,"asOrg":null,"isp":null,"domain":null,"isProxy":null},"device":null,"request":{"ipChain":[{"ip":"192.0.2.1","geographicalContext":null,"version":"V4","source":null}]},"legacyEventType":null,"displayMessage":null}`,
			want: events.SSOEvent{EventID: "evt-n", EventType: "user.mfa.factor.activate", Timestamp: published, UserID: "00u1", UserEmail: "ada@example.com",
				Metadata: map[string]any{"outcome": "SUCCESS", "severity": "INFO"}, Types: []events.EventType{events.MFAEnrolled}},
			check: func(t *testing.T, le *events.LogEvent) {
				want := []events.IPAddress{{IP: "192.0.2.1", Version: "V4"}}
				if diff := cmp.Diff(want, le.Request.IPChain); diff != "" {
					t.Errorf("IPChain (-want +got):\n%s", diff)
				}
				if le.DebugContext.DebugData != nil || le.SecurityContext != (events.SecurityContext{}) {
					t.Errorf("DebugContext = %+v, SecurityContext = %+v, want zero", le.DebugContext, le.SecurityContext)
				}
			},
		},
		{
			name: "SystemPrincipal actor and no user target: no subject",
			in:   `{` + head + `,"eventType":"application.lifecycle.update",` + systemActor + `,"client":null,"outcome":{"result":"SUCCESS","reason":null},"target":[{"id":"0oa1","type":"AppInstance","alternateId":"Slack","displayName":"Slack","detailEntry":null}]}`,
			want: events.SSOEvent{EventID: "evt-n", EventType: "application.lifecycle.update", Timestamp: published,
				Metadata: map[string]any{"outcome": "SUCCESS", "severity": "INFO", "actor_id": "0oa-system"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := events.Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(b.Rejected) > 0 || len(b.Events) != 1 {
				t.Fatalf("Parse: %d events, rejected %v; want 1 event", len(b.Events), b.Err())
			}
			le := b.Events[0].Okta
			got := stripOkta(t, b.Events, true)[0]
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
			if tt.check != nil && le != nil {
				tt.check(t, le)
			}
		})
	}
}

// TestLogEventDecode checks every modelled field of a full LogEvent.
func TestLogEventDecode(t *testing.T) {
	t.Parallel()
	var got events.LogEvent
	if err := json.Unmarshal([]byte(leLoginOK), &got); err != nil {
		t.Fatal(err)
	}
	want := events.LogEvent{
		UUID: "evt-login-ok", Published: ts("2024-03-01T10:00:00Z"), EventType: "user.session.start",
		Version: "0", Severity: "INFO", DisplayMessage: "User login to Okta", LegacyEventType: "core.user_auth.login_success",
		Actor: events.Actor{ID: "00u1", Type: "User", AlternateID: "ada@example.com", DisplayName: "Ada Lovelace"},
		Client: events.Client{
			UserAgent: events.UserAgent{RawUserAgent: "Mozilla/5.0", OS: "Mac OS X", Browser: "SAFARI"},
			Device:    "Computer", IPAddress: "198.51.100.7",
			GeographicalContext: events.GeographicalContext{City: "London", State: "England", Country: "United Kingdom", PostalCode: "EC1A",
				Geolocation: events.Geolocation{Lat: 51.5, Lon: -0.12}},
		},
		Outcome:               events.Outcome{Result: "SUCCESS"},
		Transaction:           events.Transaction{Type: "WEB", ID: "tx1", Detail: map[string]any{}},
		DebugContext:          events.DebugContext{DebugData: map[string]any{"requestUri": "/api/v1/authn", "threatSuspected": "false"}},
		AuthenticationContext: events.AuthenticationContext{ExternalSessionID: "sess1"},
		SecurityContext:       events.SecurityContext{ASNumber: 64496, ASOrg: "example org", ISP: "example isp", Domain: "example.com"},
		Request: events.Request{IPChain: []events.IPAddress{{IP: "198.51.100.7", Version: "V4",
			GeographicalContext: events.GeographicalContext{Country: "United Kingdom"}}}},
	}
	// A decoded LogEvent also remembers its bytes (unexported; see
	// TestLogEventRawPreserved).
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(events.LogEvent{})); diff != "" {
		t.Errorf("LogEvent (-want +got):\n%s", diff)
	}
}

// TestSSOEventUnknownSeedName: an upper-case event_type must be one of the
// seed's names; Okta's types are lower case.
func TestSSOEventUnknownSeedName(t *testing.T) {
	b, err := events.Parse([]byte(`{"event_id": "x", "event_type": "NOT_A_TYPE"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rejected) != 1 || !strings.Contains(b.Rejected[0].Error(), `event_type "NOT_A_TYPE" is not one of the seed's types`) {
		t.Errorf("Rejected = %v, want NOT_A_TYPE refused", b.Rejected)
	}
}
