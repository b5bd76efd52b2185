// Package flows runs Okta Workflows flows and keeps track of their
// executions: the Connector interface that invokes a flow and reads its
// status, the mock connector with the seed's five demo flows, the flow
// registry, ExecutionResult and its statuses, and the History interface
// behind which executions are stored.
//
// Okta Workflows has no API for a flow's execution status or history, so an
// execution's state is ssoflow's to keep: a flow answers synchronously (its
// Return card), or answers early and reports completion later.
package flows
