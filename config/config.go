// Package config holds ssoflow's example configuration: the default trigger
// rules and the flow registry of the mock flows. `ssoflow dev` runs with
// them when SSOFLOW_RULES and SSOFLOW_FLOWS are not set, and operators copy
// the YAML files as a start for their own.
package config

import _ "embed"

// Rules is rules.yaml: the default trigger rules.
//
//go:embed rules.yaml
var Rules []byte

// Flows is flows.yaml: the registry of the five mock flows.
//
//go:embed flows.yaml
var Flows []byte
