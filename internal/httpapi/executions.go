package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/ssoflow/ssoflow/pkg/flows"
)

func (s *Server) listExecutions(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	q := r.URL.Query()
	status := flows.Status(q.Get("status"))
	if status != "" && !status.Valid() {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("status must be one of %v, got %q", flows.Statuses, status), nil)
		return
	}
	execs, err := s.deps.Executions.List(r.Context(), flows.Query{FlowID: q.Get("flow_id"), Status: status, Limit: limit})
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"executions": execs})
}

func (s *Server) getExecution(w http.ResponseWriter, r *http.Request) {
	e, err := s.deps.Executions.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, flows.ErrNotFound) {
		writeError(w, http.StatusNotFound, "execution not found", r.PathValue("id"))
		return
	}
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) listFlows(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"flows": s.deps.Registry.List(r.URL.Query().Get("type"))})
}
