package events

import (
	"bytes"
	"encoding/json"
	"time"
)

// LogEvent is an Okta System Log event, as the System Log API and event hooks
// deliver it. Only uuid, published and eventType are required; every other
// field may be null or missing and then reads as its zero value. Field names
// in rule expressions are Okta's own (actor.alternateId, client.ipAddress).
//
// A LogEvent decoded from JSON remembers the exact bytes it came from and
// encodes back to them, so nothing Okta sent is lost on the way to history or
// to a flow, including fields this type does not model. Treat a decoded
// LogEvent as read-only: edits to its fields do not change its JSON.
type LogEvent struct {
	UUID                  string                `json:"uuid" expr:"uuid"`
	Published             time.Time             `json:"published" expr:"published"`
	EventType             string                `json:"eventType" expr:"eventType"`
	Version               string                `json:"version" expr:"version"`
	Severity              string                `json:"severity" expr:"severity"`
	DisplayMessage        string                `json:"displayMessage" expr:"displayMessage"`
	LegacyEventType       string                `json:"legacyEventType" expr:"legacyEventType"`
	Actor                 Actor                 `json:"actor" expr:"actor"`
	Client                Client                `json:"client" expr:"client"`
	Outcome               Outcome               `json:"outcome" expr:"outcome"`
	Target                []Target              `json:"target" expr:"target"`
	Transaction           Transaction           `json:"transaction" expr:"transaction"`
	DebugContext          DebugContext          `json:"debugContext" expr:"debugContext"`
	AuthenticationContext AuthenticationContext `json:"authenticationContext" expr:"authenticationContext"`
	SecurityContext       SecurityContext       `json:"securityContext" expr:"securityContext"`
	Request               Request               `json:"request" expr:"request"`

	raw json.RawMessage
}

// Actor is who did what the event records: a User, or the SystemPrincipal
// for Okta's own actions.
type Actor struct {
	ID          string         `json:"id" expr:"id"`
	Type        string         `json:"type" expr:"type"`
	AlternateID string         `json:"alternateId" expr:"alternateId"`
	DisplayName string         `json:"displayName" expr:"displayName"`
	DetailEntry map[string]any `json:"detailEntry" expr:"detailEntry"`
}

// Target is one entity an event acted on. Look targets up by Type (User,
// AppInstance, UserGroup, ...): their order is not stable.
type Target struct {
	ID            string         `json:"id" expr:"id"`
	Type          string         `json:"type" expr:"type"`
	AlternateID   string         `json:"alternateId" expr:"alternateId"`
	DisplayName   string         `json:"displayName" expr:"displayName"`
	DetailEntry   map[string]any `json:"detailEntry" expr:"detailEntry"`
	ChangeDetails map[string]any `json:"changeDetails,omitempty" expr:"changeDetails"`
}

// Client is where the request came from. For system actors every field is
// null. Okta sends the zone as the string "null" when there is none.
type Client struct {
	UserAgent           UserAgent           `json:"userAgent" expr:"userAgent"`
	Zone                string              `json:"zone" expr:"zone"`
	Device              string              `json:"device" expr:"device"`
	ID                  string              `json:"id" expr:"id"`
	IPAddress           string              `json:"ipAddress" expr:"ipAddress"`
	GeographicalContext GeographicalContext `json:"geographicalContext" expr:"geographicalContext"`
}

// UserAgent is the client's browser and operating system.
type UserAgent struct {
	RawUserAgent string `json:"rawUserAgent" expr:"rawUserAgent"`
	OS           string `json:"os" expr:"os"`
	Browser      string `json:"browser" expr:"browser"`
}

// GeographicalContext is where an IP address is.
type GeographicalContext struct {
	City        string      `json:"city" expr:"city"`
	State       string      `json:"state" expr:"state"`
	Country     string      `json:"country" expr:"country"`
	PostalCode  string      `json:"postalCode" expr:"postalCode"`
	Geolocation Geolocation `json:"geolocation" expr:"geolocation"`
}

// Geolocation is a latitude and longitude.
type Geolocation struct {
	Lat float64 `json:"lat" expr:"lat"`
	Lon float64 `json:"lon" expr:"lon"`
}

// Outcome is how the action ended. Result is one of SUCCESS, FAILURE,
// SKIPPED, ALLOW, DENY, CHALLENGE, UNKNOWN, RATE_LIMIT, DEFERRED, SCHEDULED,
// ABANDONED or UNANSWERED.
type Outcome struct {
	Result string `json:"result" expr:"result"`
	Reason string `json:"reason" expr:"reason"`
}

// Transaction ties the events of one request (WEB) or job (JOB) together.
type Transaction struct {
	Type   string         `json:"type" expr:"type"`
	ID     string         `json:"id" expr:"id"`
	Detail map[string]any `json:"detail" expr:"detail"`
}

// DebugContext holds free-form debug data; its keys are not a stable contract.
type DebugContext struct {
	DebugData map[string]any `json:"debugData" expr:"debugData"`
}

// AuthenticationContext describes how the actor authenticated.
type AuthenticationContext struct {
	AuthenticationProvider string `json:"authenticationProvider" expr:"authenticationProvider"`
	CredentialProvider     string `json:"credentialProvider" expr:"credentialProvider"`
	CredentialType         string `json:"credentialType" expr:"credentialType"`
	Issuer                 any    `json:"issuer" expr:"issuer"`
	Interface              string `json:"interface" expr:"interface"`
	AuthenticationStep     int    `json:"authenticationStep" expr:"authenticationStep"`
	ExternalSessionID      string `json:"externalSessionId" expr:"externalSessionId"`
}

// SecurityContext is what Okta knows of the network the request came from.
type SecurityContext struct {
	ASNumber int    `json:"asNumber" expr:"asNumber"`
	ASOrg    string `json:"asOrg" expr:"asOrg"`
	ISP      string `json:"isp" expr:"isp"`
	Domain   string `json:"domain" expr:"domain"`
	IsProxy  bool   `json:"isProxy" expr:"isProxy"`
}

// Request is the chain of IP addresses the request passed through.
type Request struct {
	IPChain []IPAddress `json:"ipChain" expr:"ipChain"`
}

// IPAddress is one hop of Request.IPChain.
type IPAddress struct {
	IP                  string              `json:"ip" expr:"ip"`
	GeographicalContext GeographicalContext `json:"geographicalContext" expr:"geographicalContext"`
	Version             string              `json:"version" expr:"version"`
	Source              string              `json:"source" expr:"source"`
}

// logEventFields has LogEvent's fields without its methods, for decoding.
type logEventFields LogEvent

// UnmarshalJSON decodes a LogEvent and keeps a copy of its bytes.
func (e *LogEvent) UnmarshalJSON(data []byte) error {
	var f logEventFields
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	if f.Client.Zone == "null" {
		f.Client.Zone = ""
	}
	*e = LogEvent(f)
	e.raw = bytes.Clone(bytes.TrimSpace(data))
	return nil
}

// MarshalJSON encodes the bytes the event was decoded from, or its fields
// when it was built in Go.
func (e LogEvent) MarshalJSON() ([]byte, error) {
	if len(e.raw) > 0 && !bytes.Equal(e.raw, []byte("null")) {
		return e.raw, nil
	}
	return json.Marshal(logEventFields(e))
}

// TargetOf returns the first target of the given type (User, AppInstance,
// UserGroup, ...), or nil when the event has none.
func (e *LogEvent) TargetOf(typ string) *Target {
	for i := range e.Target {
		if e.Target[i].Type == typ {
			return &e.Target[i]
		}
	}
	return nil
}
