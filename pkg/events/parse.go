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
	// They say where the parser found the problem.
	Line, Column int
	Offset       int64
	// ValueLine, when not zero, is the line on which the JSON value holding
	// the problem starts, for a value that does not start on line 1. In
	// NDJSON a line cut short is only noticed on a later line: ValueLine
	// names the line to fix.
	ValueLine int
	Msg       string
}

func (e *SyntaxError) Error() string {
	if e.ValueLine > 0 && e.ValueLine != e.Line {
		return fmt.Sprintf("invalid JSON at line %d, column %d, in the value that starts on line %d: %s", e.Line, e.Column, e.ValueLine, e.Msg)
	}
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

// ErrNoEvents is returned by Parse for input that holds no event: nothing
// but white space, or only empty arrays and deliveries.
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
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return nil, ErrNoEvents
		case errors.As(err, &te):
			// The decoder checks the syntax of the whole value before it
			// decodes, so this is valid JSON of the wrong shape.
			return nil, fmt.Errorf("not an Okta event hook delivery: %w", decodeError(err))
		}
		return nil, jsonError(data, dec.InputOffset(), err)
	}
	if end := skipSpace(data, dec.InputOffset()); end < int64(len(data)) {
		line, col := position(data, end)
		return nil, &SyntaxError{Line: line, Column: col, Offset: end, Msg: "unexpected data after the delivery object"}
	}
	if env.Data == nil || env.Data.Events == nil {
		return nil, errors.New("not an Okta event hook delivery: data.events is missing")
	}
	hd := env.HookDelivery
	raws := *env.Data.Events
	hd.Events = make([]SSOEvent, 0, len(raws))
	for i, raw := range raws {
		ev, err := decodeLogEvent(raw)
		if err != nil {
			hd.Rejected = append(hd.Rejected, &EventError{Index: i + 1, EventID: ev.EventID, Err: err})
			continue
		}
		hd.Events = append(hd.Events, ev)
	}
	if len(hd.Rejected) > 0 {
		// Lines cost a pass over the body, so only errors pay for them.
		offs := locate(data, raws, bytes.Index(data, []byte(`"data"`)))
		for _, r := range hd.Rejected {
			r.Line, _ = position(data, offs[r.Index-1])
		}
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
	kindAuto itemKind = iota // not yet known: an array element
	kindLogEvent
	kindSSOEvent
	kindEnvelope
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
	ev, err := decodeItem(it)
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
		err = d.lines.syntaxError(err)
		var se *SyntaxError
		if errors.As(err, &se) {
			// Worth saying only for a value after the first line, as in
			// NDJSON: a document starting on line 1 is the whole input.
			if line, _ := d.lines.position(d.lines.skipSpace(start)); line > 1 {
				se.ValueLine = line
			}
		}
		return err
	}
	start = d.lines.skipSpace(start)
	startLine, _ := d.lines.position(start)
	defer d.lines.advance(d.dec.InputOffset())
	switch raw[0] {
	case '[':
		return d.queueArray(raw, start)
	case '{':
		kind, env, err := classifyObject(raw)
		if err != nil {
			d.count++
			return &EventError{Index: d.count, Line: startLine, Err: err}
		}
		if kind == kindEnvelope {
			offs := locate(raw, env, 0)
			for i := range offs {
				offs[i] += start
			}
			for i, line := range d.lines.lines(offs) {
				d.pending = append(d.pending, item{raw: env[i], line: line, kind: kindLogEvent})
			}
			return nil
		}
		d.pending = append(d.pending, item{raw: raw, line: startLine, kind: kind})
		return nil
	default:
		d.count++
		return &EventError{Index: d.count, Line: startLine, Err: fmt.Errorf("want a JSON object or array, got %s", describe(raw))}
	}
}

func (d *Decoder) queueArray(raw json.RawMessage, start int64) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	// raw is one value the stream decoder has already checked, so these
	// reads cannot fail on syntax.
	if _, err := dec.Token(); err != nil { // '['
		return fmt.Errorf("read array: %w", err)
	}
	var elems []json.RawMessage
	var offs []int64
	for dec.More() {
		elemStart := dec.InputOffset()
		var elem json.RawMessage
		if err := dec.Decode(&elem); err != nil {
			return fmt.Errorf("read array element: %w", err)
		}
		elems = append(elems, elem)
		offs = append(offs, d.lines.skipSpace(start+elemStart))
	}
	for i, line := range d.lines.lines(offs) {
		d.pending = append(d.pending, item{raw: elems[i], line: line})
	}
	return nil
}

