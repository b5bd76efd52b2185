// Package events holds ssoflow's event model: SSOEvent, the catalog of the
// seed's event types and the Okta event types behind them, and the parsers of
// everything Okta (or an operator) hands us: event hook deliveries, System Log
// pages, NDJSON exports of LogEvents and SSOEvent JSON.
//
// The package is pure: it does no I/O and holds no state, so it can be used
// anywhere an event needs to be read or checked.
package events
