package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ssoflow/ssoflow/internal/store"
	"github.com/ssoflow/ssoflow/pkg/events"
	"github.com/ssoflow/ssoflow/pkg/flows"
)

// postEvents takes one SSOEvent, a JSON array of them, NDJSON, or Okta
// LogEvents in the same shapes. Unlike the hook, it refuses the whole body
// when any event is unusable, so that the caller can fix and resend it
// without guessing what was kept.
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	b, err := events.Parse(body)
	if err != nil {
		s.badInput(w, "api", err)
		return
	}
	if len(b.Rejected) > 0 {
		s.deps.Metrics.Events.WithLabelValues("api", "rejected").Add(float64(len(b.Rejected)))
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%d of %d events are invalid; none were accepted", len(b.Rejected), len(b.Rejected)+len(b.Events)), rejectedDetails(b.Rejected))
		return
	}
	res, err := s.deps.Ingester.Ingest(r.Context(), b.Events)
	if err != nil {
		s.unavailable(w, err)
		return
	}
	s.count("api", res.Accepted, res.Duplicates, 0)
	writeJSON(w, http.StatusAccepted, res)
}

// eventView is an event as the API shows it.
type eventView struct {
	events.SSOEvent
	State      string    `json:"state"`
	ReceivedAt time.Time `json:"received_at"`
}

func viewOf(r *store.EventRecord) eventView {
	return eventView{SSOEvent: r.Event, State: r.State, ReceivedAt: r.ReceivedAt}
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	q := r.URL.Query()
	recs, err := s.deps.Events.List(r.Context(), store.EventQuery{EventType: q.Get("event_type"), UserID: q.Get("user_id"), Limit: limit})
	if err != nil {
		s.storeError(w, err)
		return
	}
	out := make([]eventView, len(recs))
	for i, rec := range recs {
		out[i] = viewOf(rec)
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}

// getEvent returns an event and the executions it triggered.
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	rec, err := s.deps.Events.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrEventNotFound) {
		writeError(w, http.StatusNotFound, "event not found", r.PathValue("id"))
		return
	}
	if err != nil {
		s.storeError(w, err)
		return
	}
	execs, err := s.deps.Executions.GetMany(r.Context(), rec.ExecutionIDs)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		eventView
		Executions []*flows.ExecutionResult `json:"executions"`
	}{viewOf(rec), execs})
}

// storeError answers a failed read: 503 when Redis cannot be reached in
// time.
func (s *Server) storeError(w http.ResponseWriter, err error) {
	s.deps.Log.Error().Err(err).Msg("store read failed")
	writeError(w, http.StatusServiceUnavailable, "the store is unavailable", err.Error())
}
