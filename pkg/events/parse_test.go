package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ssoflow/ssoflow/pkg/events"
)

// rejection is an *EventError in a form cmp can compare.
type rejection struct {
	Index, Line int
	EventID     string
	Msg         string
}

func rejections(errs []*events.EventError) []rejection {
	var out []rejection
	for _, e := range errs {
		out = append(out, rejection{e.Index, e.Line, e.EventID, e.Err.Error()})
	}
	return out
}

// syntaxCase is a malformed input and where its first error is, counted by
// hand: Line and Column are 1-based, Offset is the offending byte's 0-based
// offset (the input's length when it ends too early).
type syntaxCase struct {
	name   string
	in     string
	want   events.SyntaxError
	hasMsg string
}

// Written out by hand below; prefix lengths are added where a case starts
// with a test LogEvent.
var syntaxCases = []syntaxCase{
	{
		name:   "missing colon in the second NDJSON line",
		in:     leLoginFail + "\n" + `{"uuid": "x", "eventType" "user.session.start"}`,
		want:   events.SyntaxError{Line: 2, Column: 27, Offset: int64(len(leLoginFail) + 1 + 26)},
		hasMsg: `invalid character '"' after object key`,
	},
	{
		name: "truncated inside a string on line 3",
		in: "[\n" +
			`  {"uuid": "a", "published": "2024-03-01T10:00:00Z",` + "\n" +
			`   "eventType": "user.sess`,
		want:   events.SyntaxError{Line: 3, Column: 27, Offset: int64(2 + 52 + 1 + 26)},
		hasMsg: "unexpected end of input",
	},
	{
		name:   "missing comma between array elements",
		in:     `[{"a":1} {"b":2}]`,
		want:   events.SyntaxError{Line: 1, Column: 10, Offset: 9},
		hasMsg: "invalid character '{' after array element",
	},
	{
		name:   "stray bracket after NDJSON",
		in:     leCreate + "\n" + leLoginFail + "\n]\n",
		want:   events.SyntaxError{Line: 3, Column: 1, Offset: int64(len(leCreate) + 1 + len(leLoginFail) + 1)},
		hasMsg: "invalid character ']' looking for beginning of value",
	},
	{
		name:   "misspelt literal at the end of a line",
		in:     "{\n  \"uuid\": nul\n}",
		want:   events.SyntaxError{Line: 2, Column: 14, Offset: 15},
		hasMsg: "in literal null",
	},
	{
		name:   "unterminated string at the end",
		in:     `{"uuid": "abc`,
		want:   events.SyntaxError{Line: 1, Column: 14, Offset: 13},
		hasMsg: "unexpected end of input",
	},
	{
		name:   "after blank lines",
		in:     "\n\n   }",
		want:   events.SyntaxError{Line: 3, Column: 4, Offset: 5},
		hasMsg: "invalid character '}' looking for beginning of value",
	},
	{
		name:   "CRLF line ends",
		in:     "{\"a\":1}\r\n{\"b\" 2}\r\n",
		want:   events.SyntaxError{Line: 2, Column: 6, Offset: 14},
		hasMsg: "invalid character '2' after object key",
	},
	{
		name: "trailing comma in the second delivery",
		in: compact(delivery("eventId", "dlv-1", leCreate)) + "\n" +
			`{"eventType":"com.okta.event_hook","data":{"events":[{"uuid":"a",}]}}`,
		want:   events.SyntaxError{Line: 2, Column: 66, Offset: int64(len(compact(delivery("eventId", "dlv-1", leCreate))) + 1 + 65)},
		hasMsg: "invalid character '}' looking for beginning of object key string",
	},
	{
		name:   "line break inside a string in a page",
		in:     "[\n" + leCreate + ",\n" + leLoginFail[:40] + "\n]",
		want:   events.SyntaxError{Line: 3, Column: 41, Offset: int64(2 + len(leCreate) + 2 + 40)},
		hasMsg: "in string literal",
	},
}

func TestParseSyntaxError(t *testing.T) {
	t.Parallel()
	for _, tt := range syntaxCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := events.Parse([]byte(tt.in))
			if b != nil {
				t.Errorf("Parse returned a batch of %d events with a syntax error", len(b.Events))
			}
			checkSyntaxError(t, err, tt)
		})
	}
}

