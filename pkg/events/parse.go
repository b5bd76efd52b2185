package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// SyntaxError reports input that is not valid JSON, and where.
type SyntaxError struct {
	// Line and Column are 1-based; Offset is the byte offset in the input.
	Line, Column int
	Offset       int64
	Msg          string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// EventError reports one event that cannot be used, and where it was.
type EventError struct {
	// Index is the 1-based position of the event in the input.
	Index int
	// Line is the line on which the event starts.
	Line int
	// EventID is the event's id, when it has one.
	EventID string
	// Err is the problem.
	Err error
}

func (e *EventError) Error() string {
	id := ""
	if e.EventID != "" {
		id = fmt.Sprintf(", id %q", e.EventID)
	}
	return fmt.Sprintf("event %d (line %d%s): %v", e.Index, e.Line, id, e.Err)
}

func (e *EventError) Unwrap() error { return e.Err }

// ErrNoEvents is returned for input that holds no JSON value at all.
var ErrNoEvents = errors.New("no events: the input is empty")

// Batch is what a parse of one input produced.
type Batch struct {
	// Events are the usable events, in input order.
	Events []SSOEvent
	// Rejected are the events that could not be used.
	Rejected []*EventError
}

// Err joins the Rejected errors, or returns nil when there are none.
func (b *Batch) Err() error {
	errs := make([]error, len(b.Rejected))
	for i, e := range b.Rejected {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// Parse reads events in every format ssoflow accepts, recognised per JSON
// value: an Okta event hook delivery (an object holding data.events), a
// System Log page (a JSON array of LogEvents), NDJSON or concatenated JSON of
// LogEvents, deliveries or SSOEvents, and SSOEvent JSON (one object or an
// array). Each event is validated and normalised.
//
// A syntax error ends the parse with a *SyntaxError naming the line and
// column. An unusable event does not: it is listed in Batch.Rejected and the
// other events are kept. The caller decides whether one bad event spoils
// the batch.
func Parse(data []byte) (*Batch, error) {
	d := NewDecoder(bytes.NewReader(data))
	b := &Batch{}
	for {
		ev, err := d.Next()
		var evErr *EventError
		switch {
		case err == nil:
			b.Events = append(b.Events, ev)
		case errors.As(err, &evErr):
			b.Rejected = append(b.Rejected, evErr)
		case errors.Is(err, io.EOF):
			if d.Count() == 0 {
				return nil, ErrNoEvents
			}
			return b, nil
		default:
			return nil, err
		}
	}
}

// HookDelivery is an Okta event hook delivery: the envelope, and the events
// of its data.events parsed into SSOEvents.
type HookDelivery struct {
	// EventType is "com.okta.event_hook".
	EventType string `json:"eventType"`
	// EventTypeVersion is "1.0".
	EventTypeVersion string `json:"eventTypeVersion"`
	// CloudEventsVersion is "0.1".
	CloudEventsVersion string `json:"cloudEventsVersion"`
	// Source is the hook's URL in Okta.
	Source string `json:"source"`
	// EventID identifies the delivery (early payloads spelt it eventID; both
	// spellings are read).
	EventID string `json:"eventId"`
	// EventTime is when Okta sent the delivery.
	EventTime string `json:"eventTime"`
	// ContentType is the payload's media type.
	ContentType string `json:"contentType"`
	// Batch holds the delivery's events and the ones that were unusable.
	Batch `json:"-"`
}

type envelope struct {
	HookDelivery
	Data *struct {
		Events *[]json.RawMessage `json:"events"`
	} `json:"data"`
}

// ParseHookDelivery reads one Okta event hook delivery. The body must be a
// single JSON object with a data.events array; anything else is an error. An
// unusable event inside is listed in Rejected, the others are kept: Okta
// never redelivers after a 4xx, so refusing the whole delivery for one bad
// event would lose the good ones.
func ParseHookDelivery(data []byte) (*HookDelivery, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var env envelope
	if err := dec.Decode(&env); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrNoEvents
		}
		return nil, jsonError(data, dec.InputOffset(), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		off := dec.InputOffset()
		line, col := position(data, off)
		return nil, &SyntaxError{Line: line, Column: col, Offset: off, Msg: "unexpected data after the delivery object"}
	}
	if env.Data == nil || env.Data.Events == nil {
		return nil, errors.New("not an Okta event hook delivery: data.events is missing")
	}
	hd := env.HookDelivery
	offs := locate(data, *env.Data.Events, bytes.Index(data, []byte(`"data"`)))
	for i, raw := range *env.Data.Events {
		line, _ := position(data, offs[i])
		ev, err := decodeLogEvent(raw)
		if err != nil {
			hd.Rejected = append(hd.Rejected, &EventError{Index: i + 1, Line: line, EventID: ev.EventID, Err: err})
			continue
		}
		hd.Events = append(hd.Events, ev)
	}
	return &hd, nil
}

// locate returns the offsets in data at which each of raws starts. The raws
// are copies of values that appear in data in this order, so each is found by
// searching on from the end of the one before.
func locate(data []byte, raws []json.RawMessage, from int) []int64 {
	offs := make([]int64, len(raws))
	pos := max(from, 0)
	for i, raw := range raws {
		probe := raw[:min(len(raw), 64)]
		if j := bytes.Index(data[pos:], probe); j >= 0 {
			pos += j
		}
		offs[i] = int64(pos)
		pos = min(pos+len(raw), len(data))
	}
	return offs
}

// Decoder reads events one at a time from a stream in any of the formats
// Parse accepts, so that large replay files need not fit in memory (a single
// JSON array or delivery is read whole).
type Decoder struct {
	dec     *json.Decoder
	lines   *lineTracker
	pending []item
	count   int
}

type item struct {
	raw  json.RawMessage
	line int
	kind itemKind
}

type itemKind int

const (
	kindAuto itemKind = iota
	kindLogEvent
)

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	t := &lineTracker{r: r, line: 1}
	dec := json.NewDecoder(t)
	dec.UseNumber()
	return &Decoder{dec: dec, lines: t}
}

// Count returns how many events Next has returned so far, usable or not.
func (d *Decoder) Count() int { return d.count }

// Next returns the next event. At the end of the input it returns io.EOF. An
// *EventError means that this one event is unusable and decoding can go on;
// any other error (a *SyntaxError) ends the stream.
func (d *Decoder) Next() (SSOEvent, error) {
	for len(d.pending) == 0 {
		if err := d.readValue(); err != nil {
			return SSOEvent{}, err
		}
	}
	it := d.pending[0]
	d.pending = d.pending[1:]
	d.count++
	var ev SSOEvent
	var err error
	if it.kind == kindLogEvent {
		ev, err = decodeLogEvent(it.raw)
	} else {
		ev, err = decodeAny(it.raw)
	}
	if err != nil {
		return SSOEvent{}, &EventError{Index: d.count, Line: it.line, EventID: ev.EventID, Err: err}
	}
	return ev, nil
}

// readValue reads one top-level JSON value and queues the events in it.
func (d *Decoder) readValue() error {
	start := d.dec.InputOffset()
	var raw json.RawMessage
	if err := d.dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return d.lines.syntaxError(d.dec.InputOffset(), err)
	}
	start = d.lines.skipSpace(start)
	startLine, _ := d.lines.position(start)
	defer d.lines.advance(d.dec.InputOffset())
	switch raw[0] {
	case '[':
		return d.queueArray(raw, start)
	case '{':
		env, ok, err := asEnvelope(raw)
		if err != nil {
			d.count++
			return &EventError{Index: d.count, Line: startLine, Err: err}
		}
		if ok {
			for i, off := range locate(raw, env, 0) {
				line, _ := d.lines.position(start + off)
				d.pending = append(d.pending, item{raw: env[i], line: line, kind: kindLogEvent})
			}
			return nil
		}
		d.pending = append(d.pending, item{raw: raw, line: startLine})
		return nil
	default:
		d.count++
		return &EventError{Index: d.count, Line: startLine, Err: fmt.Errorf("want a JSON object or array, got %s", describe(raw))}
	}
}

