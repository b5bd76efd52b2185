package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/ssoflow/ssoflow/config"
	"github.com/ssoflow/ssoflow/pkg/events"
	"github.com/ssoflow/ssoflow/pkg/flows"
	"github.com/ssoflow/ssoflow/pkg/rules"
)

func TestParseYAML(t *testing.T) {
	t.Parallel()
	const doc = `# a comment
rules:
  - id: on
    description: enabled by default
    event_types: [user.lifecycle.create, LOGIN_FAILURE]
    condition: outcome.result == "SUCCESS"
    flow_id: flow_a
    input:
      user_id: user_id
      email: user_email
  - id: off
    event_types:
      - "user.lifecycle.*"
    flow_id: flow_b
    enabled: false
    version: 3
  - id: explicit
    event_types: ["*"]
    flow_id: flow_c
    enabled: true
`
	got, err := rules.ParseYAML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []rules.TriggerRule{
		{ID: "on", Description: "enabled by default", EventTypes: []string{"user.lifecycle.create", "LOGIN_FAILURE"},
			Condition: `outcome.result == "SUCCESS"`, FlowID: "flow_a", Enabled: true,
			Input: map[string]string{"user_id": "user_id", "email": "user_email"}},
		{ID: "off", EventTypes: []string{"user.lifecycle.*"}, FlowID: "flow_b", Enabled: false, Version: 3},
		{ID: "explicit", EventTypes: []string{"*"}, FlowID: "flow_c", Enabled: true},
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("ParseYAML (-want +got):\n%s", diff)
	}
	// Version defaults to 1 once compiled.
	set, err := rules.NewSet(got, nil)
	if err != nil {
		t.Fatal(err)
	}
	for id, v := range map[string]int{"on": 1, "off": 3, "explicit": 1} {
		if r, _ := set.Get(id); r.Version != v {
			t.Errorf("rule %s: Version = %d, want %d", id, r.Version, v)
		}
	}
}

func TestParseYAMLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string // the error contains each
	}{
		{
			name: "misspelt field",
			in:   "rules:\n  - id: a\n    event_types: [user.session.start]\n    flowid: flow_a\n",
			want: []string{"rules YAML: ", "[4:5]", `unknown field "flowid"`},
		},
		{
			name: "unknown top-level key",
			in:   "rules: []\nflows: []\n",
			want: []string{"[2:1]", `unknown field "flows"`},
		},
		{
			name: "wrong type",
			in:   "rules:\n  - id: a\n    enabled: maybe\n",
			want: []string{"[3:14]"},
		},
		{
			name: "input that is not a map",
			in:   "rules:\n  - id: a\n    input: [user_id]\n",
			want: []string{"[3:12]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := rules.ParseYAML([]byte(tt.in))
			if err == nil {
				t.Fatalf("ParseYAML = %+v, nil; want an error", got)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	typo := filepath.Join(dir, "typo.yaml")
	for path, body := range map[string]string{
		good: "rules:\n  - id: a\n    event_types: [LOGOUT]\n    flow_id: flow_offboarding\n",
		bad:  "rules:\n  - id: a\n    event_types: [LOGOUT]\n    flow_id: flow_nope\n",
		typo: "rules:\n  - idd: a\n",
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	reg := flows.MockRegistry()
	set, err := rules.LoadFile(good, reg.Has)
	if err != nil || set.Len() != 1 {
		t.Fatalf("LoadFile(good) = %v, %v", set, err)
	}
	for path, want := range map[string]string{
		bad:  bad + `: rule "a": flow_id: unknown flow "flow_nope"`,
		typo: typo + `: rules YAML: [2:5] unknown field "idd"`,
	} {
		_, err := rules.LoadFile(path, reg.Has)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("LoadFile(%s) = %v, want an error starting %q", filepath.Base(path), err, want)
		}
	}
	if _, err := rules.LoadFile(filepath.Join(dir, "missing.yaml"), nil); !os.IsNotExist(err) {
		t.Errorf("LoadFile(missing) = %v, want a not-exist error", err)
	}
}

// TestDefaultRules: the repo's config/rules.yaml loads against the mock
// flows and sends each kind of event to its flow.
func TestDefaultRules(t *testing.T) {
	t.Parallel()
	trs, err := rules.ParseYAML(config.Rules)
	if err != nil {
		t.Fatal(err)
	}
	reg := flows.MockRegistry()
	set, err := rules.NewSet(trs, reg.Has)
	if err != nil {
		t.Fatalf("config/rules.yaml: %v", err)
	}
	var ids []string
	for _, r := range set.Rules() {
		ids = append(ids, r.ID)
		if !r.Enabled || r.Version != 1 || !reg.Has(r.FlowID) {
			t.Errorf("rule %s: enabled %v, version %d, flow %s", r.ID, r.Enabled, r.Version, r.FlowID)
		}
	}
	wantIDs := []string{"onboard-new-hire", "offboard-user", "mfa-remediation", "app-access-request", "password-expiry"}
	if diff := gocmp.Diff(wantIDs, ids); diff != "" {
		t.Errorf("rule ids (-want +got):\n%s", diff)
	}
	tests := []struct {
		ev        string
		wantFlow  string
		wantInput map[string]any
	}{
		{leCreate, flows.FlowNewHireOnboarding, map[string]any{"user_id": "00u2", "user_email": "bob@example.com"}},
		{`{"event_id":"s1","event_type":"USER_DEACTIVATED","user_id":"00u3","user_email":"dee@example.com"}`,
			flows.FlowOffboarding, map[string]any{"user_id": "00u3", "user_email": "dee@example.com"}},
		{`{"event_id":"s2","event_type":"MFA_FAILURE","user_id":"00u4"}`, flows.FlowMFARemediation, map[string]any{"user_id": "00u4", "reason": ""}},
		{leAppAdd, flows.FlowAccessRequest, map[string]any{"user_id": "00u2",
			"app": events.Target{ID: "0oa1", Type: "AppInstance", AlternateID: "Slack", DisplayName: "Slack"}}},
		{`{"event_id":"s3","event_type":"user.account.expire_password","user_id":"00u5"}`, flows.FlowPasswordExpiry, map[string]any{"user_id": "00u5"}},
		{leMFAFail, flows.FlowMFARemediation, map[string]any{"user_id": "00u1", "reason": "INVALID_OTP"}},
		{leLoginOK, "", nil},
	}
	for _, tt := range tests {
		ev := parseOne(t, tt.ev)
		ms := set.Match(ev)
		if tt.wantFlow == "" {
			if len(ms) != 0 {
				t.Errorf("%s: matched %v, want nothing", ev.EventID, matchedIDs(ms))
			}
			continue
		}
		if len(ms) != 1 || ms[0].Err != nil {
			t.Errorf("%s: Match = %+v, want one match", ev.EventID, ms)
			continue
		}
		if ms[0].Rule.FlowID != tt.wantFlow {
			t.Errorf("%s: flow %s, want %s", ev.EventID, ms[0].Rule.FlowID, tt.wantFlow)
		}
		if diff := gocmp.Diff(tt.wantInput, ms[0].Input); diff != "" {
			t.Errorf("%s: input (-want +got):\n%s", ev.EventID, diff)
		}
	}
	// An MFA success runs nothing.
	if ms := set.Match(parseOne(t, `{"event_id":"s4","event_type":"MFA_CHALLENGE","metadata":{"outcome":"SUCCESS"}}`)); len(ms) != 0 {
		t.Errorf("MFA success matched %v", matchedIDs(ms))
	}
}