func checkSyntaxError(t *testing.T, err error, tt syntaxCase) {
	t.Helper()
	var se *events.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v (%T), want a *SyntaxError", err, err)
	}
	got := events.SyntaxError{Line: se.Line, Column: se.Column, Offset: se.Offset}
	if diff := cmp.Diff(tt.want, got); diff != "" {
		t.Errorf("position (-want +got):\n%s", diff)
	}
	if !strings.Contains(se.Msg, tt.hasMsg) {
		t.Errorf("Msg = %q, want it to contain %q", se.Msg, tt.hasMsg)
	}
	wantErr := fmt.Sprintf("invalid JSON at line %d, column %d: %s", tt.want.Line, tt.want.Column, se.Msg)
	if se.Error() != wantErr {
		t.Errorf("Error() = %q, want %q", se.Error(), wantErr)
	}
}

func TestParseNoEvents(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", " ", "\n\n", "\t\r\n  "} {
		b, err := events.Parse([]byte(in))
		if !errors.Is(err, events.ErrNoEvents) || b != nil {
			t.Errorf("Parse(%q) = %v, %v; want nil, ErrNoEvents", in, b, err)
		}
	}
}

// Unusable events, one a line; each listed with its 1-based index, its line
// and its id where it has one.
var (
	leBadActor  = `{"uuid":"evt-bad-actor","published":"2024-03-01T10:00:00Z","eventType":"user.session.start","actor":{"id":42,"type":"User"}}`
	leBadTime   = `{"uuid":"evt-bad-time","published":"01/03/2024 10:00","eventType":"user.session.start"}`
	leBadTarget = `{"uuid":"evt-bad-target","published":"2024-03-01T10:00:00Z","eventType":"user.lifecycle.create","target":{"id":"00u2"}}`
	ssoBadTime  = `{"event_id":"sso-bad-time","event_type":"LOGIN_FAILURE","timestamp":"yesterday"}`
	ssoBadUser  = `{"event_id":"sso-bad-user","event_type":"USER_CREATED","user_id":7}`
	longID      = strings.Repeat("x", events.MaxIDLength+1)
)

