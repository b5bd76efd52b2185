package httpapi

import (
	"errors"
	"net/http"

	"github.com/ssoflow/ssoflow/pkg/events"
)

// verifyHook answers Okta's one-time verification of an event hook: the
// challenge header's value echoed back as {"verification": ...}.
func (s *Server) verifyHook(w http.ResponseWriter, r *http.Request) {
	challenge := r.Header.Get("X-Okta-Verification-Challenge")
	if challenge == "" {
		writeError(w, http.StatusBadRequest, "missing X-Okta-Verification-Challenge header", nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"verification": challenge})
}

// hookResponse is the answer to an event hook delivery.
type hookResponse struct {
	Accepted   int              `json:"accepted"`
	Duplicates int              `json:"duplicates"`
	Rejected   []rejectedDetail `json:"rejected,omitempty"`
}

type rejectedDetail struct {
	Index   int    `json:"index"`
	Line    int    `json:"line"`
	EventID string `json:"event_id,omitempty"`
	Error   string `json:"error"`
}

func rejectedDetails(errs []*events.EventError) []rejectedDetail {
	out := make([]rejectedDetail, len(errs))
	for i, e := range errs {
		out[i] = rejectedDetail{Index: e.Index, Line: e.Line, EventID: e.EventID, Error: e.Err.Error()}
	}
	return out
}

// receiveHook takes an Okta event hook delivery. It answers 200 only once
// every usable event is durable; 503 when Redis is down, so that Okta
// retries (it never retries a 4xx). Unusable events inside an otherwise good
// delivery are reported and counted, not allowed to sink the others.
func (s *Server) receiveHook(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	d, err := events.ParseHookDelivery(body)
	if err != nil {
		s.badInput(w, "hook", err)
		return
	}
	res, err := s.deps.Ingester.Ingest(r.Context(), d.Events)
	if err != nil {
		s.unavailable(w, err)
		return
	}
	s.count("hook", res.Accepted, res.Duplicates, len(d.Rejected))
	if len(d.Rejected) > 0 {
		s.deps.Log.Warn().Str("delivery_id", d.EventID).Int("rejected", len(d.Rejected)).Err(d.Err()).Msg("event hook delivery held unusable events")
	}
	writeJSON(w, http.StatusOK, hookResponse{Accepted: res.Accepted, Duplicates: res.Duplicates, Rejected: rejectedDetails(d.Rejected)})
}

// badInput answers 400 for a body that cannot be parsed, saying where.
func (s *Server) badInput(w http.ResponseWriter, source string, err error) {
	s.deps.Metrics.Events.WithLabelValues(source, "malformed").Inc()
	var se *events.SyntaxError
	switch {
	case errors.As(err, &se):
		detail := map[string]any{"line": se.Line, "column": se.Column, "offset": se.Offset}
		if se.ValueLine > 0 && se.ValueLine != se.Line {
			detail["value_line"] = se.ValueLine // the line to fix
		}
		writeError(w, http.StatusBadRequest, err.Error(), detail)
	default:
		writeError(w, http.StatusBadRequest, err.Error(), nil)
	}
}

// unavailable answers 503 when the events could not be made durable.
func (s *Server) unavailable(w http.ResponseWriter, err error) {
	s.deps.Log.Error().Err(err).Msg("events not stored: answering 503")
	writeError(w, http.StatusServiceUnavailable, "events could not be stored; nothing was acknowledged, retry later", err.Error())
}

func (s *Server) count(source string, accepted, duplicates, rejected int) {
	m := s.deps.Metrics.Events
	m.WithLabelValues(source, "accepted").Add(float64(accepted))
	m.WithLabelValues(source, "duplicate").Add(float64(duplicates))
	m.WithLabelValues(source, "rejected").Add(float64(rejected))
}