func (d *Decoder) queueArray(raw json.RawMessage, start int64) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '['
		return d.lines.syntaxError(start+dec.InputOffset(), err)
	}
	for dec.More() {
		elemStart := dec.InputOffset()
		var elem json.RawMessage
		if err := dec.Decode(&elem); err != nil {
			return d.lines.syntaxError(start+dec.InputOffset(), err)
		}
		line, _ := d.lines.position(d.lines.skipSpace(start + elemStart))
		d.pending = append(d.pending, item{raw: elem, line: line})
	}
	return nil
}

// asEnvelope reports whether raw is an event hook delivery and returns its
// events.
func asEnvelope(raw json.RawMessage) ([]json.RawMessage, bool, error) {
	var probe struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, false, decodeError(err)
	}
	if len(probe.Data) == 0 || probe.Data[0] != '{' {
		return nil, false, nil
	}
	var data struct {
		Events *[]json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(probe.Data, &data); err != nil {
		return nil, false, fmt.Errorf("data: %w", decodeError(err))
	}
	if data.Events == nil {
		return nil, false, nil
	}
	return *data.Events, true, nil
}

// decodeAny decodes one object that is either an SSOEvent or a LogEvent.
func decodeAny(raw json.RawMessage) (SSOEvent, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return SSOEvent{}, fmt.Errorf("want a JSON object, got %s", describe(raw))
	}
	var probe struct {
		EventID   *json.RawMessage `json:"event_id"`
		EventType *json.RawMessage `json:"event_type"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return SSOEvent{}, decodeError(err)
	}
	if probe.EventID == nil && probe.EventType == nil {
		return decodeLogEvent(raw)
	}
	var ev SSOEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return SSOEvent{}, decodeError(err)
	}
	if err := ev.Validate(); err != nil {
		return ev, err
	}
	ev.Normalize()
	return ev, nil
}

func decodeLogEvent(raw json.RawMessage) (SSOEvent, error) {
	le := new(LogEvent)
	if len(raw) == 0 || raw[0] != '{' {
		return SSOEvent{}, fmt.Errorf("want a LogEvent object, got %s", describe(raw))
	}
	if err := json.Unmarshal(raw, le); err != nil {
		return SSOEvent{}, decodeError(err)
	}
	if err := le.Validate(); err != nil {
		return SSOEvent{EventID: le.UUID}, err
	}
	return FromLogEvent(le), nil
}

// decodeError turns encoding/json's errors into messages that name the
// field in the input's own spelling.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf("want %s, got JSON %s", te.Type, te.Value)
		}
		return fmt.Errorf("%s: want %s, got JSON %s", te.Field, jsonKind(te.Type.String()), te.Value)
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("time %q is not RFC 3339", pe.Value)
	}
	return err
}

func jsonKind(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "int", "int64", "float64":
		return "a number"
	case "bool":
		return "true or false"
	}
	if len(goType) > 2 && goType[:2] == "[]" {
		return "an array"
	}
	return "an object"
}

func describe(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '[':
		return "an array"
	case '{':
		return "an object"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func jsonError(data []byte, off int64, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off = max(se.Offset-1, 0) // Offset counts the offending byte
	case errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(data))
	}
	line, col := position(data, off)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &SyntaxError{Line: line, Column: col, Offset: off, Msg: "unexpected end of input"}
	}
	if se != nil {
		return &SyntaxError{Line: line, Column: col, Offset: off, Msg: se.Error()}
	}
	return &SyntaxError{Line: line, Column: col, Offset: off, Msg: decodeError(err).Error()}
}

// position returns the 1-based line and column of byte offset off in data.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// lineTracker passes reads through and keeps the bytes the JSON decoder has
// not yet finished with, so that offsets can be turned into lines without
// holding the whole stream.
type lineTracker struct {
	r    io.Reader
	buf  []byte // bytes from offset base on
	base int64
	line int // the line at offset base
	col  int // the column at offset base, 0-based
}

func (t *lineTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// advance forgets the bytes before off, counting their lines.
func (t *lineTracker) advance(off int64) {
	n := int(min(max(off-t.base, 0), int64(len(t.buf))))
	done := t.buf[:n]
	if nl := bytes.Count(done, []byte{'\n'}); nl > 0 {
		t.line += nl
		t.col = n - (bytes.LastIndexByte(done, '\n') + 1)
	} else {
		t.col += n
	}
	t.buf = append(t.buf[:0], t.buf[n:]...)
	t.base += int64(n)
}

// position returns the 1-based line and column of off, which must not be
// before the last advance.
func (t *lineTracker) position(off int64) (line, col int) {
	n := int(min(max(off-t.base, 0), int64(len(t.buf))))
	before := t.buf[:n]
	if nl := bytes.Count(before, []byte{'\n'}); nl > 0 {
		return t.line + nl, n - (bytes.LastIndexByte(before, '\n') + 1) + 1
	}
	return t.line, t.col + n + 1
}

// skipSpace returns the offset of the first byte at or after off that is
// neither white space nor a comma.
func (t *lineTracker) skipSpace(off int64) int64 {
	n := int(min(max(off-t.base, 0), int64(len(t.buf))))
	for n < len(t.buf) && (t.buf[n] == ' ' || t.buf[n] == '\t' || t.buf[n] == '\r' || t.buf[n] == '\n' || t.buf[n] == ',') {
		n++
	}
	return t.base + int64(n)
}

func (t *lineTracker) syntaxError(off int64, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off = max(se.Offset-1, 0) // Offset counts the offending byte
	case errors.Is(err, io.ErrUnexpectedEOF):
		off = t.base + int64(len(t.buf))
	}
	line, col := t.position(off)
	msg := "unexpected end of input"
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
	case se != nil:
		msg = se.Error()
	default:
		msg = err.Error()
	}
	return &SyntaxError{Line: line, Column: col, Offset: off, Msg: msg}
}
