package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// benchLogEvent is a LogEvent shaped like Okta's, about 1.5 KB of JSON.
func benchLogEvent(i int) map[string]any {
	return map[string]any{
		"uuid": fmt.Sprintf("bench-%08d-0000-4000-8000-000000000000", i), "published": "2026-12-01T10:00:00.000Z",
		"eventType": "user.authentication.auth_via_mfa", "version": "0", "severity": "WARN",
		"legacyEventType": nil, "displayMessage": "Authentication of user via MFA",
		"actor":                 map[string]any{"id": "00ubench0001", "type": "User", "alternateId": "bench@example.test", "displayName": "Bench User", "detailEntry": nil},
		"client":                map[string]any{"userAgent": map[string]any{"rawUserAgent": "Mozilla/5.0 (X11; Linux x86_64)", "os": "Linux", "browser": "CHROME"}, "zone": "null", "device": "Computer", "id": nil, "ipAddress": "203.0.113.9", "geographicalContext": map[string]any{"city": "Oslo", "state": nil, "country": "Norway", "postalCode": nil, "geolocation": map[string]any{"lat": 59.9, "lon": 10.7}}},
		"outcome":               map[string]any{"result": "FAILURE", "reason": "INVALID_CREDENTIALS"},
		"target":                []any{map[string]any{"id": "pfdbench", "type": "AuthenticatorEnrollment", "alternateId": "unknown", "displayName": "Okta Verify", "detailEntry": nil}, map[string]any{"id": "00ubench0001", "type": "User", "alternateId": "bench@example.test", "displayName": "Bench User", "detailEntry": nil}},
		"transaction":           map[string]any{"type": "WEB", "id": "XbenchTx", "detail": map[string]any{}},
		"debugContext":          map[string]any{"debugData": map[string]any{"requestId": "XbenchReq", "threatSuspected": "false"}},
		"authenticationContext": map[string]any{"authenticationProvider": nil, "credentialProvider": nil, "credentialType": nil, "issuer": nil, "interface": nil, "authenticationStep": 0, "externalSessionId": "102bench"},
		"securityContext":       map[string]any{"asNumber": nil, "asOrg": nil, "isp": nil, "domain": nil, "isProxy": nil},
		"request":               map[string]any{"ipChain": []any{map[string]any{"ip": "203.0.113.9", "geographicalContext": nil, "version": "V4", "source": nil}}},
	}
}

func benchDelivery(n int) []byte {
	evs := make([]any, n)
	for i := range evs {
		evs[i] = benchLogEvent(i)
	}
	b, _ := json.Marshal(map[string]any{"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
		"source": "https://bench.okta.test/api/v1/eventHooks/who", "eventId": "bench", "eventTime": "2026-12-01T10:00:01.000Z",
		"contentType": "application/json", "data": map[string]any{"events": evs}})
	return b
}

// BenchmarkParseHookDelivery parses a 20-event Okta delivery.
func BenchmarkParseHookDelivery(b *testing.B) {
	body := benchDelivery(20)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := ParseHookDelivery(body)
		if err != nil || len(d.Events) != 20 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(20*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkParseNDJSON parses 1000 LogEvents as NDJSON, as a replay does.
func BenchmarkParseNDJSON(b *testing.B) {
	var buf bytes.Buffer
	for i := range 1000 {
		line, _ := json.Marshal(benchLogEvent(i))
		buf.Write(line)
		buf.WriteByte('\n')
	}
	body := buf.Bytes()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		batch, err := Parse(body)
		if err != nil || len(batch.Events) != 1000 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "events/s")
}
