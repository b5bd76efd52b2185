// Package metrics defines ssoflow's Prometheus metrics. Recording is a
// counter or histogram update: it never blocks the hot path.
package metrics

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the collectors one process registers.
type Metrics struct {
	// Events counts events by source (hook, api) and result (accepted,
	// duplicate, rejected).
	Events *prometheus.CounterVec
	// HTTPRequests counts API requests by route and status code.
	HTTPRequests *prometheus.CounterVec
	// Tasks counts handled tasks by type and outcome (ok, retry, failed).
	Tasks *prometheus.CounterVec
	// TaskSeconds observes task handling time by type.
	TaskSeconds *prometheus.HistogramVec
}

// New creates the collectors and registers them with reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssoflow_events_total",
			Help: "Events received, by source and result.",
		}, []string{"source", "result"}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssoflow_http_requests_total",
			Help: "HTTP API requests, by route and status code.",
		}, []string{"route", "code"}),
		Tasks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssoflow_tasks_total",
			Help: "Queue tasks handled, by type and outcome.",
		}, []string{"type", "outcome"}),
		TaskSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ssoflow_task_duration_seconds",
			Help:    "Time spent handling queue tasks, by type.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}, []string{"type"}),
	}
	reg.MustRegister(m.Events, m.HTTPRequests, m.Tasks, m.TaskSeconds)
	return m
}