// classifyObject reads the keys that tell a top-level object's kind: a hook
// delivery (data.events, whose events it returns), an SSOEvent (event_id or
// event_type) or a LogEvent. One decode, skipping everything else.
func classifyObject(raw json.RawMessage) (itemKind, []json.RawMessage, error) {
	var probe struct {
		Data      json.RawMessage  `json:"data"`
		EventID   *json.RawMessage `json:"event_id"`
		EventType *json.RawMessage `json:"event_type"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return 0, nil, decodeError(err)
	}
	if len(probe.Data) > 0 && probe.Data[0] == '{' {
		var data struct {
			Events *[]json.RawMessage `json:"events"`
		}
		if err := json.Unmarshal(probe.Data, &data); err != nil {
			return 0, nil, fmt.Errorf("data: %w", decodeError(err))
		}
		if data.Events != nil {
			return kindEnvelope, *data.Events, nil
		}
	}
	if probe.EventID != nil || probe.EventType != nil {
		return kindSSOEvent, nil, nil
	}
	return kindLogEvent, nil, nil
}

// decodeItem decodes one object that is an SSOEvent or a LogEvent; an
// element of an array is classified here, a top-level object already was.
func decodeItem(it item) (SSOEvent, error) {
	if len(it.raw) == 0 || it.raw[0] != '{' {
		return SSOEvent{}, fmt.Errorf("want a JSON object, got %s", describe(it.raw))
	}
	kind := it.kind
	if kind == kindAuto {
		k, _, err := classifyObject(it.raw)
		if err != nil {
			return SSOEvent{}, err
		}
		kind = k
		if kind == kindEnvelope {
			return SSOEvent{}, errors.New("an event hook delivery inside an array: send deliveries one per line")
		}
	}
	if kind == kindLogEvent {
		return decodeLogEvent(it.raw)
	}
	return decodeSSOEvent(it.raw)
}

func decodeSSOEvent(raw json.RawMessage) (SSOEvent, error) {
	var ev SSOEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return SSOEvent{EventID: idOf(raw)}, decodeError(err)
	}
	if err := ev.Validate(); err != nil {
		return ev, err
	}
	ev.Normalize()
	return ev, nil
}

// idOf digs the id out of an event that failed to decode, so that the error
// can name it.
func idOf(raw json.RawMessage) string {
	var ids struct {
		UUID    any `json:"uuid"`
		EventID any `json:"event_id"`
	}
	_ = json.Unmarshal(raw, &ids)
	for _, v := range []any{ids.UUID, ids.EventID} {
		if s, ok := v.(string); ok && s != "" {
			return s
		}
	}
	return ""
}

func decodeLogEvent(raw json.RawMessage) (SSOEvent, error) {
	le := new(LogEvent)
	if len(raw) == 0 || raw[0] != '{' {
		return SSOEvent{}, fmt.Errorf("want a LogEvent object, got %s", describe(raw))
	}
	// raw is one JSON value the caller's decoder has already checked, so
	// decode it directly rather than through json.Unmarshal, which would
	// scan it once more before calling UnmarshalJSON.
	if err := le.UnmarshalJSON(raw); err != nil {
		return SSOEvent{EventID: idOf(raw)}, decodeError(err)
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
			return fmt.Errorf("want %s, got JSON %s", jsonKind(te.Type.String()), te.Value)
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

// skipSpace returns the offset of the first byte at or after off in data
// that is not JSON white space, or len(data).
func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n':
			off++
		default:
			return off
		}
	}
	return off
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

// lines returns the 1-based line of each offset; the offsets must ascend
// and not be before the last advance. It counts each byte once.
func (t *lineTracker) lines(offs []int64) []int {
	out := make([]int, len(offs))
	line, pos := t.line, 0
	for i, off := range offs {
		n := int(min(max(off-t.base, 0), int64(len(t.buf))))
		if n > pos {
			line += bytes.Count(t.buf[pos:n], []byte{'\n'})
			pos = n
		}
		out[i] = line
	}
	return out
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

func (t *lineTracker) syntaxError(err error) error {
	var se *json.SyntaxError
	var off int64
	msg := "unexpected end of input"
	switch {
	case errors.As(err, &se):
		off = max(se.Offset-1, 0) // Offset counts the offending byte
		msg = se.Error()
	case errors.Is(err, io.ErrUnexpectedEOF):
		off = t.base + int64(len(t.buf))
	default:
		return fmt.Errorf("read events: %w", err) // the reader failed, not the JSON
	}
	line, col := t.position(off)
	return &SyntaxError{Line: line, Column: col, Offset: off, Msg: msg}
}
