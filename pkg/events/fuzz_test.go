package events_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ssoflow/ssoflow/pkg/events"
)

// fuzzSeeds are the test inputs of this package.
func fuzzSeeds() []string {
	seeds := streamInputs()
	seeds = append(seeds,
		leLoginOK, leLoginFail, leCreate, leNoUUID, leNoPublished, leBadActor, leBadTime, leBadTarget,
		ssoCreated, ssoFailure, ssoBadTime, ssoBadUser,
		delivery("eventID", "dlv-2", leLoginFail, `"x"`),
		delivery("eventId", "dlv-3"),
		`{"data":{"events":[]}}`+"\n"+`{"data":{"events":[]}}`,
		`{"data":{"events":null}}`, `{"data":5}`, `[]`, `[1, {}]`,
		`{"event_id":"e","event_type":"PASSWORD_EXPIRING","okta":{"uuid":"u","outcome":{"result":"FAILURE"}}}`,
	)
	return seeds
}

// checkEvents checks what must hold of every usable event and every
// rejection.
func checkEvents(t *testing.T, data []byte, evs []events.SSOEvent, rej []*events.EventError) {
	t.Helper()
	for i, ev := range evs {
		if ev.EventID == "" || ev.EventType == "" {
			t.Errorf("event %d: EventID %q, EventType %q; want both set", i, ev.EventID, ev.EventType)
		}
		if len(ev.EventID) > events.MaxIDLength {
			t.Errorf("event %d: EventID is %d bytes long", i, len(ev.EventID))
		}
		want := events.Classify(ev.EventType, ev.Outcome())
		if events.IsCatalogName(ev.EventType) && !slices.Contains(want, events.EventType(ev.EventType)) {
			want = append(want, events.EventType(ev.EventType))
		}
		if !slices.Equal(ev.Types, want) {
			t.Errorf("event %d (%s, outcome %q): Types = %v, want %v", i, ev.EventType, ev.Outcome(), ev.Types, want)
		}
	}
	lines := bytes.Count(data, []byte{'\n'}) + 1
	last := 0
	for _, r := range rej {
		if r.Index <= last {
			t.Errorf("rejection index %d after %d", r.Index, last)
		}
		last = r.Index
		if r.Line < 1 || r.Line > lines {
			t.Errorf("rejection %d: line %d, input has %d lines", r.Index, r.Line, lines)
		}
		if r.Err == nil {
			t.Errorf("rejection %d has no Err", r.Index)
		}
	}
}

// checkSyntax checks that a *SyntaxError points into the input, at the line
// and column its offset has.
func checkSyntax(t *testing.T, data []byte, se *events.SyntaxError) {
	t.Helper()
	if se.Line < 1 || se.Column < 1 {
		t.Fatalf("SyntaxError at line %d, column %d", se.Line, se.Column)
	}
	if se.Offset < 0 || se.Offset > int64(len(data)) {
		t.Fatalf("SyntaxError offset %d outside the %d-byte input", se.Offset, len(data))
	}
	before := data[:se.Offset]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := len(before) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	if se.Line != line || se.Column != col {
		t.Errorf("SyntaxError at line %d, column %d, but offset %d is line %d, column %d", se.Line, se.Column, se.Offset, line, col)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := events.Parse(data)
		var se *events.SyntaxError
		switch {
		case err == nil:
			if b == nil || len(b.Events)+len(b.Rejected) == 0 {
				t.Fatalf("Parse = %+v, nil; want events or an error", b)
			}
			checkEvents(t, data, b.Events, b.Rejected)
		case errors.As(err, &se):
			checkSyntax(t, data, se)
		case errors.Is(err, events.ErrNoEvents):
			if len(bytes.TrimSpace(data)) != 0 && !bytes.HasPrefix(bytes.TrimSpace(data), []byte("[")) && !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
				t.Errorf("ErrNoEvents for %q", data)
			}
		default:
			t.Fatalf("Parse error %v (%T) is neither a *SyntaxError nor ErrNoEvents", err, err)
		}
		// A stream read one byte at a time gives the same.
		want := parseOutcome(data)
		got := decodeAll(iotest.OneByteReader(bytes.NewReader(data)))
		if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(events.LogEvent{})); diff != "" {
			t.Errorf("Decoder differs from Parse (-Parse +Decoder):\n%s", diff)
		}
	})
}

func FuzzParseHookDelivery(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		hd, err := events.ParseHookDelivery(data)
		var se *events.SyntaxError
		switch {
		case err == nil:
			if hd == nil {
				t.Fatal("ParseHookDelivery = nil, nil")
			}
			checkEvents(t, data, hd.Events, hd.Rejected)
			for _, r := range hd.Rejected {
				if r.Index > len(hd.Events)+len(hd.Rejected) {
					t.Errorf("rejection index %d of %d events", r.Index, len(hd.Events)+len(hd.Rejected))
				}
			}
		case hd != nil:
			t.Fatalf("ParseHookDelivery returned a delivery and %v", err)
		case errors.As(err, &se):
			checkSyntax(t, data, se)
		case errors.Is(err, events.ErrNoEvents):
			if len(bytes.TrimSpace(data)) != 0 {
				t.Errorf("ErrNoEvents for %q", data)
			}
		case strings.HasPrefix(err.Error(), "not an Okta event hook delivery"):
		default:
			t.Fatalf("unexpected error %v (%T)", err, err)
		}
	})
}