func TestParseRejectsEvents(t *testing.T) {
	t.Parallel()
	lines := []string{
		leLoginOK,         // 1
		leNoUUID,          // 2
		leNoPublished,     // 3
		leBadActor,        // 4
		leBadTime,         // 5
		leBadTarget,       // 6
		`"just a string"`, // 7
		ssoBadTime,        // 8
		`{"event_id":"","event_type":"USER_CREATED"}`, // 9
		ssoBadUser, // 10
		ssoCreated, // 11
		`{"event_id":"sso-long","event_type":"` + longID + `"}`,                                       // 12
		`{"uuid":"` + longID + `","published":"2024-03-01T10:00:00Z","eventType":"user.session.end"}`, // 13
		`42`,      // 14
		`null`,    // 15
		`[1, {}]`, // 16: two events
		`{"uuid":"evt-late","published":"2024-03-01T10:00:00Z","eventType":"user.session.end","published":"not a time"}`, // 17
	}
	b, err := events.Parse([]byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var ids []string
	for _, ev := range b.Events {
		ids = append(ids, ev.EventID)
	}
	if diff := cmp.Diff([]string{"evt-login-ok", "sso-1"}, ids); diff != "" {
		t.Errorf("kept events (-want +got):\n%s", diff)
	}
	want := []rejection{
		{2, 2, "", "uuid is required"},
		{3, 3, "evt-no-published", "published is required"},
		{4, 4, "", "actor.id: want a string, got JSON number"},
		{5, 5, "", `time "01/03/2024 10:00" is not RFC 3339`},
		{6, 6, "", "target: want an array, got JSON object"},
		{7, 7, "", "want a JSON object or array, got a string"},
		{8, 8, "", `time "yesterday" is not RFC 3339`},
		{9, 9, "", "event_id is required"},
		{10, 10, "", "user_id: want a string, got JSON number"},
		{12, 12, "sso-long", "event_type is longer than 256 bytes"},
		{13, 13, longID, "uuid is longer than 256 bytes"},
		{14, 14, "", "want a JSON object or array, got a number"},
		{15, 15, "", "want a JSON object or array, got null"},
		{16, 16, "", "want a JSON object, got a number"},
		{17, 16, "", "uuid is required\neventType is required\npublished is required"},
		{18, 17, "", `time "not a time" is not RFC 3339`},
	}
	// The ids of events that failed to decode are checked in
	// TestParseRejectedDecodeErrorKeepsID.
	got := rejections(b.Rejected)
	for i := range got {
		if i < len(want) && want[i].EventID == "" {
			got[i].EventID = ""
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rejected (-want +got):\n%s", diff)
	}

	// Err joins the rejections, each unwrapping to its *EventError.
	err = b.Err()
	if err == nil {
		t.Fatal("Batch.Err() = nil")
	}
	if !strings.Contains(err.Error(), `event 3 (line 3, id "evt-no-published"): published is required`) ||
		!strings.Contains(err.Error(), "event 2 (line 2): uuid is required") {
		t.Errorf("Batch.Err() = %q, want each rejection described", err)
	}
	var ee *events.EventError
	if !errors.As(err, &ee) || ee.Index != 2 {
		t.Errorf("errors.As(Batch.Err(), *EventError) = %+v, want the first rejection", ee)
	}
}

// TestParseRejectedLines: events in arrays and deliveries are listed by the
// line they start on and by their position in the whole input.
func TestParseRejectedLines(t *testing.T) {
	t.Parallel()
	in := "[\n" + // 1
		"  " + leLoginOK + ",\n" + // 2: event 1
		"  " + leNoUUID + ",\n" + // 3: event 2
		"\n" + // 4
		"  " + leNoPublished + "\n" + // 5: event 3
		"]\n" + // 6
		delivery("eventId", "d", leCreate, leNoUUID) + "\n" + // 7..21: events 4 (line 17), 5 (line 18)
		leNoUUID + "\n" // 22: event 6
	b, err := events.Parse([]byte(in))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []rejection{
		{2, 3, "", "uuid is required"},
		{3, 5, "evt-no-published", "published is required"},
		{5, 18, "", "uuid is required"},
		{6, 22, "", "uuid is required"},
	}
	if diff := cmp.Diff(want, rejections(b.Rejected)); diff != "" {
		t.Errorf("rejected (-want +got):\n%s", diff)
	}
	if len(b.Events) != 2 {
		t.Errorf("kept %d events, want 2", len(b.Events))
	}
}

// TestParseRejectedDecodeErrorKeepsID: EventError.EventID is "the event's
// id, when it has one". An event whose uuid is there but another field has
// the wrong type still has one.
func TestParseRejectedDecodeErrorKeepsID(t *testing.T) {
	for _, tt := range []struct{ in, wantID string }{
		{leBadActor, "evt-bad-actor"},
		{leBadTime, "evt-bad-time"},
		{ssoBadTime, "sso-bad-time"},
		{ssoBadUser, "sso-bad-user"},
	} {
		b, err := events.Parse([]byte(tt.in))
		if err != nil || len(b.Rejected) != 1 {
			t.Fatalf("Parse(%s) = %v, %v", tt.in, b, err)
		}
		if got := b.Rejected[0].EventID; got != tt.wantID {
			t.Errorf("Parse(%s): EventError.EventID = %q, want %q", tt.in, got, tt.wantID)
		}
	}
}

func TestEventErrorFormat(t *testing.T) {
	t.Parallel()
	inner := errors.New("published is required")
	e := &events.EventError{Index: 3, Line: 7, EventID: "evt-1", Err: inner}
	if got, want := e.Error(), `event 3 (line 7, id "evt-1"): published is required`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, inner) {
		t.Error("EventError does not unwrap to its Err")
	}
	e.EventID = ""
	if got, want := e.Error(), `event 3 (line 7): published is required`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if err := (&events.Batch{}).Err(); err != nil {
		t.Errorf("empty Batch.Err() = %v", err)
	}
}

func TestParseHookDelivery(t *testing.T) {
	t.Parallel()
	const badType = `{"uuid":"evt-bad-type","published":"2024-03-01T10:00:00Z","eventType":"user.session.start","outcome":{"result":false}}`
	wantEnvelope := events.HookDelivery{
		EventType:          "com.okta.event_hook",
		EventTypeVersion:   "1.0",
		CloudEventsVersion: "0.1",
		Source:             "https://example.okta.com/api/v1/eventHooks/who1",
		EventID:            "dlv-1",
		EventTime:          "2024-03-01T10:02:01.000Z",
		ContentType:        "application/json",
	}
	tests := []struct {
		name         string
		in           string
		wantEvents   []events.SSOEvent
		wantRejected []rejection
	}{
		{
			name:       "eventId",
			in:         delivery("eventId", "dlv-1", leLoginOK, leCreate),
			wantEvents: []events.SSOEvent{wantLoginOK, wantCreate},
		},
		{
			name:       "early eventID spelling",
			in:         delivery("eventID", "dlv-1", leLoginFail),
			wantEvents: []events.SSOEvent{wantLoginFail},
		},
		{
			name:       "good events kept, bad ones listed by line",
			in:         delivery("eventId", "dlv-1", leLoginOK, leNoUUID, leNoPublished, leCreate, `"not an object"`, badType),
			wantEvents: []events.SSOEvent{wantLoginOK, wantCreate},
			wantRejected: []rejection{
				{2, 12, "", "uuid is required"},
				{3, 13, "evt-no-published", "published is required"},
				{5, 15, "", "want a LogEvent object, got a string"},
				{6, 16, "evt-bad-type", "outcome.result: want a string, got JSON bool"},
			},
		},
		{
			name:         "on one line",
			in:           compact(delivery("eventId", "dlv-1", leNoUUID, leLoginOK, leNoUUID)),
			wantEvents:   []events.SSOEvent{wantLoginOK},
			wantRejected: []rejection{{1, 1, "", "uuid is required"}, {3, 1, "", "uuid is required"}},
		},
		{
			name:         "SSOEvents are not LogEvents",
			in:           delivery("eventId", "dlv-1", ssoCreated),
			wantRejected: []rejection{{1, 11, "", "uuid is required\neventType is required\npublished is required"}},
		},
		{
			name: "no events",
			in:   delivery("eventId", "dlv-1"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hd, err := events.ParseHookDelivery([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseHookDelivery: %v", err)
			}
			env := *hd
			env.Batch = events.Batch{}
			if diff := cmp.Diff(wantEnvelope, env); diff != "" {
				t.Errorf("envelope (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantEvents, stripOkta(t, hd.Events, true), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRejected, rejections(hd.Rejected)); diff != "" {
				t.Errorf("rejected (-want +got):\n%s", diff)
			}
			if (hd.Err() != nil) != (len(tt.wantRejected) > 0) {
				t.Errorf("Err() = %v", hd.Err())
			}
		})
	}
}

func TestParseHookDeliveryErrors(t *testing.T) {
	t.Parallel()
	notDelivery := "not an Okta event hook delivery: data.events is missing"
	tests := []struct {
		name    string
		in      string
		wantErr string // exact message, for errors that are not syntax errors
		syntax  *syntaxCase
	}{
		{name: "empty", in: "", wantErr: events.ErrNoEvents.Error()},
		{name: "blank", in: " \n\t", wantErr: events.ErrNoEvents.Error()},
		{name: "no data", in: `{"eventType":"com.okta.event_hook","eventId":"d"}`, wantErr: notDelivery},
		{name: "no events", in: `{"eventType":"com.okta.event_hook","data":{}}`, wantErr: notDelivery},
		{name: "null events", in: `{"data":{"events":null}}`, wantErr: notDelivery},
		{name: "a bare LogEvent", in: leCreate, wantErr: notDelivery},
		{name: "malformed event", in: `{"data": {"events": [` + "\n" + `{"uuid": }]}}`, syntax: &syntaxCase{
			want: events.SyntaxError{Line: 2, Column: 10, Offset: 31}, hasMsg: "invalid character '}' looking for beginning of value"}},
		{name: "truncated", in: `{"data": {"events": [` + "\n" + `{"uuid": "a"`, syntax: &syntaxCase{
			want: events.SyntaxError{Line: 2, Column: 13, Offset: 34}, hasMsg: "unexpected end of input"}},
		{name: "garbage after the delivery", in: `{"data":{"events":[]}}` + "\n  x", syntax: &syntaxCase{
			want: events.SyntaxError{Line: 2, Column: 3, Offset: 25}, hasMsg: "unexpected data after the delivery object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hd, err := events.ParseHookDelivery([]byte(tt.in))
			if hd != nil {
				t.Errorf("ParseHookDelivery returned %+v with an error", hd)
			}
			if tt.syntax != nil {
				checkSyntaxError(t, err, *tt.syntax)
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			var se *events.SyntaxError
			if errors.As(err, &se) {
				t.Errorf("error is a *SyntaxError for valid JSON: %v", err)
			}
			if tt.wantErr == events.ErrNoEvents.Error() && !errors.Is(err, events.ErrNoEvents) {
				t.Errorf("error %v is not ErrNoEvents", err)
			}
		})
	}
}

// TestParseHookDeliveryTrailingValue: a second JSON value after the delivery
// is refused, and the error points at where that value starts.
func TestParseHookDeliveryTrailingValue(t *testing.T) {
	t.Parallel()
	const d = `{"data":{"events":[]}}` // 22 bytes
	for _, tt := range []struct {
		name string
		in   string
		want events.SyntaxError
	}{
		{"a second delivery", d + "\n" + d, events.SyntaxError{Line: 2, Column: 1, Offset: 23}},
		{"a number", d + " 42", events.SyntaxError{Line: 1, Column: 24, Offset: 23}},
		{"a string", d + ` "abc"`, events.SyntaxError{Line: 1, Column: 24, Offset: 23}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := events.ParseHookDelivery([]byte(tt.in))
			var se *events.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want a *SyntaxError", err)
			}
			if se.Line != tt.want.Line {
				t.Errorf("Line = %d, want %d", se.Line, tt.want.Line)
			}
			if se.Column != tt.want.Column || se.Offset != tt.want.Offset {
				t.Errorf("column %d offset %d, want column %d offset %d",
					se.Column, se.Offset, tt.want.Column, tt.want.Offset)
			}
		})
	}
}

// TestParseHookDeliveryWrongShape: valid JSON that is not an object is not a
// syntax error.
func TestParseHookDeliveryWrongShape(t *testing.T) {
	for _, in := range []string{`[]`, `"x"`, `42`, `{"data": 5}`} {
		_, err := events.ParseHookDelivery([]byte(in))
		var se *events.SyntaxError
		if err == nil || errors.As(err, &se) || strings.Contains(err.Error(), "events.envelope") {
			t.Errorf("ParseHookDelivery(%s) = %v (%T), want an error that is no *SyntaxError and names no Go type", in, err, err)
		}
	}
}

// outcome is everything a parse produced, in a form cmp can compare.
type outcome struct {
	Events   []events.SSOEvent
	Raw      []string
	Rejected []rejection
	Err      string
	Syntax   *events.SyntaxError
}

func outcomeOf(evs []events.SSOEvent, rej []*events.EventError, err error) outcome {
	o := outcome{Events: evs, Rejected: rejections(rej)}
	for _, ev := range evs {
		raw := ""
		if ev.Okta != nil {
			b, _ := ev.Okta.MarshalJSON()
			raw = string(b)
		}
		o.Raw = append(o.Raw, raw)
	}
	if err != nil {
		o.Err = err.Error()
		var se *events.SyntaxError
		if errors.As(err, &se) {
			o.Syntax = se
		}
	}
	return o
}

// decodeAll reads r with a Decoder as Parse reads its input.
func decodeAll(r io.Reader) outcome {
	d := events.NewDecoder(r)
	var evs []events.SSOEvent
	var rej []*events.EventError
	for {
		ev, err := d.Next()
		var ee *events.EventError
		switch {
		case err == nil:
			evs = append(evs, ev)
			continue
		case errors.As(err, &ee):
			rej = append(rej, ee)
			continue
		case errors.Is(err, io.EOF):
			if d.Count() == 0 {
				return outcomeOf(nil, nil, events.ErrNoEvents)
			}
			if got := len(evs) + len(rej); d.Count() != got {
				return outcome{Err: fmt.Sprintf("Count() = %d after %d events", d.Count(), got)}
			}
			return outcomeOf(evs, rej, nil)
		}
		return outcomeOf(nil, nil, err)
	}
}

func parseOutcome(data []byte) outcome {
	b, err := events.Parse(data)
	if err != nil {
		return outcomeOf(nil, nil, err)
	}
	return outcomeOf(b.Events, b.Rejected, nil)
}

// streamInputs are inputs of every kind, good and bad.
func streamInputs() []string {
	ins := []string{
		delivery("eventId", "dlv-1", leLoginOK, leNoUUID, leCreate),
		"[\n" + leLoginOK + ",\n" + leNoPublished + ",\n" + leCreate + "\n]\n",
		leLoginOK + "\n" + leLoginFail + "\n" + leBadActor + "\n" + leCreate + "\n",
		leLoginOK + ssoCreated + "[" + leLoginFail + "]" + compact(delivery("eventId", "d", leCreate)),
		ssoFailure + "\n\n" + ssoBadTime + "\r\n" + ssoCreated,
		"", "\n", "42\n\"x\"\nnull\n[]\n{}",
	}
	for _, c := range syntaxCases {
		ins = append(ins, c.in)
	}
	return ins
}

// TestDecoderMatchesParse: a Decoder reading one byte at a time, or half a
// buffer at a time, gives what Parse gives, line numbers included.
func TestDecoderMatchesParse(t *testing.T) {
	t.Parallel()
	readers := map[string]func(io.Reader) io.Reader{
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+EOF": iotest.DataErrReader,
	}
	for i, in := range streamInputs() {
		want := parseOutcome([]byte(in))
		for name, wrap := range readers {
			got := decodeAll(wrap(strings.NewReader(in)))
			if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(events.LogEvent{})); diff != "" {
				t.Errorf("input %d, %s reader: Decoder differs from Parse (-Parse +Decoder):\n%s", i, name, diff)
			}
		}
	}
}

// TestDecoderLongStream: line numbers stay right far beyond the decoder's
// buffers.
func TestDecoderLongStream(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := 1; i < 300; i++ {
		switch i {
		case 150:
			b.WriteString(leNoUUID)
		case 151:
			b.WriteString("[\n" + leNoPublished + "\n]") // lines 151-153
			i += 2
		default:
			fmt.Fprintf(&b, `{"event_id":"e%d","event_type":"USER_CREATED"}`, i)
		}
		b.WriteString("\n")
	}
	b.WriteString(`{"event_id": "e300", "event_type" 1}` + "\n") // line 300, column 35
	in := b.String()
	for name, r := range map[string]io.Reader{
		"bytes":    strings.NewReader(in),
		"one byte": iotest.OneByteReader(strings.NewReader(in)),
	} {
		got := decodeAll(r)
		if got.Syntax == nil {
			t.Fatalf("%s: error = %q, want a syntax error", name, got.Err)
		}
		if got.Syntax.Line != 300 || got.Syntax.Column != 35 || got.Syntax.Offset != int64(len(in)-3) {
			t.Errorf("%s: syntax error at line %d, column %d, offset %d; want line 300, column 35, offset %d",
				name, got.Syntax.Line, got.Syntax.Column, got.Syntax.Offset, len(in)-3)
		}
	}
	// Without the bad last line, every event is read.
	in = in[:strings.LastIndex(in[:len(in)-1], "\n")+1]
	got := decodeAll(iotest.OneByteReader(strings.NewReader(in)))
	if got.Err != "" {
		t.Fatalf("error = %s", got.Err)
	}
	want := []rejection{
		{150, 150, "", "uuid is required"},
		{151, 152, "evt-no-published", "published is required"},
	}
	if diff := cmp.Diff(want, got.Rejected); diff != "" {
		t.Errorf("rejected (-want +got):\n%s", diff)
	}
	if len(got.Events) != 295 || got.Events[294].EventID != "e299" {
		t.Errorf("read %d events, want 295 ending with e299", len(got.Events))
	}
}

// TestDecoderReadError: an I/O error is not invalid JSON, and the caller
// must be able to tell it apart.
func TestDecoderReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk on fire")
	d := events.NewDecoder(io.MultiReader(strings.NewReader(ssoCreated+"\n"+`{"event_id":`), iotest.ErrReader(boom)))
	if ev, err := d.Next(); err != nil || ev.EventID != "sso-1" {
		t.Fatalf("Next() = %v, %v; want sso-1", ev.EventID, err)
	}
	_, err := d.Next()
	if err == nil {
		t.Fatal("Next() after the read error = nil")
	}
	var se *events.SyntaxError
	if !errors.Is(err, boom) || errors.As(err, &se) {
		t.Errorf("Next() after the read error = %T %q, want an error wrapping the reader's, not a *SyntaxError", err, err)
	}
}

// TestLogEventRawPreserved: a decoded LogEvent encodes back to the bytes it
// came from, fields this package does not model included.
func TestLogEventRawPreserved(t *testing.T) {
	t.Parallel()
	raw := `{ "uuid" : "evt-raw",
  "eventType":"user.session.start", "published":"2024-03-01T10:00:00.000+01:00",
  "unmodelled": {"nested": [1, 2.50, "\u00e9", 1e3]},
  "client": {"zone": "null", "ipAddress": "192.0.2.1"},
  "outcome": {"result": "SUCCESS", "reason": null} }`
	var le events.LogEvent
	if err := json.Unmarshal([]byte("\n  "+raw+"\n"), &le); err != nil {
		t.Fatal(err)
	}
	if le.Client.Zone != "" || le.Client.IPAddress != "192.0.2.1" {
		t.Errorf("Client = %+v", le.Client)
	}
	got, err := le.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != raw {
		t.Errorf("MarshalJSON() = %s\nwant the exact input %s", got, raw)
	}
	// encoding/json compacts what a Marshaler returns; nothing else changes.
	var want bytes.Buffer
	if err := json.Compact(&want, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	got, err = json.Marshal(&le)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want.String() {
		t.Errorf("json.Marshal = %s\nwant %s", got, want.String())
	}
	// Edits do not change the JSON of a decoded event (documented).
	le.UUID = "edited"
	if got, _ := le.MarshalJSON(); string(got) != raw {
		t.Errorf("MarshalJSON after an edit = %s, want the original bytes", got)
	}

	// Through Parse, from a page, and inside an SSOEvent.
	b, err := events.Parse([]byte("[\n  " + raw + ",\n  " + leCreate + "\n]"))
	if err != nil || len(b.Events) != 2 {
		t.Fatalf("Parse: %v, %v", b, err)
	}
	for i, wantRaw := range []string{raw, leCreate} {
		if got, _ := b.Events[i].Okta.MarshalJSON(); string(got) != wantRaw {
			t.Errorf("event %d: Okta.MarshalJSON() = %s, want %s", i, got, wantRaw)
		}
	}
	enc, err := json.Marshal(b.Events[1])
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(enc, &fields); err != nil {
		t.Fatal(err)
	}
	if string(fields["okta"]) != leCreate {
		t.Errorf("SSOEvent JSON okta = %s, want %s", fields["okta"], leCreate)
	}
	var back events.SSOEvent
	if err := json.Unmarshal(enc, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stripOkta(t, b.Events[1:], true)[0], stripOkta(t, []events.SSOEvent{back}, true)[0]); diff != "" {
		t.Errorf("SSOEvent JSON round trip (-want +got):\n%s", diff)
	}
}

// TestLogEventMarshalBuilt: a LogEvent built in Go encodes its fields under
// Okta's names.
func TestLogEventMarshalBuilt(t *testing.T) {
	t.Parallel()
	le := events.LogEvent{
		UUID: "evt-go", Published: ts("2024-03-01T10:00:00Z"), EventType: "user.lifecycle.create", Version: "0", Severity: "INFO",
		Actor:   events.Actor{ID: "00uadmin", Type: "User", AlternateID: "admin@example.com"},
		Client:  events.Client{IPAddress: "192.0.2.1", GeographicalContext: events.GeographicalContext{Country: "France"}},
		Outcome: events.Outcome{Result: "SUCCESS"},
		Target:  []events.Target{{ID: "00u2", Type: "User", AlternateID: "bob@example.com", ChangeDetails: map[string]any{"from": "a"}}},
	}
	enc, err := json.Marshal(le)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(enc, &got); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{
		"uuid":                               "evt-go",
		"published":                          "2024-03-01T10:00:00Z",
		"eventType":                          "user.lifecycle.create",
		"severity":                           "INFO",
		"actor.alternateId":                  "admin@example.com",
		"client.ipAddress":                   "192.0.2.1",
		"client.geographicalContext.country": "France",
		"outcome.result":                     "SUCCESS",
		"securityContext.isProxy":            false,
		"authenticationContext.authenticationStep": float64(0),
	} {
		if v := lookup(got, path); !cmp.Equal(v, want) {
			t.Errorf("%s = %#v, want %#v (JSON %s)", path, v, want, enc)
		}
	}
	targets, _ := got["target"].([]any)
	if len(targets) != 1 || lookup(targets[0].(map[string]any), "changeDetails.from") != "a" {
		t.Errorf("target = %#v", got["target"])
	}
	var back events.LogEvent
	if err := json.Unmarshal(enc, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(le, back, cmpopts.IgnoreUnexported(events.LogEvent{}), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-built +decoded):\n%s", diff)
	}
	// A zero LogEvent encodes its (zero) fields, not nothing.
	if enc, err := json.Marshal(events.LogEvent{}); err != nil || !bytes.HasPrefix(enc, []byte(`{"uuid":""`)) {
		t.Errorf("json.Marshal(LogEvent{}) = %s, %v", enc, err)
	}
}

func lookup(m map[string]any, path string) any {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[k]
	}
	return v
}
